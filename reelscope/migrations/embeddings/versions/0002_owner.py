"""Owners: every collection names who made it ('local' on one machine, the verified user's
email behind IAP), so a team can tell mine from the team's.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Collections from before owners belong to the one local user, who made them.
    op.execute("ALTER TABLE collections ADD COLUMN owner TEXT NOT NULL DEFAULT 'local'")
