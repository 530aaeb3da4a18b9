"""Shows a generation run: the answer as it streams, its timings and usage, and what went wrong.

The run lives in st.session_state, updated event by event, so whatever arrived survives a Stop
(which Streamlit delivers as a rerun that interrupts this loop) and any later rerun.
"""

from __future__ import annotations

import time
from collections.abc import Generator

import streamlit as st

from reelscope.generation.events import ErrorKind, Event, Retrying
from reelscope.generation.state import RunState

_REFRESH_S = 0.05  # repaint at most 20 times a second: smooth, without flooding the websocket
_FINISH_MESSAGES = {
    "MAX_TOKENS": "The answer reached the max output tokens limit and was cut.",
    "RECITATION": "The answer was stopped because it recited copyrighted material.",
}


def stream(key: str, run: RunState, events: Generator[Event, None, None]) -> None:
    """Consume `events` into `run`, repainting as they arrive. Closes the stream on any exit."""
    status = st.empty()
    answer = st.container(key=key).empty()
    last_paint = 0.0
    try:
        for event in events:
            if run.done:
                break  # stopped from a newer script run (Streamlit runs it in another thread)
            run.apply(event)
            if isinstance(event, Retrying):
                status.warning(_retry_message(event), icon=":material/autorenew:")
            now = time.monotonic()
            if now - last_paint >= _REFRESH_S:
                _paint(answer, run, live=True)
                last_paint = now
        run.finish()
    finally:
        events.close()
        run.stop()  # no-op when finished; otherwise the user stopped it or the script reran
    status.empty()
    _paint(answer, run, live=False)


def show(key: str, run: RunState, max_output_tokens: int | None = None) -> None:
    """A finished (or stopped) run, as kept in session state.

    A run that is not done belongs to a script run this rerun interrupted (Stop, or any other
    widget): it is stopped here, as its own thread may not notice before its next event.
    """
    run.stop()
    _paint(st.container(key=key).empty(), run, live=False)
    show_outcome(run, max_output_tokens)


def show_outcome(run: RunState, max_output_tokens: int | None = None) -> None:
    _metrics(run)
    for message, level in outcome_messages(run, max_output_tokens):
        getattr(st, level)(message)


def outcome_messages(run: RunState, max_output_tokens: int | None) -> list[tuple[str, str]]:
    """(message, st function name) pairs that explain how the run ended."""
    messages: list[tuple[str, str]] = []
    if run.stopped_by_user:
        messages.append(("Stopped. The answer above is partial.", "info"))
    if run.retries:
        retries = f"{len(run.retries)} retr{'y' if len(run.retries) == 1 else 'ies'}"
        outcome = "Answered after" if run.error is None else "Gave up after"
        messages.append((f"{outcome} {retries}: {run.retries[-1].reason}", "info"))
    for block in run.blocked:
        categories = ", ".join(_category_label(c) for c in block.categories) or "unspecified"
        if block.where == "prompt":
            text = (
                f"The prompt was blocked ({block.reason}); category: {categories}. "
                "Rephrase the prompt or use other media."
            )
        else:
            text = (
                f"The response was blocked part-way ({block.reason}); category: {categories}. "
                "The text before the block is kept."
            )
        messages.append((text, "warning"))
    for index, reason in sorted(run.finish_reasons.items()):
        if reason == "MAX_TOKENS":
            messages.append((_max_tokens_message(run, max_output_tokens), "warning"))
        elif reason in _FINISH_MESSAGES:
            messages.append((_FINISH_MESSAGES[reason], "warning"))
        elif reason not in ("STOP", "SAFETY") and not any(
            b.candidate == index for b in run.blocked
        ):
            messages.append((f"The model stopped with finish reason {reason}.", "warning"))
    if run.ended_early and run.error is None:
        messages.append(
            (
                "The stream ended before the model said it was done: the answer may be "
                "incomplete. Run it again for the full answer.",
                "warning",
            )
        )
    if run.error is not None:
        prefix = (
            "Stream cut mid-way. " if run.error.kind is ErrorKind.STREAM_CUT and run.text else ""
        )
        kept = " The text that arrived is kept above." if run.text else ""
        messages.append((f"{prefix}{run.error.message}{kept}\n\n{run.error.hint}", "error"))
    return messages


def _max_tokens_message(run: RunState, max_output_tokens: int | None) -> str:
    limit = f" ({max_output_tokens:,} tokens)" if max_output_tokens else ""
    thinking = run.usage.thinking_tokens if run.usage else None
    text = f"The answer reached the max output tokens limit{limit} and was cut."
    if thinking:
        text += (
            f" Thinking used {thinking:,} tokens of that budget: raise the limit or lower the "
            "thinking level."
        )
    else:
        text += " Thinking counts against this limit: raise it or lower the thinking level."
    return text


def _paint(slot, run: RunState, live: bool) -> None:
    with slot.container():
        candidates = run.candidates
        for index in candidates:
            if len(candidates) > 1:
                st.markdown(f"**Response {index + 1}**")
            text = run.texts.get(index, "")
            if text or live:
                st.markdown(text + (" ▌" if live else ""))


def _metrics(run: RunState) -> None:
    usage = run.usage
    cells = [
        ("Time to first token", _seconds(run.time_to_first_token)),
        ("Tokens / s", f"{run.tokens_per_second:,.0f}" if run.tokens_per_second else "–"),
        ("Finish", ", ".join(sorted(set(run.finish_reasons.values()))) or "–"),
        ("Prompt tokens", _count(usage.prompt_tokens if usage else None)),
        ("Output tokens", _count(usage.output_tokens if usage else None)),
        ("Thinking tokens", _count(usage.thinking_tokens if usage else None)),
    ]
    columns = st.columns(3) + st.columns(3)
    for column, (label, value) in zip(columns, cells, strict=True):
        column.metric(label, value)


def _retry_message(event: Retrying) -> str:
    return (
        f"{event.reason} Retrying in {event.delay_s:.1f} s "
        f"(attempt {event.attempt + 1} of {event.max_attempts})…"
    )


def _category_label(category: str) -> str:
    return category.removeprefix("HARM_CATEGORY_").replace("_", " ").lower()


def _seconds(value: float | None) -> str:
    return f"{value:.2f} s" if value is not None else "–"


def _count(value: int | None) -> str:
    return f"{value:,}" if value is not None else "–"
