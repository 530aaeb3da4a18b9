"""This instance's live runs in the shared run table: their heartbeat, and stops asked for them.

One thread per store, not one per run, started with the store's first run: every HEARTBEAT_S
it refreshes the heartbeat of all the instance's live runs in one UPDATE, and every STOP_POLL_S
it looks for stop requests on them in one SELECT, stopping each run another instance (or a tab
here) asked to stop, which ends its stream as the Stop button does. With no live run it waits
without a query. It ends with the store's recorder; an instance that dies stops heartbeating,
and its runs go stale (RunRepo.close_stale).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from reelscope.generation.events import StopReason
from reelscope.instance import HEARTBEAT_S, STOP_POLL_S
from reelscope.runs.run import Run
from reelscope.store.runs import RunRepo

_LOGGER = logging.getLogger(__name__)


class Liveness:
    """`add(run)` for each run this instance streams and records. Thread-safe."""

    def __init__(
        self,
        repo: RunRepo,
        instance: str,
        *,
        heartbeat_s: float = HEARTBEAT_S,
        poll_s: float = STOP_POLL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.instance = instance
        self._repo = repo
        self._heartbeat_s, self._poll_s, self._clock = heartbeat_s, poll_s, clock
        self._runs: dict[str, Run] = {}
        self._condition = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None

    def add(self, run: Run) -> None:
        with self._condition:
            if self._closed:
                return
            self._runs[run.id] = run
            if self._thread is None:  # a store that records no run has no thread for it
                self._thread = threading.Thread(
                    target=self._loop, name="reelscope-liveness", daemon=True
                )
                self._thread.start()
            self._condition.notify_all()

    def live_count(self) -> int:
        with self._condition:
            return sum(not run.done for run in self._runs.values())

    def close(self, timeout: float = 5.0) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _loop(self) -> None:
        next_beat: float | None = None
        while True:
            with self._condition:
                if not self._runs:
                    next_beat = None
                self._condition.wait_for(lambda: self._runs or self._closed)
                if next_beat is None:  # a new run's row carries a fresh heartbeat of its own
                    next_beat = time.monotonic() + self._heartbeat_s
                # The first look is a poll after the start: a run shorter than that costs none.
                self._condition.wait_for(lambda: self._closed, timeout=self._poll_s)
                if self._closed:
                    return
                self._runs = {rid: run for rid, run in self._runs.items() if not run.done}
                live = dict(self._runs)
            if live:
                next_beat = self._look(live, next_beat)

    def _look(self, live: dict[str, Run], next_beat: float) -> float:
        """Beat if it is time, stop what was asked to stop; when the next beat is due."""
        try:
            if time.monotonic() >= next_beat:
                next_beat = time.monotonic() + self._heartbeat_s
                self._repo.heartbeat(self.instance, self._clock())
            for run_id in self._repo.stop_requests(self.instance):
                if run_id in live:
                    live[run_id].stop(StopReason.USER)
        except Exception:  # the database away for a while: try again, never end the loop
            _LOGGER.exception("Could not refresh the live runs of instance %s", self.instance)
        return next_beat
