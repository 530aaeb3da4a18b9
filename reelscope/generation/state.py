"""A run's state, folded from its events: what the UI shows and what a store keeps."""

from __future__ import annotations

from dataclasses import dataclass, field

from reelscope.generation.events import (
    Blocked,
    EndedEarly,
    Event,
    Failed,
    Finished,
    Retrying,
    RunError,
    TextDelta,
    Usage,
)


@dataclass
class RunState:
    model_id: str
    texts: dict[int, str] = field(default_factory=dict)
    finish_reasons: dict[int, str] = field(default_factory=dict)
    usage: Usage | None = None
    blocked: list[Blocked] = field(default_factory=list)
    retries: list[Retrying] = field(default_factory=list)
    error: RunError | None = None
    ended_early: set[int] = field(default_factory=set)
    first_token_at: float | None = None
    last_event_at: float = 0.0
    done: bool = False
    stopped_by_user: bool = False
    events: list[Event] = field(default_factory=list)

    def apply(self, event: Event) -> None:
        if self.done:
            return  # stopped: what the user saw when they pressed Stop is the record
        self.events.append(event)
        self.last_event_at = event.at
        match event:
            case TextDelta(at=at, text=text, candidate=index):
                if self.first_token_at is None:
                    self.first_token_at = at
                self.texts[index] = self.texts.get(index, "") + text
            case Usage():
                self.usage = event
            case Finished(reason=reason, candidate=index):
                self.finish_reasons[index] = reason
            case Blocked():
                self.blocked.append(event)
            case Retrying():
                self.retries.append(event)
            case Failed(error=error):
                self.error = error
            case EndedEarly(candidate=index):
                self.ended_early.add(index)

    def finish(self) -> None:
        """The event stream is exhausted."""
        self.done = True

    def stop(self) -> None:
        """The user stopped it: what arrived is kept and marked as partial."""
        if not self.done:
            self.stopped_by_user = True
            self.done = True

    @property
    def text(self) -> str:
        return self.texts.get(0, "")

    @property
    def candidates(self) -> list[int]:
        return sorted(self.texts) or [0]

    @property
    def incomplete(self) -> bool:
        """Some text may be missing: stopped, cut, ended early, or failed part-way."""
        return self.stopped_by_user or bool(self.ended_early) or self.error is not None

    @property
    def time_to_first_token(self) -> float | None:
        return self.first_token_at

    @property
    def tokens_per_second(self) -> float | None:
        """Output tokens over the time from first to last token, once usage is known."""
        if self.usage is None or not self.usage.output_tokens or self.first_token_at is None:
            return None
        span = self.last_event_at - self.first_token_at
        return self.usage.output_tokens / span if span > 0 else None
