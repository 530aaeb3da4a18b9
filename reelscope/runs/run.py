"""A run: the request it came from, its append-only events, and a cancel token.

A run is written by one worker (the events of its HTTP call) and read by any number of views,
each from its own thread; everything shared goes through one lock. Once a terminal event
(Completed, Failed, Stopped) is in, the list is closed: what the user saw when they pressed Stop
is the record.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from reelscope.generation.events import Event, Stopped, StopReason, to_record
from reelscope.generation.state import RunState
from reelscope.media import MediaSource
from reelscope.parameters import GenerationParams


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


class Run:
    """One generation, from Run to its end. Thread-safe."""

    def __init__(
        self,
        spec: RunSpec,
        *,
        run_id: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.id = run_id or uuid.uuid4().hex
        self.spec = spec
        self.started_at = dt.datetime.now(dt.UTC)
        self._clock = clock
        self._started = clock()
        self._events: list[Event] = []
        self._state = RunState()
        self._changed = threading.Condition()
        self._ended = threading.Event()  # waiting for the end must not wake on every chunk
        self._cancel = threading.Event()
        self._cancel_hooks: list[Callable[[], None]] = []
        self._listeners: list[Callable[[Run, Event], None]] = []

    def elapsed(self) -> float:
        """Seconds since the run started: the `at` of its next event."""
        return self._clock() - self._started

    def append(self, event: Event) -> bool:
        """Add an event; False (and nothing added) once the run has ended.

        Listeners hear it after it is in, on the appending thread (the worker's, or Stop's).
        """
        with self._changed:
            if self._state.done:
                return False
            self._events.append(event)
            self._state.apply(event)
            self._changed.notify_all()
            if self._state.done:
                self._ended.set()
            listeners = list(self._listeners)
        for listener in listeners:
            listener(self, event)
        return True

    def subscribe(self, listener: Callable[[Run, Event], None]) -> None:
        """Hear every event appended from now on (e.g. a store writing them as they come)."""
        with self._changed:
            self._listeners.append(listener)

    def stop(self, reason: StopReason = StopReason.USER) -> bool:
        """Close the run now with a Stopped event and cancel its worker; False if it had ended.

        The event goes in first, so whatever the worker still delivers is refused: the view
        reads "stopped" at once, while cancelling closes the HTTP stream or ends a backoff wait.
        """
        stopped = self.append(Stopped(self.elapsed(), reason))
        self._cancel.set()
        with self._changed:
            hooks, self._cancel_hooks = self._cancel_hooks, []
        for hook in hooks:
            hook()
        return stopped

    def on_cancel(self, hook: Callable[[], None]) -> None:
        """Call `hook` when the run is stopped (at once if it already was)."""
        with self._changed:
            if not self._cancel.is_set():
                self._cancel_hooks.append(hook)
                return
        hook()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def done(self) -> bool:
        with self._changed:
            return self._state.done

    def state(self) -> RunState:
        """A snapshot of the folded state."""
        with self._changed:
            return self._state.copy()

    def events(self, start: int = 0) -> list[Event]:
        with self._changed:
            return self._events[start:]

    @property
    def event_count(self) -> int:
        with self._changed:
            return len(self._events)

    def wait_for_news(self, seen: int, timeout: float) -> bool:
        """Block until the run has more than `seen` events or `timeout` passes."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._events) > seen, timeout)

    def wait(self, predicate: Callable[[RunState], bool], timeout: float) -> bool:
        """Block until `predicate(state)` holds or `timeout` passes; whether it holds."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self._state), timeout)

    def wait_done(self, timeout: float) -> bool:
        """Block until the run has ended or `timeout` passes; whether it ended."""
        return self._ended.wait(timeout)

    def to_record(self) -> dict[str, Any]:
        """The run as plain data: spec, start time and every event."""
        with self._changed:
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
