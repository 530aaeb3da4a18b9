"""A run: the request it came from, its append-only events, and a cancel token.

A run is written by one worker (the events of its HTTP call) and read by any number of views,
each from its own thread; everything shared goes through one lock. Once a terminal event
(Completed, Failed, Stopped) is in, the list is closed: what the user saw when they pressed Stop
is the record. A run is a task (reelscope/tasks.py): it has an owner, lives in the process's
registry, and a page follows it as it follows any other task.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from reelscope.generation.events import Event, Stopped, StopReason, to_record
from reelscope.generation.state import RunState
from reelscope.media import MediaSource
from reelscope.parameters import GenerationParams
from reelscope.tasks import LOCAL_OWNER, Progress, Task, TaskState


@dataclass(frozen=True)
class SourceRef:
    """A source as a run records it: uploads by content hash, links by URI."""

    kind: str
    mime_type: str
    label: str
    uri: str | None = None
    sha256: str | None = None
    size: int | None = None
    start_s: float | None = None  # the clip sent (videoMetadata), when one was set
    end_s: float | None = None
    fps: float | None = None
    resolution: str | None = None  # per-part media resolution

    @classmethod
    def of(cls, source: MediaSource) -> SourceRef:
        clip = source.clip
        return cls(
            str(source.kind),
            source.mime_type,
            source.label,
            source.uri,
            source.sha256,
            source.size,
            *((clip.start_s, clip.end_s, clip.fps, clip.resolution) if clip else ()),
        )


@dataclass(frozen=True)
class RunSpec:
    """What was asked, exactly as sent: enough to show, re-run or export the run."""

    model_id: str
    prompt: str
    params: GenerationParams
    sources: tuple[SourceRef, ...] = ()
    stream: bool = True
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. a response schema, a mode name

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        record["params"]["stop_sequences"] = list(self.params.stop_sequences)
        record["sources"] = [asdict(s) for s in self.sources]
        return record


class Run(Task):
    """One generation, from Run to its end: a task whose progress is its events. Thread-safe."""

    kind = "run"

    def __init__(
        self,
        spec: RunSpec,
        *,
        run_id: str | None = None,
        owner: str = LOCAL_OWNER,
        origin: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(owner=owner, label=run_label(spec), origin=origin)
        self.id = run_id or self.id
        self.spec = spec
        self._clock = clock
        self._run_started = clock()
        self._events: list[Event] = []
        self._fold = RunState()
        self._end_event = threading.Event()  # waiting for the end must not wake on every chunk
        self._cancel = threading.Event()
        self._cancel_hooks: list[Callable[[], None]] = []
        self._listeners: list[Callable[[Run, Event], None]] = []

    def elapsed(self) -> float:
        """Seconds since the run started: the `at` of its next event."""
        return self._clock() - self._run_started

    def append(self, event: Event) -> bool:
        """Add an event; False (and nothing added) once the run has ended.

        Listeners and watchers hear it after it is in, on the appending thread (the worker's,
        or Stop's).
        """
        with self._condition:
            if self._fold.done:
                return False
            self._events.append(event)
            self._fold.apply(event)
            self._version += 1
            if self._fold.done:
                self._state = _task_status(self._fold)
                self._ended = time.monotonic()  # Task.ended_at
                self._end_event.set()
            self._condition.notify_all()
            listeners = list(self._listeners)
            watchers = list(self._watchers.values())
        for listener in listeners:
            listener(self, event)
        for callback in watchers:
            callback()
        return True

    def subscribe(self, listener: Callable[[Run, Event], None]) -> None:
        """Hear every event appended from now on (e.g. a store writing them as they come)."""
        with self._condition:
            self._listeners.append(listener)

    def stop(self, reason: StopReason = StopReason.USER) -> bool:
        """Close the run now with a Stopped event and cancel its worker; False if it had ended.

        The event goes in first, so whatever the worker still delivers is refused: the view
        reads "stopped" at once, while cancelling closes the HTTP stream or ends a backoff wait.
        """
        stopped = self.append(Stopped(self.elapsed(), reason))
        self._cancel.set()
        with self._condition:
            hooks, self._cancel_hooks = self._cancel_hooks, []
        for hook in hooks:
            hook()
        return stopped

    def cancel(self) -> bool:
        return self.stop(StopReason.USER)

    def finish(self, state: TaskState) -> bool:
        """A run ends by its events (a terminal one), never by a bare state."""
        if state is TaskState.CANCELLED:
            return self.stop(StopReason.USER)
        raise ValueError("A run ends with a terminal event: append Completed or Failed.")

    def on_cancel(self, hook: Callable[[], None]) -> None:
        """Call `hook` when the run is stopped (at once if it already was)."""
        with self._condition:
            if not self._cancel.is_set():
                self._cancel_hooks.append(hook)
                return
        hook()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def state(self) -> RunState:
        """A snapshot of the folded state."""
        with self._condition:
            return self._fold.copy()

    def progress(self) -> Progress:
        state = self.state()
        return Progress(self.status, _progress_text(state, self.elapsed()))

    def events(self, start: int = 0) -> list[Event]:
        with self._condition:
            return self._events[start:]

    @property
    def event_count(self) -> int:
        with self._condition:
            return len(self._events)

    def wait_for_news(self, seen: int, timeout: float) -> bool:
        """Block until the run has more than `seen` events or `timeout` passes."""
        with self._condition:
            return self._condition.wait_for(lambda: len(self._events) > seen, timeout)

    def wait_until(self, predicate: Callable[[RunState], bool], timeout: float) -> bool:
        """Block until `predicate(state)` holds or `timeout` passes; whether it holds."""
        with self._condition:
            return self._condition.wait_for(lambda: predicate(self._fold), timeout)

    def wait_done(self, timeout: float) -> bool:
        """Block until the run has ended or `timeout` passes; whether it ended."""
        return self._end_event.wait(timeout)

    def release(self) -> None:
        """Forgotten by the registry: its events are kept by the store, not in memory."""
        with self._condition:
            self._listeners.clear()
            self._cancel_hooks.clear()

    def to_record(self) -> dict[str, Any]:
        """The run as plain data: spec, start time and every event."""
        with self._condition:
            events = [to_record(e) for e in self._events]
        return {
            "id": self.id,
            "started_at": self.started_at.isoformat(),
            "spec": self.spec.to_record(),
            "events": events,
        }

    def __repr__(self) -> str:
        last = self.events()[-1:] or None
        return f"Run({self.id[:8]}, {self.spec.model_id}, last={last})"


def run_label(spec: RunSpec) -> str:
    """How a run is named in lists: its model and the start of its prompt."""
    return label_of(spec.model_id, spec.prompt)


def label_of(model_id: str, prompt: str) -> str:
    """A run's name in lists from its model and prompt (a kept run's, or a live one's)."""
    prompt = " ".join(prompt.split())
    prompt = prompt[:57] + "…" if len(prompt) > 60 else prompt
    return f"{model_id} · {prompt}" if prompt else model_id


def _task_status(state: RunState) -> TaskState:
    if state.error is not None:
        return TaskState.FAILED
    if state.stopped:
        return TaskState.CANCELLED
    return TaskState.DONE


def _progress_text(state: RunState, elapsed: float) -> str:
    if state.done:
        return "Stopped" if state.stopped else ("Failed" if state.error else "Finished")
    if state.retries and state.first_token_at is None:
        return f"Retrying… {elapsed:.0f} s"
    if state.first_token_at is None:
        return f"Waiting for the first token… {elapsed:.0f} s"
    return f"Streaming… {elapsed:.0f} s"
