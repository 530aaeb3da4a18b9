"""Shows a run: its answer as it grows, then its timings, usage and how it ended.

The run belongs to the worker, not to this script run. While it is live, the view asks
components/common/follow.py to follow it: the answer is painted in place as events arrive and
a status line (waiting / retrying in N s / streaming, with the elapsed time) is refreshed by
the heartbeat. The view always draws the same three slots (status, answer, outcome), so a new
run's view replaces every element of the last one at once: nothing of an earlier run lingers,
dimmed, while the next one waits or retries.
"""

from __future__ import annotations

import streamlit as st

from components.common import follow
from reelscope.generation.events import ErrorKind, StopReason
from reelscope.generation.state import RunState
from reelscope.runs import Run
from reelscope.untrusted import safe_inline, safe_markdown

_FINISH_MESSAGES = {
    "MAX_TOKENS": "The answer reached the max output tokens limit and was cut.",
    "RECITATION": "The answer was stopped because it recited copyrighted material.",
}
_STOP_MESSAGES = {
    StopReason.USER: "Stopped by you.",
    StopReason.REPLACED: "Stopped: a newer run replaced it.",
    StopReason.SESSION_ENDED: "Stopped: the browser session ended.",
    StopReason.SERVER_STOPPED: "Stopped: Reelscope's server shut down while it ran.",
}


def show(key: str, run: Run | None, max_output_tokens: int | None = None) -> None:
    """The run's answer under `st.container(key=key)`: followed while live, then its outcome."""
    status, answer, outcome = st.empty(), st.container(key=key).empty(), st.empty()
    if run is None:
        return
    state = run.state()
    paint_answer(answer, state)
    if run.done:
        with outcome.container():
            show_outcome(state, max_output_tokens)
        follow.watch(run)  # settles the page if the run ended while it was being drawn
        return
    paint_status(status, state, run.elapsed())
    follow.watch(
        run,
        paint=lambda: paint_answer(answer, run.state()),
        heartbeat=lambda: paint_status(status, run.state(), run.elapsed()),
    )


def show_outcome(state: RunState, max_output_tokens: int | None = None) -> None:
    _metrics(state)
    for message, level in outcome_messages(state, max_output_tokens):
        getattr(st, level)(safe_markdown(message))  # reasons and errors of an imported run too


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


def paint_status(slot, state: RunState, elapsed: float) -> None:
    """The status line of a live run: waiting, retrying in N s, or streaming."""
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


def paint_answer(slot, state: RunState) -> None:
    """The answer so far (each candidate), as Markdown through the sanitiser."""
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
