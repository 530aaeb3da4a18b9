"""The embedding collections' metadata as the last user_version schema left it (v1):
collections, their rows (what each vector is), the vector cache and stored projections. The
vectors themselves stay in .npy files in the data folder.

SQLite: an `embeddings.sqlite` made by an earlier Reelscope is upgraded in place (its
user_version steps, reelscope/embeddings/store.py's MIGRATIONS, finished); PostgreSQL: the same
tables, BYTEA for the cache's packed arrays.

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
CREATE TABLE collections (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, model_id TEXT NOT NULL,
    dimension INTEGER NOT NULL, count INTEGER NOT NULL DEFAULT 0,
    content_hash TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL, imported INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE rows (
    collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    row INTEGER NOT NULL, kind TEXT NOT NULL, label TEXT NOT NULL, source TEXT NOT NULL,
    source_key TEXT NOT NULL, start_s DOUBLE PRECISION, end_s DOUBLE PRECISION, text TEXT,
    mime_type TEXT, blob_sha TEXT, uri TEXT, PRIMARY KEY (collection_id, row)
);
CREATE TABLE cache (
    key TEXT PRIMARY KEY, dimension INTEGER NOT NULL, count INTEGER NOT NULL,
    spans BYTEA NOT NULL, vectors BYTEA NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE projections (
    collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    key TEXT NOT NULL, method TEXT NOT NULL, note TEXT, params TEXT NOT NULL,
    PRIMARY KEY (collection_id, key)
)
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        from reelscope.embeddings.store import MIGRATIONS  # the user_version steps, as they were

        finish_user_version_migrations(bind.connection.driver_connection, MIGRATIONS)
    else:
        for statement in _POSTGRESQL.split(";"):
            op.execute(statement)
