"""Running a request: the SDK's responses in, typed events out, with visible retries.

The call is asynchronous (google-genai's `client.aio`) so that a run can be cancelled at any
await: while the request is in flight, while the model is silent, or in a backoff wait. The
cancellation closes the HTTP stream at once; a blocking read in a thread could not be interrupted.

google-genai retries nothing by default, and its own retry options are invisible to the user;
so retries happen here, before the first chunk only (a broken stream cannot be resumed), each
announced with a Retrying event. What is retried, and how long to wait: reelscope/retries.py.
Calls that share a quota (a prompt lab's cells) also share a Pacer: it holds each call until a
pause the quota asked for has passed, and decides the wait after a 429 for all of them at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from google.genai import Client, types

from reelscope.generation.errors import classify
from reelscope.generation.events import (
    Blocked,
    Completed,
    EndedEarly,
    Event,
    Failed,
    Finished,
    Retrying,
    TextDelta,
    Thought,
    Usage,
)
from reelscope.generation.request import GenerationRequest
from reelscope.retries import RetryPolicy, http_status
from reelscope.vertex import backend_of

# Finish reasons that mean the answer was withheld for safety or policy.
BLOCKING_FINISH_REASONS = frozenset(
    {"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "IMAGE_SAFETY"}
)


class Pacer(Protocol):
    """One call's share of a quota that other calls use too (reelscope/lab/pacing.py)."""

    async def before_call(self) -> None:
        """Wait until the quota lets this call go (an attempt is sent right after)."""

    def throttled(self) -> float:
        """The call got a 429: the seconds to wait before its next attempt."""

    def succeeded(self) -> None:
        """The call got its first chunk or its response."""


@dataclass(frozen=True)
class Target:
    """Where the request goes, for error messages."""

    project: str | None
    location: str


async def generate_events(
    client: Client,
    request: GenerationRequest,
    elapsed: Callable[[], float],
    *,
    stream: bool = True,
    target: Target | None = None,
    retry: RetryPolicy | None = None,
    pacer: Pacer | None = None,
) -> AsyncIterator[Event]:
    """The events of one generation, ending with Completed or Failed.

    `elapsed` gives the seconds since the run started, stamped on every event. Cancelling the
    task that iterates this closes the HTTP stream and ends any backoff wait. With a `pacer`,
    each attempt waits for its go, and the wait after a 429 is the pacer's, not `retry`'s.
    """
    retry = retry or RetryPolicy()
    target = target or Target(project=None, location="global")
    for attempt in range(1, retry.attempts + 1):
        translator = _Translator(elapsed, on_first=pacer.succeeded if pacer else None)
        try:
            if pacer is not None:
                await pacer.before_call()
            if stream:
                async for event in _streamed(client, request, translator):
                    yield event
            else:
                for event in translator.response(await _generate(client, request)):
                    yield event
            for event in translator.end_of_stream():
                yield event
            yield Completed(elapsed())
            return
        except Exception as exc:  # CancelledError is a BaseException: it passes through
            error = classify(
                exc,
                model_id=request.model_id,
                project=target.project,
                location=target.location,
                backend=backend_of(client),
            )
            quota_wait = pacer.throttled() if pacer and http_status(exc) == 429 else None
            if error.retryable and not translator.received and attempt < retry.attempts:
                delay = retry.delay(attempt - 1) if quota_wait is None else quota_wait
                yield Retrying(elapsed(), attempt, retry.attempts, delay, error.message)
                await asyncio.sleep(delay)
                continue
            yield Failed(elapsed(), error)
            return


async def _generate(client: Client, request: GenerationRequest) -> types.GenerateContentResponse:
    return await client.aio.models.generate_content(
        model=request.model_id, contents=request.contents, config=request.config
    )


async def _streamed(
    client: Client, request: GenerationRequest, translator: _Translator
) -> AsyncIterator[Event]:
    chunks = await client.aio.models.generate_content_stream(
        model=request.model_id, contents=request.contents, config=request.config
    )
    try:
        async for chunk in chunks:
            for event in translator.response(chunk):
                yield event
    finally:
        await chunks.aclose()  # on Stop: release the HTTP connection now, not at GC


class _Translator:
    """Turns SDK responses into events, remembering what it saw to judge the end."""

    def __init__(
        self, elapsed: Callable[[], float], on_first: Callable[[], None] | None = None
    ) -> None:
        self._elapsed = elapsed
        self._on_first = on_first  # told once, when the first response arrives
        self.received = False
        self._candidates_seen: set[int] = set()
        self._finished: set[int] = set()
        self._prompt_blocked = False

    def response(self, response: types.GenerateContentResponse) -> Iterator[Event]:
        if not self.received and self._on_first is not None:
            self._on_first()
        self.received = True
        at = self._elapsed()
        feedback = response.prompt_feedback
        if feedback is not None and feedback.block_reason:
            self._prompt_blocked = True
            yield Blocked(at, "prompt", _name(feedback.block_reason), _blocked_categories(feedback))
        for candidate in response.candidates or []:
            yield from self._candidate(candidate, at)
        if response.usage_metadata is not None:
            yield usage_event(response.usage_metadata, at)

    def _candidate(self, candidate: types.Candidate, at: float) -> Iterator[Event]:
        index = candidate.index or 0
        self._candidates_seen.add(index)
        parts = candidate.content.parts if candidate.content and candidate.content.parts else []
        thought = "".join(p.text for p in parts if p.text and p.thought)
        if thought:
            yield Thought(at, thought, index)
        text = "".join(p.text for p in parts if p.text and not p.thought)
        if text:
            yield TextDelta(at, text, index)
        if candidate.finish_reason:
            reason = _name(candidate.finish_reason)
            self._finished.add(index)
            if reason in BLOCKING_FINISH_REASONS:
                yield Blocked(at, "response", reason, _blocked_categories(candidate), index)
            yield Finished(at, reason, index)

    def end_of_stream(self) -> Iterator[Event]:
        if self._prompt_blocked:
            return
        unfinished = (self._candidates_seen or {0}) - self._finished
        for index in sorted(unfinished):
            yield EndedEarly(self._elapsed(), index)


def usage_event(meta: types.GenerateContentResponseUsageMetadata, at: float) -> Usage:
    """The usage Vertex AI reported, as a Usage event (online runs and batch results alike)."""
    return Usage(
        at,
        prompt_tokens=meta.prompt_token_count,
        output_tokens=meta.candidates_token_count,
        thinking_tokens=meta.thoughts_token_count,
        total_tokens=meta.total_token_count,
        cached_tokens=meta.cached_content_token_count,
        prompt_by_modality=tuple(
            (_name(detail.modality), detail.token_count)
            for detail in meta.prompt_tokens_details or ()
            if detail.modality is not None and detail.token_count is not None
        ),
    )


def _blocked_categories(holder: types.Candidate | types.GenerateContentResponsePromptFeedback):
    ratings = holder.safety_ratings or []
    blocked = [r for r in ratings if r.blocked] or ratings
    return tuple(_name(r.category) for r in blocked if r.category)


def _name(value: object) -> str:
    return getattr(value, "value", None) or str(value)
