"""The run history as the last user_version schema left it (v4): runs, event batches,
attachments, run sources, saved prompts, and search.

SQLite: the file's own `PRAGMA user_version` says how far the earlier migrations got
(reelscope/store/schema.py, kept as they were); the rest are applied here, so a file made by
any earlier Reelscope (v1 to v4) is upgraded in place, keeping every row, and a new file gets
exactly the schema those versions built. Search is FTS5 with the trigram tokenizer.

PostgreSQL: the same tables and indexes. Search is pg_trgm: GIN trigram indexes on the prompt
and the answer serve `ILIKE '%term%'` (any part of a word, as FTS5's trigram tokenizer does),
kept up to date by PostgreSQL itself. `rowid` is an identity column standing in for SQLite's
implicit rowid, so "newest first, then last inserted" is the same SQL on both.

Revision ID: 0001
Revises:
"""

from alembic import op

from reelscope.migrations import finish_user_version_migrations

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_POSTGRESQL = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE runs (
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    model_id TEXT NOT NULL,
    prompt TEXT NOT NULL,
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    finish_reason TEXT,
    output_text TEXT NOT NULL DEFAULT '',
    prompt_tokens INTEGER,
    output_tokens INTEGER,
    thinking_tokens INTEGER,
    total_tokens INTEGER,
    cost_usd DOUBLE PRECISION,
    error TEXT,
    ended_at DOUBLE PRECISION,
    app_version TEXT NOT NULL,
    origin TEXT NOT NULL DEFAULT 'local',
    deleted_at TEXT,
    search_indexed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE event_batches (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    first_seq INTEGER NOT NULL,
    count INTEGER NOT NULL,
    events TEXT NOT NULL,
    PRIMARY KEY (run_id, first_seq)
);
CREATE TABLE attachments (
    sha256 TEXT PRIMARY KEY,
    size BIGINT,
    mime_type TEXT NOT NULL,
    label TEXT NOT NULL,
    first_seen TEXT NOT NULL
);
CREATE TABLE run_sources (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    uri TEXT,
    sha256 TEXT REFERENCES attachments(sha256),
    PRIMARY KEY (run_id, position)
);
CREATE TABLE prompts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    text TEXT NOT NULL,
    variables TEXT NOT NULL DEFAULT '[]',
    built_in INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX runs_listed ON runs(deleted_at, started_at DESC);
CREATE INDEX runs_model ON runs(model_id, deleted_at, started_at DESC);
CREATE INDEX runs_status ON runs(status, deleted_at, started_at DESC);
CREATE INDEX runs_unindexed ON runs(search_indexed);
CREATE INDEX runs_prompt_trigrams ON runs USING gin (prompt gin_trgm_ops);
CREATE INDEX runs_output_trigrams ON runs USING gin (output_text gin_trgm_ops)
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        from reelscope.store.schema import MIGRATIONS  # the user_version steps, as they were

        finish_user_version_migrations(bind.connection.driver_connection, MIGRATIONS)
    else:
        for statement in _POSTGRESQL.split(";"):
            op.execute(statement)
