"""Stored embedding jobs: a job's definition and each item's state, so a server restart resumes
it where it stopped (reelscope/embeddings/job_book.py). A job's rows go when it ends. The
instance running a job refreshes `alive_at` (time.time()): with a shared database, another
instance resumes a job only once that is stale (its instance died with it).

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE embed_jobs (
            id TEXT PRIMARY KEY,
            collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
            model_id TEXT NOT NULL, dimension INTEGER NOT NULL, concurrency INTEGER NOT NULL,
            owner TEXT NOT NULL, label TEXT NOT NULL, origin TEXT, created_at TEXT NOT NULL,
            instance TEXT NOT NULL, alive_at DOUBLE PRECISION NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE embed_job_items (
            job_id TEXT NOT NULL REFERENCES embed_jobs(id) ON DELETE CASCADE,
            position INTEGER NOT NULL, item TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending', reason TEXT,
            PRIMARY KEY (job_id, position)
        )
        """
    )
