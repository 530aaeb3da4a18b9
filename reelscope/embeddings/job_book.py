"""Embedding jobs kept in the embedding store's database, so a server restart resumes them.

A job's definition (its collection, model, dimension, concurrency, owner and items) is written
before its first call; each item's state (pending, done, failed with its reason) as it changes.
A job that ends (done, failed, cancelled) is forgotten: what stays open is only the work a
server stopped in the middle of.

The instance running a job says so (`instance`, `alive_at`, refreshed every HEARTBEAT_S): a job
is resumed only once that is older than STALE_AFTER_S, and claimed atomically, so instances
sharing a database never run one job twice. Vectors are not kept here: every answered call is
in the vector cache already, so a resumed job finds them there and sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from reelscope.database import SharedDatabase
from reelscope.embeddings.items import Item, item_from_record, item_record
from reelscope.instance import INSTANCE_ID, STALE_AFTER_S

PENDING, DONE, FAILED = "pending", "done", "failed"


@dataclass(frozen=True)
class StoredJob:
    id: str
    collection_id: str
    model_id: str
    dimension: int
    concurrency: int
    owner: str
    label: str
    origin: str | None
    items: tuple[Item, ...]
    failures: dict[int, str] = field(default_factory=dict)  # position -> reason
    done: frozenset[int] = frozenset()  # positions whose vectors are all in the cache


class JobBook:
    """The open embedding jobs of one store. Thread-safe (the database is)."""

    def __init__(self, database: SharedDatabase) -> None:
        self._db = database

    def create(self, job: StoredJob, *, alive_at: float | None = None) -> None:
        """Keep the job, run by this instance (alive now, unless `alive_at` says when)."""
        with self._db.transaction() as tx:
            tx.execute(
                "INSERT INTO embed_jobs (id, collection_id, model_id, dimension, concurrency, "
                "owner, label, origin, created_at, instance, alive_at) VALUES (:id, "
                ":collection_id, :model_id, :dimension, :concurrency, :owner, :label, :origin, "
                ":now, :instance, :alive_at)",
                {
                    "id": job.id,
                    "collection_id": job.collection_id,
                    "model_id": job.model_id,
                    "dimension": job.dimension,
                    "concurrency": job.concurrency,
                    "owner": job.owner,
                    "label": job.label,
                    "origin": job.origin,
                    "now": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
                    "instance": INSTANCE_ID,
                    "alive_at": time.time() if alive_at is None else alive_at,
                },
            )
            tx.execute(
                "INSERT INTO embed_job_items (job_id, position, item, state, reason) "
                "VALUES (:job_id, :position, :item, :state, :reason)",
                [
                    {
                        "job_id": job.id,
                        "position": n,
                        "item": json.dumps(item_record(item)),
                        "state": FAILED if n in job.failures else PENDING,
                        "reason": job.failures.get(n),
                    }
                    for n, item in enumerate(job.items)
                ],
            )

    def mark_done(self, job_id: str, positions: Iterable[int]) -> None:
        params = [{"job_id": job_id, "position": n} for n in positions]
        if params:
            with self._db.transaction() as tx:
                tx.execute(
                    f"UPDATE embed_job_items SET state = '{DONE}' "
                    "WHERE job_id = :job_id AND position = :position",
                    params,
                )

    def mark_failed(self, job_id: str, position: int, reason: str) -> None:
        with self._db.transaction() as tx:
            tx.execute(
                f"UPDATE embed_job_items SET state = '{FAILED}', reason = :reason "
                "WHERE job_id = :job_id AND position = :position",
                {"job_id": job_id, "position": position, "reason": reason},
            )

    def forget(self, job_id: str) -> None:
        """The job ended: nothing of it is resumed (its items go with it)."""
        with self._db.transaction() as tx:
            tx.execute("DELETE FROM embed_job_items WHERE job_id = :id", {"id": job_id})
            tx.execute("DELETE FROM embed_jobs WHERE id = :id", {"id": job_id})

    def alive(self, job_id: str) -> None:
        """This instance still runs the job (its heartbeat)."""
        with self._db.transaction() as tx:
            tx.execute(
                "UPDATE embed_jobs SET alive_at = :now WHERE id = :id AND instance = :me",
                {"now": time.time(), "id": job_id, "me": INSTANCE_ID},
            )

    def open_jobs(self) -> list[StoredJob]:
        """Every job a server started and did not see end, oldest first."""
        jobs = self._db.fetchall("SELECT * FROM embed_jobs ORDER BY created_at")
        return [self._stored(row._mapping) for row in jobs]

    def claim_stale(self) -> list[StoredJob]:
        """The jobs no instance runs any more (their heartbeat is stale), each now claimed by
        this one: another instance asking at the same time gets none of them."""
        cutoff = time.time() - STALE_AFTER_S
        claimed = []
        for row in self._db.fetchall(
            "SELECT id FROM embed_jobs WHERE alive_at < :cutoff ORDER BY created_at",
            {"cutoff": cutoff},
        ):
            with self._db.transaction() as tx:
                won = tx.execute(
                    "UPDATE embed_jobs SET instance = :me, alive_at = :now "
                    "WHERE id = :id AND alive_at < :cutoff",
                    {"me": INSTANCE_ID, "now": time.time(), "id": row.id, "cutoff": cutoff},
                ).rowcount
            if won:
                job = self._db.fetchone("SELECT * FROM embed_jobs WHERE id = :id", {"id": row.id})
                if job is not None:
                    claimed.append(self._stored(job._mapping))
        return claimed

    def _stored(self, job: dict) -> StoredJob:
        rows = self._db.fetchall(
            "SELECT position, item, state, reason FROM embed_job_items WHERE job_id = :id "
            "ORDER BY position",
            {"id": job["id"]},
        )
        items: Sequence[Item] = [item_from_record(json.loads(r.item)) for r in rows]
        return StoredJob(
            id=job["id"],
            collection_id=job["collection_id"],
            model_id=job["model_id"],
            dimension=job["dimension"],
            concurrency=job["concurrency"],
            owner=job["owner"],
            label=job["label"],
            origin=job["origin"],
            items=tuple(items),
            failures={r.position: r.reason or "" for r in rows if r.state == FAILED},
            done=frozenset(r.position for r in rows if r.state == DONE),
        )
