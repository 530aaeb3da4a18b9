"""The process's run worker: one asyncio event loop on a daemon thread, one task per run.

Runs outlive the Streamlit script run that started them (a rerun, a slider moved, another page
visited), so the HTTP call cannot belong to the script thread. One loop serves every session:
side-by-side runs are tasks, not threads. Stopping a run cancels its task from any thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar

from reelscope.generation.errors import classify
from reelscope.generation.events import Event, Failed
from reelscope.runs.run import Run

_LOGGER = logging.getLogger(__name__)

EventSource = Callable[[], AsyncIterator[Event]]
T = TypeVar("T")


class RunWorker:
    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._tasks: set[asyncio.Task] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="reelscope-runs", daemon=True
        )
        self._thread.start()

    def submit(self, run: Run, events: EventSource) -> None:
        """Drive `events()` into `run` on the worker loop until it ends or the run is stopped."""
        ready = threading.Event()

        def start() -> None:
            task = self._loop.create_task(_drive(run, events), name=f"run-{run.id[:8]}")
            with self._lock:
                self._tasks.add(task)
            task.add_done_callback(self._forget)
            run.on_cancel(lambda: self._loop.call_soon_threadsafe(task.cancel))
            ready.set()

        self._loop.call_soon_threadsafe(start)
        ready.wait(timeout=5)

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run a coroutine on the worker loop and wait for its result.

        A google-genai client's async transport belongs to the first event loop that used it,
        so anything sharing a client with runs (a benchmark's baseline, a tool) runs here too.
        """
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def active_count(self) -> int:
        """Runs whose task is still going (a test counts them: none may outlive its session)."""
        with self._lock:
            return sum(not task.done() for task in self._tasks)

    def _forget(self, task: asyncio.Task) -> None:
        with self._lock:
            self._tasks.discard(task)


async def _drive(run: Run, events: EventSource) -> None:
    stream = events()
    try:
        async for event in stream:
            if not run.append(event):
                break  # stopped meanwhile: nothing more is kept
    except asyncio.CancelledError:
        pass  # Run.stop() already closed the run with its Stopped event
    except Exception as exc:  # a bug of ours: end the run readably rather than hang it
        _LOGGER.exception("Run %s failed unexpectedly", run.id)
        run.append(Failed(run.elapsed(), classify(exc, model_id=run.spec.model_id,
                                                   project=None, location="")))  # fmt: skip
    finally:
        await stream.aclose()


_worker: RunWorker | None = None
_worker_lock = threading.Lock()


def worker() -> RunWorker:
    """The process's worker, started on first use."""
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = RunWorker()
        return _worker
