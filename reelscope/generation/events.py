"""The typed events a generation run emits. A store can record them and a replay re-emit them.

Every event carries `at`: seconds since the run started. Each is a plain frozen record with a
type tag (`kind`), turned into a JSON-ready dict by `to_record` and back by `from_record`, so a
run's whole history is its list of events: nothing about a run lives outside them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import Any, ClassVar


@dataclass(frozen=True)
class TextDelta:
    kind: ClassVar[str] = "text"
    at: float
    text: str
    candidate: int = 0


@dataclass(frozen=True)
class Thought:
    """A thought summary the model shared (only when asked to include thoughts)."""

    kind: ClassVar[str] = "thought"
    at: float
    text: str
    candidate: int = 0


@dataclass(frozen=True)
class Usage:
    kind: ClassVar[str] = "usage"
    at: float
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    thinking_tokens: int | None = None
    total_tokens: int | None = None
    cached_tokens: int | None = None  # part of prompt_tokens, from Vertex's context cache
    prompt_by_modality: tuple[tuple[str, int], ...] = ()  # ("VIDEO", 840), ("AUDIO", 300), …


@dataclass(frozen=True)
class Finished:
    """The model said it was done with one candidate, and why (STOP, MAX_TOKENS, SAFETY, …)."""

    kind: ClassVar[str] = "finished"
    at: float
    reason: str
    candidate: int = 0


@dataclass(frozen=True)
class Blocked:
    """A safety (or policy) block: of the whole prompt, or of a response part-way through."""

    kind: ClassVar[str] = "blocked"
    at: float
    where: str  # "prompt" | "response"
    reason: str
    categories: tuple[str, ...] = ()
    candidate: int = 0


@dataclass(frozen=True)
class Retrying:
    """The request failed before any answer arrived; it is sent again after `delay_s`."""

    kind: ClassVar[str] = "retrying"
    at: float
    attempt: int
    max_attempts: int
    delay_s: float
    reason: str


class ErrorKind(StrEnum):
    CREDENTIALS = "credentials"
    PERMISSION = "permission"
    NOT_FOUND = "not_found"
    QUOTA = "quota"
    SERVER = "server"
    INVALID_ARGUMENT = "invalid_argument"
    TIMEOUT = "timeout"
    STREAM_CUT = "stream_cut"
    NETWORK = "network"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class RunError:
    kind: ErrorKind
    message: str
    hint: str = ""
    retryable: bool = False


@dataclass(frozen=True)
class EndedEarly:
    """The stream closed cleanly but the model never said it was done: the text is partial."""

    kind: ClassVar[str] = "ended_early"
    at: float
    candidate: int = 0


@dataclass(frozen=True)
class Completed:
    """The response ended without an error (finish reasons and EndedEarly say how). Ends the run."""

    kind: ClassVar[str] = "completed"
    at: float


@dataclass(frozen=True)
class Failed:
    """The run ended on an error. Text that arrived before it stays valid, but incomplete."""

    kind: ClassVar[str] = "failed"
    at: float
    error: RunError


class StopReason(StrEnum):
    USER = "user"  # the Stop button
    REPLACED = "replaced"  # a new run on the same page
    SESSION_ENDED = "session_ended"  # the browser session is gone (kept for old records)
    SERVER_STOPPED = "server_stopped"  # the server shut down while it ran


@dataclass(frozen=True)
class Stopped:
    """The run was stopped before it ended: nothing more was sent or kept after this."""

    kind: ClassVar[str] = "stopped"
    at: float
    reason: StopReason = StopReason.USER


Event = (
    TextDelta
    | Thought
    | Usage
    | Finished
    | Blocked
    | Retrying
    | EndedEarly
    | Completed
    | Failed
    | Stopped
)
TERMINAL_EVENTS = (Completed, Failed, Stopped)
_BY_KIND: dict[str, type] = {
    cls.kind: cls
    for cls in (
        TextDelta,
        Thought,
        Usage,
        Finished,
        Blocked,
        Retrying,
        EndedEarly,
        Completed,
        Failed,
        Stopped,
    )
}


def is_terminal(event: Event) -> bool:
    return isinstance(event, TERMINAL_EVENTS)


def to_record(event: Event) -> dict[str, Any]:
    """A JSON-ready dict with the event's `kind` tag."""
    record = asdict(event)
    if isinstance(event, Blocked):
        record["categories"] = list(event.categories)
    return {"kind": event.kind, **record}


def from_record(record: dict[str, Any]) -> Event:
    """The event `to_record` made; ValueError for an unknown kind or missing field."""
    data = dict(record)
    kind = data.pop("kind", None)
    cls = _BY_KIND.get(str(kind))
    if cls is None:
        raise ValueError(f"Unknown event kind {kind!r}")
    names = {f.name for f in fields(cls)}
    data = {k: v for k, v in data.items() if k in names}
    if cls is Failed:
        error = dict(data["error"])
        data["error"] = RunError(**{**error, "kind": ErrorKind(error["kind"])})
    elif cls is Blocked:
        data["categories"] = tuple(data.get("categories", ()))
    elif cls is Usage:
        data["prompt_by_modality"] = tuple(
            (str(name), int(count)) for name, count in data.get("prompt_by_modality") or ()
        )
    elif cls is Stopped:
        data["reason"] = StopReason(data.get("reason", StopReason.USER))
    try:
        return cls(**data)
    except TypeError as exc:
        raise ValueError(f"Malformed {kind} event: {exc}") from exc
