"""Writes runs to the store as they stream, off the run worker's event loop.

The worker is one asyncio loop shared by every session's runs: a write that waits on SQLite (a
busy timeout, a WAL checkpoint) must not stall them all. So the listener a run calls on each
event only notes "this run has news" (a dict write under a lock), and one writer thread per
store pulls each run's new events from the run itself, in the run's own order, and commits them
in one transaction per batch. The batch is what arrived in the last WRITE_EVERY_S (measured in
`lags`): a stream gets a few commits a second, not one a chunk, because the writer's work
shares the GIL with the stream it records. A Stop or any other end is written at once, with
what arrived before it; a crash loses at most that last batch. Each row names the instance that
streams it, whose heartbeat and stop requests liveness.py keeps while the run is live.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections import deque

from reelscope.database import SharedDatabase
from reelscope.generation.events import Event, is_terminal
from reelscope.instance import INSTANCE_ID
from reelscope.runs.replay import REPLAY_OF
from reelscope.runs.run import Run
from reelscope.store.labs import record_ttft
from reelscope.store.liveness import Liveness
from reelscope.store.runs import RunRepo, backend_of_spec, status_of

_LOGGER = logging.getLogger(__name__)
RETRY_S = 0.5
WRITE_EVERY_S = 0.2  # after news, wait this long for more (unless a run ends): few commits


class Recorder:
    """`Runs(registry, on_start=recorder)`: keeps every run it hears of. Thread-safe."""

    def __init__(
        self, db: SharedDatabase, repo: RunRepo, app_version: str, instance: str = INSTANCE_ID
    ) -> None:
        self._db = db
        self._repo = repo
        self._app_version = app_version
        self.liveness = Liveness(repo, instance)
        self._changed = threading.Condition()
        self._pending: dict[str, tuple[Run, float]] = {}  # run id -> (run, first unwritten news)
        self._written: dict[str, int] = {}  # run id -> events already in the database
        self._unrecorded: set[str] = set()  # runs whose row the writer has not inserted yet
        self._busy = False
        self._closed = False
        self.lags: deque[float] = deque(maxlen=10_000)  # news heard -> committed, seconds
        self._thread = threading.Thread(target=self._loop, name="reelscope-store", daemon=True)
        self._thread.start()
        atexit.register(_flush_at_exit, weakref.ref(self))

    def __call__(self, run: Run) -> None:
        """Keep `run`: its row and its events as they come, all written by the writer thread.

        Nothing is written on the caller's thread, so starting a run costs no SQLite commit.
        """
        if run.spec.extra.get(REPLAY_OF):
            return
        with self._changed:
            self._written[run.id] = 0
            self._unrecorded.add(run.id)
        self.liveness.add(run)
        run.subscribe(self._heard)
        self._heard(run, None)  # the row, and any events that came before the subscription

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every event heard so far is committed; whether it was in time."""
        with self._changed:
            return self._changed.wait_for(
                lambda: not self._pending and not self._busy, timeout=timeout
            )

    def max_lag_s(self) -> float:
        return max(self.lags, default=0.0)

    def close(self, timeout: float = 5.0) -> None:
        self.flush(timeout)
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self.liveness.close(timeout)

    def _heard(self, run: Run, event: Event | None) -> None:
        # Called on the worker's thread for every chunk of every run, so the common case takes
        # no lock: news of a run already waiting to be written changes nothing, unless it is
        # the end. (A stale read of `_pending`, as the writer swaps it, only defers this news
        # to the run's next event, and the last event always takes the lock.)
        if event is not None and run.id in self._pending and not is_terminal(event):
            return
        with self._changed:
            # Wake the writer only for a run's first news or its end: it reads every event
            # since the last commit anyway.
            if run.id not in self._pending:
                self._pending[run.id] = (run, time.monotonic())
            elif not run.done:
                return
            self._changed.notify_all()

    def _loop(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._pending or self._closed)
                if self._closed and not self._pending:
                    return
                # One commit for many chunks rather than one each: the worker streams on
                # meanwhile. A run's end (or close) is written at once.
                self._changed.wait_for(
                    lambda: self._closed or any(run.done for run, _ in self._pending.values()),
                    timeout=WRITE_EVERY_S,
                )
                batch, self._pending = self._pending, {}
                self._busy = True
            failed = self._write(batch)
            with self._changed:
                for run_id, news in failed.items():
                    self._pending.setdefault(run_id, news)
                self._busy = False
                self._changed.notify_all()
            if failed:
                time.sleep(RETRY_S)

    def _write(self, batch: dict[str, tuple[Run, float]]) -> dict[str, tuple[Run, float]]:
        """Commit each run's new events; the runs that could not be written, to try again."""
        failed = {}
        for run_id, (run, heard_at) in batch.items():
            done = run.done  # read first: if it ended, the events read next are all there is
            with self._changed:
                seen = self._written.get(run_id)
            if seen is None:  # already closed in the database
                continue
            events = run.events(seen)
            with self._changed:
                new = run_id in self._unrecorded
            state = run.state() if done else None
            ended = (state, status_of(state)) if state is not None else None
            try:
                with self._db.transaction() as tx:
                    if new:  # a run that ended before its first write: one row, summarised
                        self._repo.insert(
                            tx, run_id, run.started_at, run.spec, self._app_version,
                            owner=run.owner, instance=self.liveness.instance, ended=ended,
                        )  # fmt: skip
                    self._repo.append_events(tx, run_id, seen, events)
                    if ended is not None and not new:
                        self._repo.summarise(
                            tx, run_id, run.spec.model_id, *ended, backend_of_spec(run.spec)
                        )
                    if state is not None and _lab_cell(run):
                        record_ttft(tx, run.spec.extra["lab"], run.spec.extra.get("cell", ""),
                                    state.time_to_first_token)  # fmt: skip
            except Exception:  # a full disk, a lock held too long: retry, never lose the worker
                _LOGGER.exception("Could not keep events of run %s; retrying", run_id)
                failed[run_id] = (run, heard_at)
                continue
            self.lags.append(time.monotonic() - heard_at)
            with self._changed:
                self._unrecorded.discard(run_id)
                self._written[run_id] = seen + len(events)
                if done:
                    del self._written[run_id]
        return failed


def _lab_cell(run: Run) -> bool:
    """A lab's online cell (not a replay of one, which is a run of its own)."""
    return "lab" in run.spec.extra and REPLAY_OF not in run.spec.extra


def _flush_at_exit(ref: weakref.ref) -> None:
    recorder = ref()
    if recorder is not None:
        recorder.flush(timeout=2.0)
