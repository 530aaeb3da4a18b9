"""The media library's index as the last user_version schema left it (v1): one row per kept
upload or link, with its owner, probe facts, shot cuts and staged gs:// copy.

SQLite: a `library.sqlite` made by an earlier Reelscope is upgraded in place (its user_version
steps, reelscope/library.py's MIGRATIONS, finished); PostgreSQL: the same table.

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
CREATE TABLE items (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    owner TEXT NOT NULL,
    added_at TEXT NOT NULL,
    used_at TEXT NOT NULL,
    sha256 TEXT,
    size BIGINT,
    uri TEXT,
    staged_uri TEXT,
    probe TEXT,
    cuts TEXT
);
CREATE INDEX items_used ON items(owner, used_at DESC)
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        from reelscope.library import MIGRATIONS  # the user_version steps, as they were

        finish_user_version_migrations(bind.connection.driver_connection, MIGRATIONS)
    else:
        for statement in _POSTGRESQL.split(";"):
            op.execute(statement)
