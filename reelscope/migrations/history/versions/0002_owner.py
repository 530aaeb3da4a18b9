"""Owners: every run and saved prompt names who made it ('local' on one machine, the verified
user's email behind IAP), so a team's history can show mine and the team's.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows from before owners belong to the one local user, who made them.
    op.execute("ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT 'local'")
    op.execute("ALTER TABLE prompts ADD COLUMN owner TEXT NOT NULL DEFAULT 'local'")
    op.execute("CREATE INDEX runs_owner ON runs(owner, deleted_at, started_at DESC)")
