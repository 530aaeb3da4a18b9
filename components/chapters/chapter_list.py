"""The list of a mode's items (chapters, moments, captions…): time, title, text, nearest cut.

Under a video in the player, the list is part of the player (`items`): a click on a time seeks
in the browser at once, with no script run, and the item playing now is marked there. Without
a player that seeks (a YouTube video, or no media route) `show` draws the same list as text.
Model-written text is shown as text in the player, and here through `reelscope.untrusted`
(a title or a speaker on one line, a summary as Markdown: no images, no HTML).
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from components.common import follow
from components.media.player import ListItem
from reelscope.chapters.analysis import read_state
from reelscope.chapters.modes import Kind, Mode
from reelscope.chapters.parse import Segment
from reelscope.chapters.shots import nearest_cut
from reelscope.clock import MAX_DECIMALS, clock
from reelscope.runs import Run
from reelscope.untrusted import safe_inline, safe_markdown

_CUT_KINDS = (Kind.CHAPTERS, Kind.MOMENTS, Kind.EVENTS)


def items(segments: Sequence[Segment], kind: Kind, cuts: Sequence[float] | None) -> list[ListItem]:
    """One list item per segment, for the player. `cuts` None: not detected (yet)."""
    return [_item(segment, kind, cuts) for segment in segments]


def show(
    key: str, segments: Sequence[Segment], kind: Kind, *, cuts: Sequence[float] | None
) -> None:
    """The list as text, for a video the player cannot seek."""
    with st.container(key=key):
        for item in items(segments, kind, cuts):
            value = f" · {item.value}" if item.value else ""
            st.markdown(f"`{item.time}` **{safe_markdown(item.title)}**{value}")
            st.caption(item.details)
            if item.summary:
                st.markdown(safe_markdown(item.summary))
            if item.speech:
                st.caption(safe_markdown(item.speech))


def cut_distance(start_s: float, cuts: Sequence[float]) -> str:
    """How far a start is from its nearest cut, in words."""
    if start_s < 0.05:
        return "the video's start"
    cut = nearest_cut(start_s, cuts)
    if cut is None:
        return "no cut detected"
    gap = start_s - cut
    if abs(gap) < 0.05:
        return "on a cut"
    return f"{abs(gap):.1f} s {'after' if gap > 0 else 'before'} the cut at {clock(cut)}"


def _item(segment: Segment, kind: Kind, cuts: Sequence[float] | None) -> ListItem:
    start = clock(segment.start_s, decimals=MAX_DECIMALS)
    end = clock(segment.end_s, decimals=MAX_DECIMALS) if segment.end_s is not None else None
    details = [f"{start}–{end}" if end else start]
    if kind in _CUT_KINDS and cuts is not None:
        details.append(cut_distance(segment.start_s, cuts))
    said = "Said" if kind is Kind.CHAPTERS else "Who"
    return ListItem(
        start_s=segment.start_s,
        time=start,
        title=segment.title or "—",
        value=f"{segment.value:g}" if segment.value is not None else "",
        details=" · ".join(details),
        summary=segment.summary,
        speech=f"{said}: {segment.speech}" if segment.speech else "",
    )


def live_slot(key: str):
    """Where `paint_live` draws: one element, under `st.container(key=key)`, painted in place."""
    return st.container(key=key).empty()


def paint_live(slot, segments: Sequence[Segment], *, status: str) -> None:
    """The items received so far, while the answer streams (no buttons: they would rerun)."""
    with slot.container():
        st.caption(status)
        for segment in segments:
            st.markdown(
                f"`{clock(segment.start_s)}` **{safe_inline(segment.title) or '—'}**"
                + (f" — {safe_inline(segment.summary)}" if segment.summary else "")
            )


def follow_live(key: str, run: Run, mode: Mode) -> None:
    """While `run` streams: its items painted in place as each JSON object completes, and a
    status line that ages (components/common/follow.py follows it after the page)."""
    status, answer = st.empty(), live_slot(key)

    def paint() -> None:
        reading = read_state(run.state(), mode)
        count = len(reading.parsed.segments)
        paint_live(answer, reading.parsed.segments, status=f"{count} received so far…")

    def heartbeat() -> None:
        state = run.state()
        waited = run.elapsed() - state.request_sent_at
        text = "Waiting for the first token…" if state.first_token_at is None else "Streaming…"
        status.caption(f"{text} {waited:.1f} s")

    paint()
    follow.watch(run, paint=paint, heartbeat=heartbeat)
