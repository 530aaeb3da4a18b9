"""The runs of one browser session: started, found again after a rerun, stopped with it."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable

from google.genai import Client

from reelscope.generation.events import StopReason
from reelscope.generation.request import GenerationRequest
from reelscope.generation.runner import RetryPolicy, Target, generate_events
from reelscope.runs.run import Run, RunSpec
from reelscope.runs.worker import EventSource, worker

KEPT_RUNS = 50  # finished runs kept in memory per session; history keeps them for good


class SessionRuns:
    """Owns a session's runs. When the session's state is dropped, its live runs are stopped.

    Streamlit discards a session's state when the session ends (tab closed and not reconnected);
    the finaliser then stops every run still going, so no worker outlives its session.
    """

    def __init__(self, on_start: Callable[[Run], None] | None = None) -> None:
        """`on_start` hears each run before its worker starts (e.g. a store subscribing)."""
        self._on_start = on_start
        self._runs: OrderedDict[str, Run] = OrderedDict()
        self._lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _stop_all, self._runs, self._lock)

    def start(
        self,
        spec: RunSpec,
        client: Client,
        request: GenerationRequest,
        *,
        target: Target,
        retry: RetryPolicy | None = None,
    ) -> Run:
        run = Run(spec)

        def events():
            return generate_events(
                client, request, run.elapsed, stream=spec.stream, target=target, retry=retry
            )

        return self.adopt(run, events)

    def adopt(self, run: Run, events: EventSource) -> Run:
        """Start `run` on the worker from any event source (a generation, a replay)."""
        with self._lock:
            self._runs[run.id] = run
            self._forget_old()
        if self._on_start is not None:
            self._on_start(run)
        worker().submit(run, events)
        return run

    def get(self, run_id: str | None) -> Run | None:
        with self._lock:
            return self._runs.get(run_id) if run_id else None

    def live(self) -> list[Run]:
        with self._lock:
            return [run for run in self._runs.values() if not run.done]

    def close(self) -> None:
        """Stop every live run (the session ended)."""
        self._finalizer()

    def _forget_old(self) -> None:
        finished = [rid for rid, run in self._runs.items() if run.done]
        for run_id in finished[: max(0, len(self._runs) - KEPT_RUNS)]:
            del self._runs[run_id]


def _stop_all(runs: OrderedDict[str, Run], lock: threading.Lock) -> None:
    with lock:
        live = [run for run in runs.values() if not run.done]
    for run in live:
        run.stop(StopReason.SESSION_ENDED)
