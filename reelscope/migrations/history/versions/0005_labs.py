"""Labs: a prompt × videos × models grid kept as one lab, its cells pointing at their runs, and
the Vertex AI batch jobs it submitted (their ids kept, so polling resumes after a restart and
nothing is submitted twice).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE TABLE labs ("
        "id TEXT PRIMARY KEY, "
        "owner TEXT NOT NULL, "
        "name TEXT NOT NULL, "
        "how TEXT NOT NULL, "
        "spec TEXT NOT NULL, "
        "created_at TEXT NOT NULL)"
    )
    op.execute("CREATE INDEX labs_owner ON labs(owner, created_at)")
    # One row a cell: its run once it has one (online: when it starts; batch: when its result
    # is read), the batch job it went in, or why it was left out.
    op.execute(
        "CREATE TABLE lab_cells ("
        "lab_id TEXT NOT NULL REFERENCES labs(id) ON DELETE CASCADE, "
        "cell_key TEXT NOT NULL, "
        "run_id TEXT, "
        "job_id TEXT, "
        "refusal TEXT, "
        "ttft_s REAL, "
        "PRIMARY KEY (lab_id, cell_key))"
    )
    op.execute(
        "CREATE TABLE lab_jobs ("
        "id TEXT PRIMARY KEY, "
        "lab_id TEXT NOT NULL REFERENCES labs(id) ON DELETE CASCADE, "
        "owner TEXT NOT NULL, "
        "model_id TEXT NOT NULL, "
        "display_name TEXT NOT NULL, "
        "name TEXT, "
        "state TEXT NOT NULL, "
        "requests_uri TEXT NOT NULL, "
        "output_prefix TEXT NOT NULL, "
        "info TEXT, "
        "error TEXT, "
        "created_at TEXT NOT NULL, "
        "ingested_at TEXT)"
    )
    op.execute("CREATE INDEX lab_jobs_lab ON lab_jobs(lab_id)")
