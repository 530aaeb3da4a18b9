"""The typed events a generation run emits. A store can record them and a replay re-emit them.

Every event carries `at`: seconds since the request was first sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class TextDelta:
    at: float
    text: str
    candidate: int = 0


@dataclass(frozen=True)
class Usage:
    at: float
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    thinking_tokens: int | None = None
    total_tokens: int | None = None


@dataclass(frozen=True)
class Finished:
    """The model said it was done with one candidate, and why (STOP, MAX_TOKENS, SAFETY, …)."""

    at: float
    reason: str
    candidate: int = 0


@dataclass(frozen=True)
class Blocked:
    """A safety (or policy) block: of the whole prompt, or of a response part-way through."""

    at: float
    where: str  # "prompt" | "response"
    reason: str
    categories: tuple[str, ...] = ()
    candidate: int = 0


@dataclass(frozen=True)
class Retrying:
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
class Failed:
    """The run ended on an error. Text that arrived before it stays valid, but incomplete."""

    at: float
    error: RunError


@dataclass(frozen=True)
class EndedEarly:
    """The stream closed cleanly but the model never said it was done: the text is partial."""

    at: float
    candidate: int = 0


Event = TextDelta | Usage | Finished | Blocked | Retrying | Failed | EndedEarly
