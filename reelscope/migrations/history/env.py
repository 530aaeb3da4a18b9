"""Alembic's entry for the run history store (reelscope/migrations/__init__.py)."""

from reelscope.migrations import run_migrations

run_migrations()
