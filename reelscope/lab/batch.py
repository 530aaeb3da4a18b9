"""A lab grid as Vertex AI batch jobs: submitted once, followed until they end, read into cells.

One job per model: its requests (reelscope/lab/batch_jobs.py) go to the bucket, the job's row
is written in the store *before* `client.batches.create`, and named after it (reelscope/store/
labs.py). A `BatchWatch` task follows each job: it polls the job's state every
`Settings.batch_poll_s`, and once the job has ended reads `predictions.jsonl` into runs (one
transaction for all of them), each cell pointing at its run. After a server restart
`resume` watches every job whose results are not in yet; a job recorded but never named
is looked for by its display name before it is submitted, so none is submitted twice.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from google.cloud import storage
from google.genai import Client, types

from reelscope.costs import BATCH_TIER
from reelscope.generation.errors import ErrorKind
from reelscope.generation.events import (
    Blocked,
    Completed,
    Event,
    Failed,
    Finished,
    RunError,
    TextDelta,
)
from reelscope.generation.request import build_request
from reelscope.lab import batch_jobs
from reelscope.lab.batch_jobs import BatchError, BatchJobInfo, BatchResults, BatchRow, RowError
from reelscope.lab.grid import Cell, GridSpec
from reelscope.lab.plan import PlannedCell
from reelscope.runs.run import RunSpec, SourceRef
from reelscope.settings import BACKEND_VERTEX
from reelscope.store import Store, StoredRun
from reelscope.store.labs import JobRow
from reelscope.tasks import Progress, Task, TaskRegistry, TaskState, start_thread

JOB_KIND = "lab-batch"
DISPLAY_PREFIX = "reelscope-lab-"


@dataclass(frozen=True)
class Clients:
    """What a batch needs: the google-genai client (jobs) and the Cloud Storage one (files)."""

    genai: Client
    storage: storage.Client


def launch(
    store: Store,
    clients: Clients,
    *,
    bucket: str,
    lab_id: str,
    owner: str,
    cells: Sequence[PlannedCell],
    response_schema: types.Schema | None = None,
) -> list[JobRow]:
    """Write each model's requests, record its job, submit it; the jobs as recorded."""
    by_model: dict[str, list[PlannedCell]] = defaultdict(list)
    for cell in cells:
        if cell.checked is not None:
            by_model[cell.model.id].append(cell)
    jobs = []
    for model_id, group in by_model.items():
        job_id = uuid.uuid4().hex
        paths = batch_jobs.batch_paths(bucket, job_id)
        rows = [
            BatchRow(
                c.cell.key,
                build_request(
                    c.model, c.checked, c.prompt, c.params, response_schema=response_schema
                ),
            )
            for c in group
        ]
        batch_jobs.write_requests(clients.storage, paths.requests_uri, rows)
        store.labs.add_job(
            job_id,
            lab_id=lab_id,
            owner=owner,
            model_id=model_id,
            display_name=f"{DISPLAY_PREFIX}{job_id}",
            requests_uri=paths.requests_uri,
            output_prefix=paths.output_prefix,
            cells=[c.cell.key for c in group],
        )
        jobs.append(_submit(store, clients.genai, _job(store, job_id), look_first=False))
    return jobs


def _submit(store: Store, genai: Client, job: JobRow, *, look_first: bool) -> JobRow:
    """Submit a recorded job once: with `look_first`, a job Vertex AI already has under its
    display name (submitted just before a restart) is adopted instead."""
    if job.name:
        return job
    found = None
    if look_first:
        found = next(
            (j for j in batch_jobs.list_jobs(genai, 200) if j.display_name == job.display_name),
            None,
        )
    try:
        info = found or batch_jobs.submit(
            genai, job.model_id, job.requests_uri, job.output_prefix, job.display_name
        )
    except BatchError as error:
        store.labs.job_failed(job.id, str(error))
        raise
    store.labs.job_submitted(job.id, info.name, info.state)
    return _job(store, job.id)


def _job(store: Store, job_id: str) -> JobRow:
    job = store.labs.job(job_id)
    assert job is not None
    return job


class BatchWatch(Task):
    """Follows one batch job until it ends, then reads its results into the lab's cells.

    Cancel asks Vertex AI to cancel the job and keeps following it: the rows it finished are
    read in like any others.
    """

    kind = JOB_KIND

    def __init__(
        self,
        store: Store,
        clients: Clients,
        job: JobRow,
        *,
        poll_s: float,
        app_version: str,
    ) -> None:
        super().__init__(
            owner=job.owner,
            label=f"Batch job · {job.model_id}",
            key=job.id,
            origin="lab",
        )
        self._store = store
        self._clients = clients
        self._job_id = job.id
        self._poll_s = poll_s
        self._app_version = app_version
        self._wake = threading.Event()
        self._cancel_asked = False
        self.info: BatchJobInfo | None = None
        self.problem: str | None = None
        self.ingested: int | None = None

    def begin(self) -> BatchWatch:
        start_thread(self, self._work)
        return self

    def cancel(self) -> bool:
        if self.done:
            return False
        self._cancel_asked = True
        self._wake.set()
        return True

    def progress(self) -> Progress:
        info = self.info
        state = info.state_word if info else "submitting"
        counts = ""
        if info and info.succeeded is not None:
            counts = f" · {info.succeeded} done, {info.failed or 0} failed"
        problem = f" · {self.problem}" if self.problem else ""
        if self.status is TaskState.DONE and self.ingested is not None:
            return Progress(self.status, f"Batch job {state}: {self.ingested} results read in.")
        return Progress(self.status, f"Batch job {state}{counts}{problem}")

    def _work(self) -> None:
        try:
            job = _submit(self._store, self._clients.genai, _job(self._store, self._job_id),
                          look_first=True)  # fmt: skip
            while True:
                if self._cancel_asked and self.info is not None and not self.info.done:
                    self._ask_cancel(job)
                self._poll(job)
                if self.info is not None and self.info.done:
                    break
                self._wake.wait(self._poll_s)
                self._wake.clear()
            self.ingested = ingest(self._store, self._clients.storage, job, self.info,
                                   app_version=self._app_version)  # fmt: skip
        except (BatchError, OSError) as error:
            self.problem = str(error)
            self._store.labs.job_failed(self._job_id, str(error))
            self.finish(TaskState.FAILED)
            return
        self.finish(TaskState.DONE)

    def _ask_cancel(self, job: JobRow) -> None:
        self._cancel_asked = False
        assert job.name is not None
        batch_jobs.cancel(self._clients.genai, job.name)

    def _poll(self, job: JobRow) -> None:
        assert job.name is not None
        try:
            info = batch_jobs.job_status(self._clients.genai, job.name)
        except BatchError as error:  # a poll that failed is tried again at the next one
            self.problem = str(error)
            self.changed()
            return
        self.problem = None
        self.info = info
        self._store.labs.job_state(job.id, info.state, _info_record(info))
        self.changed()


def ingest(
    store: Store,
    files: storage.Client,
    job: JobRow,
    info: BatchJobInfo,
    *,
    app_version: str,
) -> int | None:
    """Read an ended job's results into runs and point its cells at them; how many cells got a
    run (None when another instance has read them). A results line that cannot be read costs
    its own cell only."""
    if not store.labs.claim_ingest(job.id):
        return None
    try:
        lab = store.labs.get(job.lab_id)
        if lab is None:
            return 0  # the lab was deleted meanwhile: nothing to fill
        keys = [c.key for c in store.labs.cells(job.lab_id) if c.job_id == job.id]
        if info.output_dir:
            results = batch_jobs.read_results(files, info, keys)
        else:
            results = BatchResults(errors=[_no_output(key, info) for key in keys])
        runs = cell_runs(lab.spec, job, info, results, keys)
        store.runs.record_many(list(runs.values()), app_version, "lab", lab.owner)
        store.labs.set_runs(job.lab_id, {key: run.id for key, run in runs.items()})
        return len(runs)
    except Exception:
        store.labs.release_ingest(job.id)
        raise


def cell_runs(
    record: dict[str, Any],
    job: JobRow,
    info: BatchJobInfo,
    results: BatchResults,
    keys: Sequence[str],
) -> dict[str, StoredRun]:
    """One kept run per cell of the job: its answer, or its row's error."""
    spec = GridSpec.from_record(record)
    sources = record.get("row_sources") or []
    errors = {e.key: e for e in results.errors if e.key is not None}
    started = info.started_at or info.created_at or dt.datetime.now(dt.UTC)
    at = max(((info.ended_at or started) - started).total_seconds(), 0.0)
    runs: dict[str, StoredRun] = {}
    for key in keys:
        cell = Cell.of(key)
        column = spec.models[cell.model]
        refs = tuple(SourceRef(**s) for s in sources[cell.row : cell.row + 1] if s)
        extra = {**(record.get("cell_extra") or {}), "tier": BATCH_TIER, "lab": job.lab_id,
                 "cell": key, "batch_job": info.name, "backend": BACKEND_VERTEX}  # fmt: skip
        prompt = spec.prompt_for(cell)
        run_spec = RunSpec(column.model_id, prompt, column.params, refs, False, extra)
        result = results.results.get(key)
        if result is not None:
            events = _answer_events(result, at)
        else:
            error = errors.get(key) or RowError(key, batch_jobs.MISSING, "No result came back.")
            events = [Failed(at, _row_error(error))]
        runs[key] = StoredRun(
            uuid.uuid4().hex, started, run_spec, events, "completed", owner=job.owner
        )
    return runs


def _answer_events(result: batch_jobs.RowResult, at: float) -> list[Event]:
    events: list[Event] = []
    if result.blocked:
        events.append(Blocked(at, "prompt", result.blocked))
    if result.text:
        events.append(TextDelta(at, result.text))
    if result.usage is not None:
        events.append(result.usage)
    if result.finish_reason:
        events.append(Finished(at, result.finish_reason))
    events.append(Completed(at))
    return events


def _row_error(error: RowError) -> RunError:
    if error.status == batch_jobs.MISSING:  # its message names the row by its internal key
        message = "The batch job's results have no answer for this cell"
        return RunError(ErrorKind.UNKNOWN, f"{message} (the job ended before it, or its line "
                        "could not be read).", hint="Re-run the failed cells online.")  # fmt: skip
    return RunError(
        ErrorKind.UNKNOWN,
        f"The batch job could not answer this cell ({error.status}): {error.message}",
        hint="Re-run the failed cells online, or in a new batch job.",
    )


def _no_output(key: str, info: BatchJobInfo) -> RowError:
    why = info.error or f"the job ended {info.state_word} before writing results"
    return RowError(key, info.state_word.upper(), why)


def _info_record(info: BatchJobInfo) -> dict[str, Any]:
    record = asdict(info)
    return {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in record.items()}


def resume(
    store: Store,
    clients: Callable[[], Clients],
    registry: TaskRegistry,
    *,
    poll_s: float,
    app_version: str,
) -> list[BatchWatch]:
    """Watch every job whose results are not in yet (at server start, after a restart)."""
    watches = []
    for job in store.labs.jobs(open_only=True):
        if job.error and not job.name:
            continue  # its submission failed and was reported: nothing runs
        watches.append(watch(store, clients(), job, registry, poll_s=poll_s,
                             app_version=app_version))  # fmt: skip
    return watches


def watch(
    store: Store,
    clients: Clients,
    job: JobRow,
    registry: TaskRegistry,
    *,
    poll_s: float,
    app_version: str,
) -> BatchWatch:
    """The job's watch: the one already going, or a new one started."""
    made: list[BatchWatch] = []

    def make() -> BatchWatch:
        made.append(BatchWatch(store, clients, job, poll_s=poll_s, app_version=app_version))
        return made[0]

    task = registry.start_once(JOB_KIND, job.id, make)
    if made:
        made[0].begin()
    assert isinstance(task, BatchWatch)
    return task
