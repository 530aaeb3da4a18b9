"""Watches a run: its answer as it grows, then its timings, usage and how it ended.

The run belongs to the worker, not to this script run. While it is live, a fragment re-reads it
every POLL_S seconds; moving a slider or visiting another page only re-reads it later. When it
ends, one full rerun lets the page settle (Stop greys out, the outcome shows).
"""

from __future__ import annotations

import streamlit as st
from reelscope.untrusted import safe_markdown

from reelscope.generation.events import ErrorKind, StopReason
from reelscope.generation.state import RunState
from reelscope.runs import Run

POLL_S = 0.1  # a chunk reaches the screen within ~POLL_S/2 on average; see bench/chunk_to_screen
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
    """The run's answer under `st.container(key=key)`, live until it ends."""
    if run is None:
        return
    live = not run.done

    @st.fragment(run_every=POLL_S if live else None)
    def watch() -> None:
        state = run.state()
        if live and state.done:
            st.rerun()  # the whole page settles once: Stop greys out, the outcome shows
        _retry_banner(state)
        _paint(key, state)
        if state.done:
            show_outcome(state, max_output_tokens)

    watch()


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
    messages.extend((_blocked_message(block), "warning") for block in state.blocked)
    for index, reason in sorted(state.finish_reasons.items()):
        if reason == "MAX_TOKENS":
            messages.append((_max_tokens_message(state, max_output_tokens), "warning"))
        elif reason in _FINISH_MESSAGES:
            messages.append((_FINISH_MESSAGES[reason], "warning"))
        elif reason not in ("STOP", "SAFETY") and not any(
            b.candidate == index for b in state.blocked
        ):
            messages.append((f"The model stopped with finish reason {reason}.", "warning"))
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
        messages.append((f"{prefix}{state.error.message}{kept}\n\n{state.error.hint}", "error"))
    return messages


def _retries_message(state: RunState) -> str:
    count = len(state.retries)
    retries = f"{count} retr{'y' if count == 1 else 'ies'}"
    if state.completed:
        return f"Answered after {retries}: {state.retries[-1].reason}"
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


def _retry_banner(state: RunState) -> None:
    if state.done or not state.retries or state.first_token_at is not None:
        return
    last = state.retries[-1]
    st.warning(
        f"{last.reason} Retrying in {last.delay_s:.1f} s "
        f"(attempt {last.attempt + 1} of {last.max_attempts})…",
        icon=":material/autorenew:",
    )


def _paint(key: str, state: RunState) -> None:
    live = not state.done
    with st.container(key=key):
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
        ("Finish", ", ".join(sorted(set(state.finish_reasons.values()))) or "–"),
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
