"""A grid's cells run online: ordinary runs in the worker, as many at once as the quota allows.

An OnlineGrid is one task for the whole grid. Its scheduler, on a thread of its own, starts a
cell's run only when the grid's QuotaLimiter gives that cell a slot (so the run's time to first
token counts from sending, not from queueing) and gives the slot back when the run ends. The
grid ends when every cell has ended; then it keeps the cells' run ids, never the runs.

Re-running failed cells is a new OnlineGrid of those cells.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from reelscope.generation.events import StopReason
from reelscope.generation.runner import Pacer
from reelscope.lab.pacing import QuotaLimiter
from reelscope.runs.run import Run
from reelscope.tasks import LOCAL_OWNER, Progress, Task, TaskState, start_thread


class CellState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    STOPPED = "stopped"

    @property
    def ended(self) -> bool:
        return self not in (CellState.QUEUED, CellState.RUNNING)


@dataclass(frozen=True)
class CellStart:
    """A cell to run: its key, its model (whose quota it uses) and how to start its run."""

    key: str  # the cell's key, e.g. "r0-v1-m0"
    model_id: str
    start: Callable[[Pacer], Run]  # the lab's code: Runs.start_generation(..., pacer=pacer)


@dataclass(frozen=True)
class CellStatus:
    """Where one cell is: its state, its run once it has one, and why it failed to start."""

    state: CellState
    run_id: str | None = None
    error: str | None = None  # a start that raised; a run's own failure is in the run


_RUN_ENDINGS = {
    TaskState.DONE: CellState.COMPLETED,
    TaskState.FAILED: CellState.FAILED,
    TaskState.CANCELLED: CellState.STOPPED,
}


class OnlineGrid(Task):
    """The cells of one grid, run online under one QuotaLimiter. Thread-safe."""

    kind = "lab-grid"

    def __init__(
        self,
        cells: Sequence[CellStart],
        limiter: QuotaLimiter,
        *,
        owner: str = LOCAL_OWNER,
        label: str,
        origin: str | None = "lab",
        key: str | None = None,
        on_run: Callable[[str, Run], None] | None = None,
    ) -> None:
        """`on_run(key, run)` hears each cell's run as it starts (on the scheduler's thread)."""
        super().__init__(owner=owner, label=label, key=key, origin=origin)
        keys = [cell.key for cell in cells]
        if len(set(keys)) != len(keys):
            raise ValueError("Each cell of a grid needs its own key.")
        self._cells = {cell.key: cell for cell in cells}  # emptied when the grid ends
        self._model_of = {cell.key: cell.model_id for cell in cells}
        self._limiter = limiter
        self._on_run = on_run
        self._lock = threading.Lock()
        self._status = {key: CellStatus(CellState.QUEUED) for key in keys}
        self._runs: dict[str, Run] = {}  # cells running now; forgotten as each ends
        self._stop_asked: set[str] = set()  # running cells whose run is still being started
        self._unwatch: dict[str, Callable[[], None]] = {}
        self._cancelled = False
        self._woken = threading.Event()

    # -- what the lab calls --

    def begin(self) -> None:
        """Schedule the cells on a thread of the grid's own, which ends with the grid."""
        start_thread(self, self._schedule)

    def cell(self, key: str) -> CellStatus:
        with self._lock:
            return self._status[key]

    def cells(self) -> dict[str, CellStatus]:
        with self._lock:
            return dict(self._status)

    def stop(self, keys: Iterable[str]) -> None:
        """Stop these cells: a queued one never starts, a running one's run is stopped."""
        to_stop: list[Run] = []
        with self._lock:
            for key in keys:
                status = self._status[key]
                if status.state is CellState.QUEUED:
                    self._status[key] = CellStatus(CellState.STOPPED)
                elif key in self._runs:
                    to_stop.append(self._runs[key])
                elif status.state is CellState.RUNNING:
                    self._stop_asked.add(key)  # its start() is under way: stopped right after
        for run in to_stop:
            run.stop(StopReason.USER)  # its end comes back through _run_changed
        self._wake()

    def cancel(self) -> bool:
        """Stop every cell; False when the grid had already ended."""
        if self.done:
            return False
        with self._lock:
            self._cancelled = True
        self.stop(list(self._model_of))
        return True

    def progress(self) -> Progress:
        cells = self.cells()
        ended = sum(status.state.ended for status in cells.values())
        failed = sum(status.state is CellState.FAILED for status in cells.values())
        parts = [f"{ended} of {len(cells)} cells"]
        if failed:
            parts.append(f"{failed} failed")
        pause = self._pause_left(cells)
        if pause > 0:
            parts.append(f"paused {pause:.0f} s for quota")
        fraction = ended / len(cells) if cells else 1.0
        return Progress(self.status, ", ".join(parts), fraction)

    # -- the scheduler's thread --

    def _schedule(self) -> None:
        unwatch_limiter = self._limiter.watch(self._wake)
        try:
            while True:
                self._woken.clear()
                # Read before trying: a pause that ends in between must not leave us waiting
                # for a wake-up that will never come.
                opening = self._next_opening()
                started = self._start_what_fits()
                if self._all_ended():
                    break
                if not started:
                    self._woken.wait(opening)
        finally:
            unwatch_limiter()
            with self._lock:
                self._cells = {}  # what starting took (clients, requests) is not kept
            self.finish(TaskState.CANCELLED if self._cancelled else TaskState.DONE)

    def _start_what_fits(self) -> bool:
        """Start the first queued cell the limiter has a slot for; whether one started."""
        with self._lock:
            queued = [
                self._cells[key]
                for key, status in self._status.items()
                if status.state is CellState.QUEUED
            ]
        for cell in queued:
            key = cell.key
            if not self._limiter.try_acquire(cell.model_id):
                continue
            with self._lock:
                still_queued = self._status[key].state is CellState.QUEUED  # not stopped
                if still_queued:
                    self._status[key] = CellStatus(CellState.RUNNING)
            if not still_queued:
                self._limiter.release(cell.model_id)
                continue
            self._start(cell)
            return True
        return False

    def _start(self, cell: CellStart) -> None:
        try:
            run = cell.start(self._limiter.pacer(cell.model_id))
        except Exception as exc:  # the cell fails with why; the grid goes on
            self._end_cell(cell, CellStatus(CellState.FAILED, error=str(exc) or repr(exc)))
            return
        with self._lock:
            self._runs[cell.key] = run
            self._status[cell.key] = CellStatus(CellState.RUNNING, run.id)
            stop_now = cell.key in self._stop_asked or self._cancelled
            self._stop_asked.discard(cell.key)
        self.changed()
        if self._on_run is not None:
            self._on_run(cell.key, run)
        unwatch = run.watch(lambda: self._run_changed(cell, run))
        with self._lock:
            self._unwatch[cell.key] = unwatch
        if stop_now:
            run.stop(StopReason.USER)
        self._run_changed(cell, run)  # it may have ended before it was watched

    def _run_changed(self, cell: CellStart, run: Run) -> None:
        """On every change of a cell's run (from the worker's thread, or Stop's)."""
        if not run.done:
            return
        with self._lock:
            if self._runs.get(cell.key) is not run:
                return  # its end was already counted
            del self._runs[cell.key]
            unwatch = self._unwatch.pop(cell.key, None)
        if unwatch is not None:
            unwatch()
        self._end_cell(cell, CellStatus(_RUN_ENDINGS[run.status], run.id))

    def _end_cell(self, cell: CellStart, status: CellStatus) -> None:
        with self._lock:
            self._status[cell.key] = status
            self._stop_asked.discard(cell.key)
        self._limiter.release(cell.model_id)
        self._wake()

    def _all_ended(self) -> bool:
        with self._lock:
            return all(status.state.ended for status in self._status.values())

    def _next_opening(self) -> float | None:
        """Seconds until a queued cell's model ends its pause; None: wait to be woken."""
        with self._lock:
            models = {
                self._model_of[key]
                for key, status in self._status.items()
                if status.state is CellState.QUEUED
            }
        pauses = [p for p in map(self._limiter.pause_left, models) if p > 0]
        return min(pauses) if pauses else None

    def _pause_left(self, cells: dict[str, CellStatus]) -> float:
        models = {self._model_of[key] for key, s in cells.items() if not s.state.ended}
        return max(map(self._limiter.pause_left, models), default=0.0)

    def _wake(self) -> None:
        self._woken.set()
        self.changed()
