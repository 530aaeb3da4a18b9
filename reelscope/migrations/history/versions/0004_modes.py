"""Analysis modes: the users' own modes (reelscope/store/modes.py), until now a JSON file in
each instance's data folder, kept beside saved prompts so that every instance sees them. The
file is imported once when a store first opens on that data folder (`ModeStore.import_file`).

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE TABLE modes ("
        "id TEXT PRIMARY KEY, "
        "owner TEXT NOT NULL, "
        "name TEXT NOT NULL, "
        "kind TEXT NOT NULL, "
        "prompt TEXT NOT NULL, "
        "saved_at TEXT NOT NULL)"
    )
    # The picker lists one owner's modes by name.
    op.execute("CREATE INDEX modes_owner ON modes(owner, name)")
