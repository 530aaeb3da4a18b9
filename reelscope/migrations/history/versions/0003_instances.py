"""Runs across instances: which instance streams a run, the heartbeat it refreshes while the
run streams, and a stop request any instance may write for the owning one to act on
(reelscope/instance.py, reelscope/store/liveness.py).

Times are seconds since the epoch (time.time()). Runs from before this migration have no
instance and no heartbeat: one still 'running' is stale, and is closed as interrupted.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    real = "DOUBLE PRECISION" if op.get_bind().dialect.name == "postgresql" else "REAL"
    op.execute("ALTER TABLE runs ADD COLUMN instance TEXT")
    op.execute(f"ALTER TABLE runs ADD COLUMN heartbeat_at {real}")
    op.execute(f"ALTER TABLE runs ADD COLUMN stop_requested_at {real}")
    op.execute("ALTER TABLE runs ADD COLUMN stop_requested_by TEXT")
    # The live runs are few among many: their instance and owner are looked up by status.
    op.execute("CREATE INDEX runs_live ON runs(status, instance, owner)")
