"""Labs kept in the run history's database: each grid, its cells (each pointing at its run), and
the batch jobs it submitted.

A cell's answer, usage, cost and status are its run's (the `runs` row): the lab keeps only
which run is which cell, so History and the lab never disagree. A batch job's row is written
before the job is submitted and names it once Vertex AI has (`name`), so after a restart its
polling resumes and it is never submitted twice; `ingested_at` is claimed by one instance only.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reelscope.database import Session, SharedDatabase
from reelscope.owners import NotYours

NOT_RUN = "not run"
REFUSED = "refused"
IN_BATCH = "in batch job"


@dataclass(frozen=True)
class LabRow:
    id: str
    owner: str
    name: str
    how: str  # "online" | "batch"
    spec: dict[str, Any]
    created_at: dt.datetime


@dataclass(frozen=True)
class CellRow:
    """A cell with what its run kept (the `runs` row), or why it has none."""

    key: str
    run_id: str | None
    job_id: str | None
    refusal: str | None
    ttft_s: float | None
    status: str  # the run's status, else REFUSED, IN_BATCH or NOT_RUN
    output_text: str = ""
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    thinking_tokens: int | None = None
    cost_usd: float | None = None
    finish_reason: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class JobRow:
    id: str
    lab_id: str
    owner: str
    model_id: str
    display_name: str
    name: str | None  # Vertex AI's resource name, once submitted
    state: str
    requests_uri: str
    output_prefix: str
    info: dict[str, Any]
    error: str | None
    created_at: dt.datetime
    ingested_at: dt.datetime | None


class LabRepo:
    def __init__(self, db: SharedDatabase) -> None:
        self._db = db

    # -- labs and cells --

    def create(
        self,
        lab_id: str,
        *,
        owner: str,
        name: str,
        how: str,
        spec: Mapping[str, Any],
        cells: Sequence[tuple[str, str | None]],
    ) -> None:
        """A new lab and its cells (key, refusal or None)."""
        with self._db.transaction() as tx:
            tx.execute(
                "INSERT INTO labs (id, owner, name, how, spec, created_at) "
                "VALUES (:id, :owner, :name, :how, :spec, :created_at)",
                {"id": lab_id, "owner": owner, "name": name, "how": how,
                 "spec": json.dumps(spec), "created_at": _now()},
            )  # fmt: skip
            tx.execute(
                "INSERT INTO lab_cells (lab_id, cell_key, refusal) VALUES (:lab, :key, :refusal)",
                [{"lab": lab_id, "key": key, "refusal": refusal} for key, refusal in cells],
            )

    def get(self, lab_id: str) -> LabRow | None:
        row = self._db.fetchone("SELECT * FROM labs WHERE id = :id", {"id": lab_id})
        return _lab(row) if row else None

    def labs(self, owner: str | None = None, limit: int = 50) -> list[LabRow]:
        """The newest labs first, `owner`'s only when given."""
        where = "WHERE owner = :owner" if owner is not None else ""
        rows = self._db.fetchall(
            f"SELECT * FROM labs {where} ORDER BY created_at DESC LIMIT :limit",
            {"owner": owner, "limit": limit},
        )
        return [_lab(row) for row in rows]

    def set_runs(self, lab_id: str, runs: Mapping[str, str], *, tx=None) -> None:
        """Point cells at their (new) runs; a re-run cell's older run stays in History."""
        params = [{"lab": lab_id, "key": key, "run": run_id} for key, run_id in runs.items()]
        if not params:
            return
        sql = "UPDATE lab_cells SET run_id = :run WHERE lab_id = :lab AND cell_key = :key"
        if tx is not None:
            tx.execute(sql, params)
            return
        with self._db.transaction() as session:
            session.execute(sql, params)

    def cells(self, lab_id: str) -> list[CellRow]:
        rows = self._db.fetchall(
            "SELECT c.cell_key, c.run_id, c.job_id, c.refusal, c.ttft_s, r.status, "
            "r.output_text, r.prompt_tokens, r.output_tokens, r.thinking_tokens, r.cost_usd, "
            "r.finish_reason, r.error "
            "FROM lab_cells c LEFT JOIN runs r ON r.id = c.run_id "
            "WHERE c.lab_id = :lab ORDER BY c.cell_key",
            {"lab": lab_id},
        )
        return [_cell(row) for row in rows]

    def delete(self, lab_id: str, *, owner: str) -> bool:
        """Forget a lab (its runs stay in History); only its owner may."""
        with self._db.transaction() as tx:
            row = tx.execute("SELECT owner FROM labs WHERE id = :id", {"id": lab_id}).first()
            if row is None:
                return False
            if row[0] != owner:
                raise NotYours("This lab is a teammate's: only they can delete it.")
            tx.execute("DELETE FROM lab_cells WHERE lab_id = :id", {"id": lab_id})
            tx.execute("DELETE FROM lab_jobs WHERE lab_id = :id", {"id": lab_id})
            tx.execute("DELETE FROM labs WHERE id = :id", {"id": lab_id})
        return True

    # -- batch jobs --

    def add_job(
        self,
        job_id: str,
        *,
        lab_id: str,
        owner: str,
        model_id: str,
        display_name: str,
        requests_uri: str,
        output_prefix: str,
        cells: Iterable[str],
    ) -> None:
        """A job about to be submitted, and the cells that go in it."""
        with self._db.transaction() as tx:
            tx.execute(
                "INSERT INTO lab_jobs (id, lab_id, owner, model_id, display_name, state, "
                "requests_uri, output_prefix, created_at) VALUES (:id, :lab, :owner, :model, "
                ":display, 'SUBMITTING', :requests, :output, :created_at)",
                {"id": job_id, "lab": lab_id, "owner": owner, "model": model_id,
                 "display": display_name, "requests": requests_uri, "output": output_prefix,
                 "created_at": _now()},
            )  # fmt: skip
            tx.execute(
                "UPDATE lab_cells SET job_id = :job WHERE lab_id = :lab AND cell_key = :key",
                [{"job": job_id, "lab": lab_id, "key": key} for key in cells],
            )

    def job_submitted(self, job_id: str, name: str, state: str) -> None:
        self._update_job(job_id, name=name, state=state)

    def job_state(self, job_id: str, state: str, info: Mapping[str, Any]) -> None:
        self._update_job(job_id, state=state, info=json.dumps(info, default=str))

    def job_failed(self, job_id: str, message: str) -> None:
        self._update_job(job_id, error=message)

    def claim_ingest(self, job_id: str) -> bool:
        """True for the one caller that gets to read this job's results into the store."""
        with self._db.transaction() as tx:
            claimed = tx.execute(
                "UPDATE lab_jobs SET ingested_at = :now WHERE id = :id AND ingested_at IS NULL",
                {"now": _now(), "id": job_id},
            )
            return claimed.rowcount == 1

    def release_ingest(self, job_id: str) -> None:
        """Reading the results failed: let the next poll try again."""
        self._update_job(job_id, ingested_at=None)

    def job(self, job_id: str) -> JobRow | None:
        row = self._db.fetchone("SELECT * FROM lab_jobs WHERE id = :id", {"id": job_id})
        return _job(row) if row else None

    def jobs(self, lab_id: str | None = None, *, open_only: bool = False) -> list[JobRow]:
        """A lab's jobs (every lab's when None); `open_only`: those whose results are not in."""
        clauses = (["lab_id = :lab"] if lab_id else []) + (
            ["ingested_at IS NULL"] if open_only else []
        )
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._db.fetchall(
            f"SELECT * FROM lab_jobs {where} ORDER BY created_at, id", {"lab": lab_id}
        )
        return [_job(row) for row in rows]

    def _update_job(self, job_id: str, **values: Any) -> None:
        columns = ", ".join(f"{name} = :{name}" for name in values)
        with self._db.transaction() as tx:
            tx.execute(f"UPDATE lab_jobs SET {columns} WHERE id = :id", {**values, "id": job_id})


def record_ttft(tx: Session, lab_id: str, key: str, ttft_s: float | None) -> None:
    """A lab cell's online run ended: keep its time to first token (the recorder calls this in
    the transaction that closes the run, off the run worker's loop)."""
    tx.execute(
        "UPDATE lab_cells SET ttft_s = :ttft WHERE lab_id = :lab AND cell_key = :key",
        {"ttft": ttft_s, "lab": lab_id, "key": key},
    )


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _lab(row: Any) -> LabRow:
    row = row._mapping
    return LabRow(
        id=row["id"],
        owner=row["owner"],
        name=row["name"],
        how=row["how"],
        spec=json.loads(row["spec"]),
        created_at=dt.datetime.fromisoformat(row["created_at"]),
    )


def _cell(row: Any) -> CellRow:
    row = row._mapping
    if row["run_id"] is not None and row["status"] is not None:
        status = row["status"]
    elif row["refusal"] is not None:
        status = REFUSED
    elif row["job_id"] is not None:
        status = IN_BATCH
    else:
        status = NOT_RUN
    return CellRow(
        key=row["cell_key"],
        run_id=row["run_id"],
        job_id=row["job_id"],
        refusal=row["refusal"],
        ttft_s=row["ttft_s"],
        status=status,
        output_text=row["output_text"] or "",
        prompt_tokens=row["prompt_tokens"],
        output_tokens=row["output_tokens"],
        thinking_tokens=row["thinking_tokens"],
        cost_usd=row["cost_usd"],
        finish_reason=row["finish_reason"],
        error=row["error"],
    )


def _job(row: Any) -> JobRow:
    row = row._mapping
    ingested = row["ingested_at"]
    return JobRow(
        id=row["id"],
        lab_id=row["lab_id"],
        owner=row["owner"],
        model_id=row["model_id"],
        display_name=row["display_name"],
        name=row["name"],
        state=row["state"],
        requests_uri=row["requests_uri"],
        output_prefix=row["output_prefix"],
        info=json.loads(row["info"]) if row["info"] else {},
        error=row["error"],
        created_at=dt.datetime.fromisoformat(row["created_at"]),
        ingested_at=dt.datetime.fromisoformat(ingested) if ingested else None,
    )
