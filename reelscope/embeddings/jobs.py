"""Embedding jobs: many calls at once, retried, cached, cancellable, followed like any task.

Threads, not asyncio: the aiplatform PredictionServiceClient has no async REST transport, so
one thread pool runs both models' calls through the same code path. The calls are I/O bound
and release the GIL, so `concurrency` threads make `concurrency` calls at once. Cancel returns
at once: no call starts after it, the job ends without waiting for calls in flight (their
answers are still cached when they come back, so they are not paid twice).

Every call's vectors go into the cache under (model, content, segment window, dimension)
before anything else, so a repeat — or a job cancelled and started again — makes no call for
what was already answered. A job is a task (reelscope/tasks.py): it lives in the process's
registry, the sidebar lists it, and once its rows have landed in the collection it lets go of
its vectors, keeping only its counts.

A job is also stored (reelscope/embeddings/job_book.py): its definition before its first call,
each item's state as it changes, forgotten when it ends. A server that stops mid-job resumes it
at its next start (`resume_jobs`): the cache answers what was answered, the rest is sent.

One QuotaLimiter (reelscope/lab/pacing.py) paces a job's calls: a 429 pauses every thread of
the job for the same (doubling) time and halves the calls in flight, so a burst of 429s slows
the job instead of coming back as a burst of retries.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from google.genai import errors as genai_errors

from reelscope.database import DATABASE_ERRORS
from reelscope.embeddings.items import EmbedCall, EmbeddingError, Item, check_item, plan_calls
from reelscope.embeddings.job_book import StoredJob
from reelscope.embeddings.models import Embedder, Segment
from reelscope.embeddings.store import EmbeddingStore, NewRow
from reelscope.generation.errors import classify
from reelscope.instance import HEARTBEAT_S
from reelscope.lab.pacing import QuotaLimiter
from reelscope.retries import RetryPolicy, http_status, retryable
from reelscope.settings import BACKEND_NAMES, BACKEND_VERTEX
from reelscope.tasks import (
    LOCAL_OWNER,
    Progress,
    Task,
    TaskRegistry,
    TaskState,
    registry,
    start_thread,
)
from reelscope.vertex import NotConnected

DEFAULT_CONCURRENCY = 12  # calls in flight: hides latency; a 429 halves it for a while
SLOT_POLL_S = 0.05  # how often a thread waiting for a slot looks again (and at cancel)


@dataclass(frozen=True)
class ItemFailure:
    label: str
    reason: str


@dataclass(frozen=True)
class JobProgress:
    state: TaskState  # FAILED: the job itself broke (e.g. the collection went away), not an item
    items_total: int
    items_done: int
    items_failed: int
    calls_total: int  # calls the job needs, cache hits included
    calls: int  # API calls made (each retry counts)
    cache_hits: int
    retries: int
    rows_added: int
    elapsed_s: float
    eta_s: float | None
    failures: tuple[ItemFailure, ...]
    notes: tuple[str, ...]
    error: str | None = None

    @property
    def fraction(self) -> float:
        if not self.items_total:
            return 1.0
        return (self.items_done + self.items_failed) / self.items_total

    @property
    def finished(self) -> bool:
        return self.state is not TaskState.RUNNING


@dataclass
class _ItemState:
    item: Item
    calls: list[EmbedCall]
    results: dict[int, list[Segment]] = field(default_factory=dict)
    failure: str | None = None

    landed: bool = False  # its rows are in the collection (and its vectors released)

    @property
    def complete(self) -> bool:
        return self.failure is None and (self.landed or len(self.results) == len(self.calls))


class EmbedJob(Task):
    """One job: its progress is readable from any thread while it runs."""

    kind = "embed-job"

    def __init__(
        self,
        store: EmbeddingStore,
        embedder: Embedder,
        collection_id: str,
        items: Sequence[Item],
        concurrency: int,
        retry: RetryPolicy,
        *,
        label: str = "",
        owner: str = LOCAL_OWNER,
        origin: str | None = None,
        limiter: QuotaLimiter | None = None,
        stored: StoredJob | None = None,
    ) -> None:
        super().__init__(owner=owner, label=label, key=collection_id, origin=origin)
        if stored is not None:  # resumed: the same job, under the id it was stored by
            self.id = stored.id
        self.collection_id = collection_id
        self._store = store
        self._embedder = embedder
        self._concurrency = max(1, concurrency)
        self._retry = retry
        self._limiter = limiter or QuotaLimiter(self._concurrency)
        self._lock = threading.Lock()
        self._end_lock = threading.Lock()
        self._ending = False  # finish() was called: the first call decides the end state
        self._cancel = threading.Event()
        self._error: str | None = None
        self._calls = self._hits = self._retries = self._rows = self._calls_finished = 0
        self._alive_said = time.monotonic()  # when the job book last heard it is running
        self._notes: list[str] = []
        self._items = [
            _ItemState(item, plan_calls(item, embedder.model, i)) for i, item in enumerate(items)
        ]
        earlier = stored.failures if stored is not None else {}
        for n, state in enumerate(self._items):
            problems = check_item(state.item, embedder.model, embedder.dimension)
            if problems or n in earlier:  # a failure stays one: resuming does not resend it
                state.failure = " ".join(problems) or earlier[n]
            for note in {n for c in state.calls for n in c.notes}:
                self._notes.append(note)

    # -- what a page reads --

    def progress(self) -> Progress:
        details = self.details()
        return Progress(details.state, progress_text(details), min(details.fraction, 1.0))

    def details(self) -> JobProgress:
        status = self.status
        elapsed = self.elapsed()
        with self._lock:
            done = sum(1 for s in self._items if s.complete)
            failed = [ItemFailure(s.item.label, s.failure) for s in self._items if s.failure]
            total_calls = sum(len(s.calls) for s in self._items if not s.failure)
            return JobProgress(
                state=status,
                items_total=len(self._items),
                items_done=done,
                items_failed=len(failed),
                calls_total=total_calls,
                calls=self._calls,
                cache_hits=self._hits,
                retries=self._retries,
                rows_added=self._rows,
                elapsed_s=elapsed,
                eta_s=self._eta(status, total_calls, elapsed),
                failures=tuple(failed),
                notes=tuple(self._notes),
                error=self._error,
            )

    def _eta(self, status: TaskState, total_calls: int, elapsed: float) -> float | None:
        if status is not TaskState.RUNNING:
            return 0.0
        finished = self._calls_finished + self._hits
        if self._calls_finished == 0:
            return None
        return max(0.0, (total_calls - finished) * elapsed / self._calls_finished)

    def cancel(self) -> bool:
        """Stop now: the state turns cancelled at once; nothing new is sent."""
        with self._lock:  # a call is either counted as started before this, or never starts
            self._cancel.set()
        return self.finish(TaskState.CANCELLED)

    def finish(self, state: TaskState) -> bool:
        """End it (once: the first caller decides how), and forget its stored copy before the
        end is announced (whoever waits for it finds it gone): an ended job is never resumed."""
        with self._end_lock:
            if self._ending:
                return False
            self._ending = True
        with contextlib.suppress(*DATABASE_ERRORS):  # then a restart resumes it: no loss
            self._store.jobs.forget(self.id)
        return super().finish(state)

    def stored(self) -> StoredJob:
        """What the job book keeps of it before its first call."""
        return StoredJob(
            id=self.id,
            collection_id=self.collection_id,
            model_id=self._embedder.model.id,
            dimension=self._embedder.dimension,
            concurrency=self._concurrency,
            owner=self.owner,
            label=self.label,
            origin=self.origin,
            items=tuple(s.item for s in self._items),
            failures={n: s.failure for n, s in enumerate(self._items) if s.failure},
        )

    # -- the work --

    def _run(self) -> None:
        try:
            pending = self._from_cache()
            if pending and not self._cancel.is_set():
                self._call_all(pending)
            self._land()
        except Exception as exc:  # the job must end and say why, never hang a page
            with self._lock:
                self._error = f"The job stopped: {exc}"
            self.finish(TaskState.FAILED)
        finally:
            self.finish(TaskState.DONE)  # nothing when it already ended (cancelled, failed)

    def _from_cache(self) -> list[tuple[_ItemState, int, EmbedCall]]:
        pending = []
        dimension = self._embedder.dimension
        for state in self._items:
            self._say_alive()
            if state.failure:
                continue
            for n, call in enumerate(state.calls):
                cached = self._store.cache.get(call.cache_key, dimension)
                if cached is not None:
                    with self._lock:
                        state.results[n] = cached
                        self._hits += 1
                else:
                    pending.append((state, n, call))
        with self._lock:
            answered = [i for i, s in enumerate(self._items) if s.complete]
        self._store.jobs.mark_done(self.id, answered)
        self.changed()
        return pending

    def _call_all(self, pending: list[tuple[_ItemState, int, EmbedCall]]) -> None:
        pool = ThreadPoolExecutor(self._concurrency, thread_name_prefix=f"embed-{self.id[:8]}")
        futures: list[Future] = [pool.submit(self._call_one, *task) for task in pending]
        for future in futures:
            # Wake up every 50 ms so that cancel ends the wait without the calls in flight.
            while not future.done():
                self._say_alive()
                if self._cancel.wait(0.05):
                    pool.shutdown(wait=False, cancel_futures=True)
                    return
        pool.shutdown(wait=False)

    def _call_one(self, state: _ItemState, n: int, call: EmbedCall) -> None:
        model_id = self._embedder.model.id
        for attempt in range(self._retry.attempts):
            if not self._take_slot(model_id):
                return
            with self._lock:
                if self._cancel.is_set() or state.failure:
                    self._limiter.release(model_id)
                    return
                self._calls += 1
            sent_at = self._limiter.now()
            try:
                segments = self._embedder.embed(call)
                if not segments:
                    backend = BACKEND_NAMES[self._embedder.backend]
                    raise EmbeddingError(f"{backend} returned no vectors for it.")
            except Exception as exc:
                self._limiter.release(model_id)
                if retryable(exc) and attempt + 1 < self._retry.attempts:
                    with self._lock:
                        self._retries += 1
                    self.changed()
                    if self._cancel.wait(self._retry_wait(exc, attempt, sent_at)):
                        return
                    continue
                self._item_failed(state, failure_reason(exc, self._embedder.backend))
                return
            self._limiter.report_success(model_id, sent_at)
            self._limiter.release(model_id)
            self._store.cache.put(call.cache_key, self._embedder.dimension, segments)
            with self._lock:
                state.results[n] = segments
                self._calls_finished += 1
                complete = state.complete
            if complete:
                self._store.jobs.mark_done(self.id, [state.calls[0].item_index])
            self.changed()
            return

    def _say_alive(self) -> None:
        """Refresh the job book's heartbeat when due: a job whose heartbeat is stale is taken
        over by the next instance that resumes jobs."""
        if time.monotonic() - self._alive_said >= HEARTBEAT_S:
            self._alive_said = time.monotonic()
            with contextlib.suppress(*DATABASE_ERRORS):  # a missed beat: the next one says it
                self._store.jobs.alive(self.id)

    def _take_slot(self, model_id: str) -> bool:
        """Wait for the limiter's slot for one call (paused and halved after a 429); False
        when the job was cancelled meanwhile."""
        while not self._limiter.try_acquire(model_id):
            if self._cancel.wait(max(SLOT_POLL_S, self._limiter.pause_left(model_id))):
                return False
        return True

    def _retry_wait(self, exc: Exception, attempt: int, sent_at: float) -> float:
        """A 429 waits out the pause every call of the job shares; other failures back off."""
        if http_status(exc) == 429:
            return self._limiter.report_throttled(self._embedder.model.id, sent_at)
        return self._retry.delay(attempt)

    def _item_failed(self, state: _ItemState, reason: str) -> None:
        with self._lock:
            first = state.failure is None
            state.failure = state.failure or reason
            self._calls_finished += 1
        if first and state.calls:
            self._store.jobs.mark_failed(self.id, state.calls[0].item_index, reason)
        self.changed()

    def _land(self) -> None:
        """Write every complete item's rows; failed and unfinished items add nothing."""
        rows: list[NewRow] = []
        vectors: list[np.ndarray] = []
        with self._lock:
            complete = [s for s in self._items if s.complete]
        for state in complete:
            for n in range(len(state.calls)):
                for segment in state.results[n]:
                    rows.append(_row(state.item, segment))
                    vectors.append(segment.vector)
        if rows:
            self._store.add(self.collection_id, rows, np.stack(vectors))
        with self._lock:
            self._rows = len(rows)
            for state in complete:  # stored in the collection: the vectors are let go
                state.landed, state.results = True, {}


def _row(item: Item, segment: Segment) -> NewRow:
    return NewRow(
        kind=item.kind,
        label=item.label,
        source=item.uri or item.label,
        source_key=item.content_key,
        start_s=segment.start_s,
        end_s=segment.end_s,
        text=item.text,
        mime_type=item.mime_type,
        blob_sha=item.sha256 if item.path is not None else None,
        uri=item.uri,
    )


def failure_reason(exc: BaseException, backend: str = BACKEND_VERTEX) -> str:
    """One line a user can act on, from whichever SDK raised it, on `backend`."""
    if isinstance(exc, EmbeddingError):
        return str(exc)
    code = http_status(exc)
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    service = BACKEND_NAMES[backend]
    if code is not None and retryable(exc) and code != 429:
        return f"{service} kept failing ({code}): {message} Try again later."
    hint = _developer_api_hint(exc, backend)
    if code == 429:
        return f"Quota exhausted (429) after several tries: {message} {hint or 'Try again later.'}"
    if code is not None:
        return f"{service} refused it ({code}): {message}" + (f" {hint}" if hint else "")
    return f"{type(exc).__name__}: {message}"


def _developer_api_hint(exc: BaseException, backend: str) -> str | None:
    """On the Gemini Developer API a key's problems (wrong, restricted, its tier's limits) are
    told as generation tells them (reelscope/generation/errors.py's table)."""
    if backend == BACKEND_VERTEX or not isinstance(exc, genai_errors.APIError):
        return None
    return classify(exc, model_id="", project=None, location="", backend=backend).hint


def start_job(
    store: EmbeddingStore,
    embedder: Embedder,
    collection_id: str,
    items: Sequence[Item],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    retry: RetryPolicy | None = None,
    tasks: TaskRegistry | None = None,
    owner: str = LOCAL_OWNER,
    origin: str | None = None,
    limiter: QuotaLimiter | None = None,
) -> EmbedJob:
    """Start embedding `items` into a collection; returns at once. Never mixes spaces.
    The job is stored first: a server that stops before it ends resumes it (`resume_jobs`)."""
    info = store.info(collection_id)
    if info is None:
        raise EmbeddingError("That collection no longer exists; pick another.")
    if info.model_id != embedder.model.id or info.dimension != embedder.dimension:
        raise EmbeddingError(
            f"“{info.name}” holds {info.model_label} vectors of {info.dimension} dimensions; "
            f"it cannot take {embedder.model.label} vectors of {embedder.dimension}. "
            "Make a new collection for that model."
        )
    count = f"{len(items)} item{'s' if len(items) != 1 else ''}"
    job = EmbedJob(
        store, embedder, collection_id, items, concurrency, retry or RetryPolicy(),
        label=f"{count} into “{info.name}”", owner=owner, origin=origin, limiter=limiter,
    )  # fmt: skip
    store.jobs.create(job.stored())
    (tasks if tasks is not None else registry()).add(job)
    start_thread(job, job._run)
    return job


def resume_jobs(
    store: EmbeddingStore,
    embedder_for: Callable[[str, int], Embedder],
    *,
    retry: RetryPolicy | None = None,
    tasks: TaskRegistry | None = None,
) -> list[EmbedJob]:
    """Start again every stored job no instance runs any more (at server start, after a restart):
    those whose heartbeat is older than STALE_AFTER_S, each claimed so no other instance takes it.

    `embedder_for(model_id, dimension)` makes the client. A job whose client it cannot make
    (NotConnected: not signed in yet, or a model this backend does not serve) stays stored and is
    taken at a later try, once its claim is stale; the other jobs start, then the first such
    NotConnected is raised. A job whose collection is gone is forgotten.
    """
    tasks = tasks if tasks is not None else registry()
    resumed, refused = [], None
    for stored in store.jobs.claim_stale():
        if store.info(stored.collection_id) is None:
            store.jobs.forget(stored.id)
            continue
        try:
            embedder = embedder_for(stored.model_id, stored.dimension)
        except NotConnected as problem:  # one job's model must not hold up the others
            refused = refused or problem
            continue
        job = EmbedJob(
            store, embedder, stored.collection_id,
            stored.items, stored.concurrency, retry or RetryPolicy(), label=stored.label,
            owner=stored.owner, origin=stored.origin, stored=stored,
        )  # fmt: skip
        tasks.add(job)
        start_thread(job, job._run)
        resumed.append(job)
    if refused is not None:
        raise refused
    return resumed


def progress_text(progress: JobProgress) -> str:
    """items done/total · calls · cache hits · errors · time left."""
    parts = [
        f"{progress.items_done + progress.items_failed:,} / {progress.items_total:,} items",
        f"{progress.calls:,} calls",
        f"{progress.cache_hits:,} cache hits",
        f"{progress.items_failed:,} errors",
    ]
    if progress.retries:
        parts.append(f"{progress.retries:,} retries")
    if progress.state is TaskState.RUNNING:
        eta = progress.eta_s
        parts.append("estimating time left…" if eta is None else f"about {duration(eta)} left")
    else:
        parts.append(f"took {duration(progress.elapsed_s)}")
    return " · ".join(parts)


def duration(seconds: float) -> str:
    """A span of time as a person reads it: 4.2 s, 37 s, 3 min 05 s."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s"
