"""A run's state, folded from its events: what a view shows. Nothing here is not in the events."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from reelscope.generation.events import (
    Blocked,
    Completed,
    EndedEarly,
    Event,
    Failed,
    Finished,
    Retrying,
    RunError,
    Stopped,
    StopReason,
    TextDelta,
    Thought,
    Usage,
)


@dataclass
class RunState:
    texts: dict[int, str] = field(default_factory=dict)
    thoughts: dict[int, str] = field(default_factory=dict)
    finish_reasons: dict[int, str] = field(default_factory=dict)
    usage: Usage | None = None
    blocked: list[Blocked] = field(default_factory=list)
    retries: list[Retrying] = field(default_factory=list)
    error: RunError | None = None
    ended_early: set[int] = field(default_factory=set)
    first_token_at: float | None = None
    last_token_at: float | None = None
    ended_at: float | None = None
    stop_reason: StopReason | None = None
    completed: bool = False

    @classmethod
    def of(cls, events: list[Event]) -> RunState:
        state = cls()
        for event in events:
            state.apply(event)
        return state

    def apply(self, event: Event) -> None:
        match event:
            case TextDelta(at=at, text=text, candidate=index):
                if self.first_token_at is None:
                    self.first_token_at = at
                self.last_token_at = at
                self.texts[index] = self.texts.get(index, "") + text
            case Thought(text=text, candidate=index):
                self.thoughts[index] = self.thoughts.get(index, "") + text
            case Usage():
                self.usage = event
            case Finished(reason=reason, candidate=index):
                self.finish_reasons[index] = reason
            case Blocked():
                self.blocked.append(event)
            case Retrying():
                self.retries.append(event)
            case EndedEarly(candidate=index):
                self.ended_early.add(index)
            case Completed(at=at):
                self.completed, self.ended_at = True, at
            case Failed(at=at, error=error):
                self.error, self.ended_at = error, at
            case Stopped(at=at, reason=reason):
                self.stop_reason, self.ended_at = reason, at

    def copy(self) -> RunState:
        """A snapshot a view can read while the worker goes on folding the original."""
        snapshot = copy.copy(self)
        for name, value in vars(self).items():
            if isinstance(value, dict | list | set):
                setattr(snapshot, name, copy.copy(value))
        return snapshot

    @property
    def done(self) -> bool:
        return self.ended_at is not None

    @property
    def stopped(self) -> bool:
        return self.stop_reason is not None

    @property
    def text(self) -> str:
        return self.texts.get(0, "")

    @property
    def candidates(self) -> list[int]:
        return sorted(self.texts) or [0]

    @property
    def incomplete(self) -> bool:
        """Some text may be missing: stopped, cut, ended early, or failed part-way."""
        return self.stopped or bool(self.ended_early) or self.error is not None

    @property
    def request_sent_at(self) -> float:
        """When the attempt that answered was sent: after the last backoff wait, if any."""
        if not self.retries:
            return 0.0
        last = self.retries[-1]
        return last.at + last.delay_s

    @property
    def time_to_first_token(self) -> float | None:
        """From sending the request that answered to its first token: backoff waits excluded."""
        if self.first_token_at is None:
            return None
        return max(self.first_token_at - self.request_sent_at, 0.0)

    @property
    def tokens_per_second(self) -> float | None:
        """Output tokens over the time from first to last token, once usage is known."""
        if self.usage is None or not self.usage.output_tokens or self.first_token_at is None:
            return None
        end = (
            self.usage.at if self.last_token_at is None else max(self.usage.at, self.last_token_at)
        )
        span = end - self.first_token_at
        return self.usage.output_tokens / span if span > 0 else None
