"""Alembic's entry for the embedding collections' metadata (reelscope/migrations/__init__.py)."""

from reelscope.migrations import run_migrations

run_migrations()
