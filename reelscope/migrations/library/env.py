"""Alembic's entry for the media library's index (reelscope/migrations/__init__.py)."""

from reelscope.migrations import run_migrations

run_migrations()
