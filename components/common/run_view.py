"""Watches a run: its answer as it grows, then its timings, usage and how it ended.

The run belongs to the worker, not to this script run. While it is live, the view follows it:
it paints into one element in place as each event arrives (woken by the run, not by a timer),
and refreshes a status line at least every HEARTBEAT_S — which is also where Streamlit can
interrupt this script run when the user moves a slider, presses Stop or leaves the page. The
run goes on regardless; the next script run follows it again. When it ends, one rerun lets the
page settle (Stop greys out, the outcome shows).

Why not a fragment with run_every: each fragment rerun costs the browser 100–300 ms before the
text shows (measured in Chromium, bench/chunk_to_screen.py), against ~40 ms for an element
updated inside a running script.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import streamlit as st

from reelscope.generation.events import ErrorKind, StopReason
from reelscope.generation.state import RunState
from reelscope.runs import Run
from reelscope.untrusted import safe_inline, safe_markdown

HEARTBEAT_S = 0.1  # the longest a rerun request (Stop, a slider) waits to interrupt the view
PAINT_S = 0.03  # at most ~30 paints a second, however fast chunks come
_FINISH_MESSAGES = {
    "MAX_TOKENS": "The answer reached the max output tokens limit and was cut.",
    "RECITATION": "The answer was stopped because it recited copyrighted material.",
}
_STOP_MESSAGES = {
    StopReason.USER: "Stopped by you.",
    StopReason.REPLACED: "Stopped: a newer run replaced it.",
    StopReason.SESSION_ENDED: "Stopped: the browser session ended.",
}


def show(key: str, run: Run | None, max_output_tokens: int | None = None) -> None:
    """The run's answer under `st.container(key=key)`: followed while live, then its outcome.

    Call it last on a page: while the run is live it returns only when the run ends (or when
    Streamlit interrupts this script run for a newer one).
    """
    if run is None:
        return
    if not run.done:
        _follow(key, run)
        st.rerun()  # the run ended: the whole page settles once
    state = run.state()
    _paint(st.container(key=key).empty(), state)
    show_outcome(state, max_output_tokens)


def _follow(key: str, run: Run) -> None:
    status, answer = st.empty(), st.container(key=key).empty()

    def paint(states: list[RunState]) -> None:
        _paint(answer, states[0])

    def heartbeat(states: list[RunState]) -> None:
        _status(status, states[0], run.elapsed())

    follow([run], paint, heartbeat)


def follow(
    runs: Sequence[Run],
    paint: Callable[[list[RunState]], None],
    heartbeat: Callable[[list[RunState]], None],
) -> None:
    """Until every run has ended: `paint` their states when any has news, `heartbeat` often.

    `heartbeat` runs at least every HEARTBEAT_S and must draw something (a status line): each
    element drawn is where Streamlit can interrupt this script run for a newer one. Side by
    side is several runs followed in one loop.
    """
    seen: list[int] = []
    while True:
        counts = [run.event_count for run in runs]
        if counts != seen:
            seen, states = counts, [run.state() for run in runs]
            paint(states)
        heartbeat(states)
        if all(state.done for state in states):
            return
        time.sleep(PAINT_S)
        live = [(run, count) for run, count in zip(runs, seen, strict=True) if not run.done]
        if live:  # wake on the first live run's news; the others are read on each heartbeat
            live[0][0].wait_for_news(live[0][1], timeout=HEARTBEAT_S - PAINT_S)


def show_outcome(state: RunState, max_output_tokens: int | None = None) -> None:
    _metrics(state)
    for message, level in outcome_messages(state, max_output_tokens):
        getattr(st, level)(message)


def outcome_messages(state: RunState, max_output_tokens: int | None) -> list[tuple[str, str]]:
    """(message, st function name) pairs that explain how the run ended."""
    messages: list[tuple[str, str]] = []
    if state.stop_reason is not None:
        kept = " The text above is what arrived before." if state.text else ""
        messages.append((_STOP_MESSAGES[state.stop_reason] + kept, "info"))
    if state.retries:
        messages.append((_retries_message(state), "info"))
    # Reasons, categories and error messages are the server's words: untrusted, like the answer.
    messages.extend((safe_inline(_blocked_message(block)), "warning") for block in state.blocked)
    for index, reason in sorted(state.finish_reasons.items()):
        if reason == "MAX_TOKENS":
            messages.append((_max_tokens_message(state, max_output_tokens), "warning"))
        elif reason in _FINISH_MESSAGES:
            messages.append((_FINISH_MESSAGES[reason], "warning"))
        elif reason not in ("STOP", "SAFETY") and not any(
            b.candidate == index for b in state.blocked
        ):
            stopped = f"The model stopped with finish reason {safe_inline(reason)}."
            messages.append((stopped, "warning"))
    if state.ended_early and state.error is None:
        messages.append(
            (
                "The stream ended before the model said it was done: the answer may be "
                "incomplete. Run it again for the full answer.",
                "warning",
            )
        )
    if state.error is not None:
        prefix = (
            "Stream cut mid-way. "
            if state.error.kind is ErrorKind.STREAM_CUT and state.text
            else ""
        )
        kept = " The text that arrived is kept above." if state.text else ""
        message = safe_inline(state.error.message)
        messages.append((f"{prefix}{message}{kept}\n\n{state.error.hint}", "error"))
    return messages


def _retries_message(state: RunState) -> str:
    count = len(state.retries)
    retries = f"{count} retr{'y' if count == 1 else 'ies'}"
    if state.completed:
        return f"Answered after {retries}: {safe_inline(state.retries[-1].reason)}"
    if state.error is not None:
        return f"Gave up after {retries}."  # the error itself is said once, below
    return f"Stopped after {retries}, before any answer arrived."


def _blocked_message(block) -> str:
    categories = ", ".join(_category_label(c) for c in block.categories) or "unspecified"
    if block.where == "prompt":
        return (
            f"The prompt was blocked ({block.reason}); category: {categories}. "
            "Rephrase the prompt or use other media."
        )
    return (
        f"The response was blocked part-way ({block.reason}); category: {categories}. "
        "The text before the block is kept."
    )


def _max_tokens_message(state: RunState, max_output_tokens: int | None) -> str:
    limit = f" ({max_output_tokens:,} tokens)" if max_output_tokens else ""
    thinking = state.usage.thinking_tokens if state.usage else None
    text = f"The answer reached the max output tokens limit{limit} and was cut."
    if thinking:
        text += (
            f" Thinking used {thinking:,} tokens of that budget: raise the limit or lower the "
            "thinking level."
        )
    else:
        text += " Thinking counts against this limit: raise it or lower the thinking level."
    return text


def _status(slot, state: RunState, elapsed: float) -> None:
    if state.done:
        slot.empty()
    elif state.retries and state.first_token_at is None:
        last = state.retries[-1]
        wait = max(last.at + last.delay_s - elapsed, 0.0)
        slot.warning(
            f"{safe_inline(last.reason)} Retrying in {wait:.1f} s "
            f"(attempt {last.attempt + 1} of {last.max_attempts})…",
            icon=":material/autorenew:",
        )
    elif state.first_token_at is None:
        slot.caption(f"Waiting for the first token… {elapsed - state.request_sent_at:.1f} s")
    else:
        slot.caption(f"Streaming… {elapsed - state.request_sent_at:.1f} s")


def _paint(slot, state: RunState) -> None:
    live = not state.done
    with slot.container():
        candidates = state.candidates
        for index in candidates:
            if len(candidates) > 1:
                st.markdown(f"**Response {index + 1}**")
            text = state.texts.get(index, "")
            if text or live:
                # What the model writes is untrusted: no images, no raw HTML, nothing fetched.
                st.markdown(safe_markdown(text) + (" ▌" if live else ""))


def _metrics(state: RunState) -> None:
    usage = state.usage
    cells = [
        ("Time to first token", _seconds(state.time_to_first_token)),
        ("Tokens / s", f"{state.tokens_per_second:,.0f}" if state.tokens_per_second else "–"),
        ("Finish", safe_inline(", ".join(sorted(set(state.finish_reasons.values())))) or "–"),
        ("Prompt tokens", _count(usage.prompt_tokens if usage else None)),
        ("Output tokens", _count(usage.output_tokens if usage else None)),
        ("Thinking tokens", _count(usage.thinking_tokens if usage else None)),
    ]
    columns = st.columns(3) + st.columns(3)
    for column, (label, value) in zip(columns, cells, strict=True):
        column.metric(label, value)


def _category_label(category: str) -> str:
    return category.removeprefix("HARM_CATEGORY_").replace("_", " ").lower()


def _seconds(value: float | None) -> str:
    return f"{value:.2f} s" if value is not None else "–"


def _count(value: int | None) -> str:
    return f"{value:,}" if value is not None else "–"
