"""Background work, one model for all of it: runs, embedding jobs, map fits, shot cuts, staging.

A task has an id, a kind, an owner, a label, a state, a progress snapshot, a cancel, and a
result that is stored where it belongs (the run history, a collection, the media library) and
then released. It lives in the process's registry while it runs and for a while after, bounded
by count and age, so any page finds it by id, by owner or by what it works on (its `key`): in
this session, in another tab, or after a reload. A page follows any task the same way
(components/common/follow.py): it watches the task and repaints when the task says it changed.

Nothing a task starts outlives it: its thread ends with its work, its watchers are removed by
whoever added them, and the registry forgets it once it is finished and old.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

LOCAL_OWNER = "local"  # the one user of a local install; a deployment names its users
KEEP_FINISHED = 200  # finished tasks the registry remembers (for pages that show outcomes)
KEEP_FINISHED_S = 3600.0  # and for at most this long after they finished


class TaskState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Progress:
    """What a page shows of a task at one moment."""

    state: TaskState
    text: str  # one line a person reads: "12 / 40 items · 3 retries", "Streaming… 4.2 s"
    fraction: float | None = None  # 0..1 when known

    @property
    def running(self) -> bool:
        return self.state is TaskState.RUNNING


class Task:
    """The shape every kind of background work shares. Thread-safe.

    A subclass does its work (on a thread of its own, or the run worker's loop), calls
    `changed()` whenever what `progress()` would say has changed, and `finish()` once at the end.
    """

    kind: ClassVar[str] = "task"

    def __init__(
        self,
        *,
        owner: str = LOCAL_OWNER,
        label: str = "",
        key: str | None = None,
        origin: str | None = None,
    ) -> None:
        self.id = uuid.uuid4().hex
        self.owner = owner
        self.label = label
        self.key = key  # what the task works on, so the same work is never started twice
        self.origin = origin  # where it was started ("ask", "chapters"…): where Open goes
        self.started_at = dt.datetime.now(dt.UTC)
        self._started = time.monotonic()
        self._ended: float | None = None
        self._condition = threading.Condition()
        self._version = 0
        self._state = TaskState.RUNNING
        self._watchers: dict[int, Callable[[], None]] = {}
        self._next_watcher = 0

    # -- what a page reads --

    @property
    def status(self) -> TaskState:
        with self._condition:
            return self._state

    @property
    def done(self) -> bool:
        return self.status is not TaskState.RUNNING

    @property
    def version(self) -> int:
        """Grows with every change: a follower repaints when it differs from the one it drew."""
        with self._condition:
            return self._version

    @property
    def ended_at(self) -> float | None:
        """When it ended (time.monotonic()), or None while it runs."""
        with self._condition:
            return self._ended

    def elapsed(self) -> float:
        with self._condition:
            end = self._ended
        return (end if end is not None else time.monotonic()) - self._started

    def progress(self) -> Progress:
        return Progress(self.status, self.label)

    def cancel(self) -> bool:
        """Ask the work to stop; False when it had already ended."""
        return self.finish(TaskState.CANCELLED)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the task has ended or `timeout` passes; whether it ended."""
        with self._condition:
            return self._condition.wait_for(lambda: self._state is not TaskState.RUNNING, timeout)

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` (from the task's thread; keep it quick) after each change.

        Returns the function that stops watching: whoever watches must call it when done.
        """
        with self._condition:
            token = self._next_watcher
            self._next_watcher += 1
            self._watchers[token] = callback

        def unwatch() -> None:
            with self._condition:
                self._watchers.pop(token, None)

        return unwatch

    @property
    def watcher_count(self) -> int:
        with self._condition:
            return len(self._watchers)

    def release(self) -> None:
        """Drop what the task holds beyond its outcome (the registry forgets it next)."""

    # -- what the work calls --

    def changed(self) -> None:
        with self._condition:
            self._version += 1
            self._condition.notify_all()
            watchers = list(self._watchers.values())
        for callback in watchers:
            callback()

    def finish(self, state: TaskState) -> bool:
        """End the task in `state` (once: later calls change nothing); whether this call did."""
        with self._condition:
            if self._state is not TaskState.RUNNING:
                return False
            self._state = state
            self._ended = time.monotonic()
        self.changed()
        return True


class TaskRegistry:
    """The process's tasks, live and recently finished. Bounded: finished tasks beyond
    `keep_finished`, or older than `keep_finished_s`, are released and forgotten."""

    def __init__(
        self,
        keep_finished: int = KEEP_FINISHED,
        keep_finished_s: float = KEEP_FINISHED_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tasks: OrderedDict[str, Task] = OrderedDict()
        self._finished_at: dict[str, float] = {}
        self._lock = threading.Lock()
        self._keep_finished = keep_finished
        self._keep_finished_s = keep_finished_s
        self._clock = clock

    def add(self, task: Task) -> Task:
        with self._lock:
            self._tasks[task.id] = task
            self._forget_old()
        return task

    def start_once(self, kind: str, key: str, make: Callable[[], Task]) -> Task:
        """The live (or done) task of `kind` working on `key`, or a new one from `make()`.

        A failed or cancelled one is replaced: asking again is how a user retries.
        """
        with self._lock:
            for task in reversed(self._tasks.values()):
                if task.kind == kind and task.key == key:
                    if task.status in (TaskState.RUNNING, TaskState.DONE):
                        return task
                    break
            task = make()
            self._tasks[task.id] = task
            self._forget_old()
        return task

    def get(self, task_id: str | None) -> Task | None:
        if not task_id:
            return None
        with self._lock:
            return self._tasks.get(task_id)

    def find(self, kind: str, key: str) -> Task | None:
        """The newest task of `kind` working on `key`."""
        with self._lock:
            for task in reversed(self._tasks.values()):
                if task.kind == kind and task.key == key:
                    return task
        return None

    def tasks(
        self, *, owner: str | None = None, kind: str | None = None, live: bool | None = None
    ) -> list[Task]:
        """Newest first, filtered by owner, kind and whether they are still running."""
        with self._lock:
            self._forget_old()
            found = list(self._tasks.values())
        return [
            task
            for task in reversed(found)
            if (owner is None or task.owner == owner)
            and (kind is None or task.kind == kind)
            and (live is None or live != task.done)
        ]

    def __len__(self) -> int:
        with self._lock:
            return len(self._tasks)

    def __iter__(self) -> Iterator[Task]:
        return iter(self.tasks())

    def _forget_old(self) -> None:
        now = self._clock()
        for task_id, task in self._tasks.items():
            if task.done:
                self._finished_at.setdefault(task_id, now)
        finished = [tid for tid in self._tasks if tid in self._finished_at]
        too_many = len(finished) - self._keep_finished
        for index, task_id in enumerate(finished):
            if index < too_many or now - self._finished_at[task_id] > self._keep_finished_s:
                self._tasks.pop(task_id).release()
                del self._finished_at[task_id]


_registry: TaskRegistry | None = None
_registry_lock = threading.Lock()


def registry() -> TaskRegistry:
    """The process's registry (a module global: every session and page sees the same tasks)."""
    global _registry
    with _registry_lock:
        if _registry is None:
            _registry = TaskRegistry()
        return _registry


@dataclass
class Watch:
    """One task followed by a view: `paint` when it changed, `heartbeat` at least every beat."""

    task: Task
    paint: Callable[[], None] | None = None
    heartbeat: Callable[[], None] | None = None
    settle: bool = True  # its end ends the following (else: only when every task has ended)
    drawn: int = -1  # the task version last painted


HEARTBEAT_S = 0.1  # the longest between two beats: where a UI can interrupt the follower
PAINT_S = 0.03  # at most ~30 paints a second, however fast a task changes


def follow(
    watches: Sequence[Watch],
    *,
    beat: Callable[[], None] = lambda: None,
    heartbeat_s: float = HEARTBEAT_S,
    paint_s: float = PAINT_S,
) -> None:
    """Until a task that settles ends, or every task has ended: paint each task when it
    changed (woken by the task itself, not by a timer), and beat at least every `heartbeat_s`.

    Every watcher this adds is removed when it returns, however it returns (a UI may interrupt
    it from inside a paint).
    """
    woken = threading.Event()
    tasks = {id(w.task): w.task for w in watches}.values()
    unwatch = [task.watch(woken.set) for task in tasks]
    try:
        while True:
            woken.clear()
            painted = False
            for watch in watches:
                version = watch.task.version
                if version != watch.drawn:
                    watch.drawn = version
                    if watch.paint is not None:
                        watch.paint()
                        painted = True
            for watch in watches:
                if watch.heartbeat is not None:
                    watch.heartbeat()
            beat()
            if any(w.settle and w.task.done for w in watches) or all(w.task.done for w in watches):
                return
            if painted:
                time.sleep(paint_s)
            woken.wait(heartbeat_s)
    finally:
        for stop_watching in unwatch:
            stop_watching()


def start_thread(task: Task, work: Callable[[], None]) -> threading.Thread:
    """Run `work` for `task` on a daemon thread of its own, which ends with the work."""
    thread = threading.Thread(target=work, name=f"reelscope-{task.kind}-{task.id[:8]}", daemon=True)
    thread.start()
    return thread
