"""The Gemini Files API files Reelscope uploaded, by content: reused while they live.

One row per upload's content hash (sha256): the file's name ("files/…"), the URI a request
names, its MIME type and when the service deletes it (48 h after the upload).
reelscope/gemini_files.py reads and writes it.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE gemini_files (
            sha256 TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            uri TEXT NOT NULL,
            mime_type TEXT NOT NULL,
            expires_at TEXT NOT NULL
        )
        """
    )
