"""The list under the player: each item's time (a button that seeks), title, text, nearest cut.

Model-written text goes through `reelscope.untrusted` (a title or a speaker on one line, a
summary as Markdown: no images, no HTML); a click on a time calls
`player.seek` in a callback, so the browser seeks without waiting for the page to redraw.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from components.media import player
from reelscope.chapters.modes import Kind
from reelscope.chapters.parse import Segment
from reelscope.chapters.shots import nearest_cut
from reelscope.chapters.timestamps import format_clock
from reelscope.untrusted import safe_inline, safe_markdown


def show(
    key: str,
    segments: Sequence[Segment],
    kind: Kind,
    *,
    player_key: str | None,
    cuts: Sequence[float] | None = None,
    current_s: float | None = None,
) -> None:
    """One row per item; the one playing now is marked. `cuts` None: not detected (yet)."""
    current = current_index(segments, current_s)
    with st.container(key=key):
        for index, segment in enumerate(segments):
            _row(key, index, segment, kind, player_key, cuts, index == current)


def current_index(segments: Sequence[Segment], time_s: float | None) -> int | None:
    """The item playing at `time_s`: the last one started by then."""
    if time_s is None:
        return None
    started = [i for i, s in enumerate(segments) if s.start_s <= time_s + 1e-3]
    return started[-1] if started else None


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
    return f"{abs(gap):.1f} s {'after' if gap > 0 else 'before'} the cut at {format_clock(cut)}"


def _row(key, index, segment, kind, player_key, cuts, playing: bool) -> None:
    time_col, text_col = st.columns([1, 7], vertical_alignment="top")
    clock = format_clock(segment.start_s, millis=segment.start_s % 1 >= 0.001)
    time_col.button(
        clock,
        key=f"{key}.seek.{index}",
        type="primary" if playing else "secondary",
        on_click=player.seek if player_key else None,
        args=(player_key, segment.start_s) if player_key else (),
        disabled=player_key is None,
        help="Play from here",
        width="stretch",
    )
    with text_col:
        span = f"{clock}–{format_clock(segment.end_s)}" if segment.end_s is not None else clock
        value = f" · {segment.value:g}" if segment.value is not None else ""
        mark = "▶ " if playing else ""
        st.markdown(f"{mark}**{safe_inline(segment.title) or '—'}**{value}")
        details = [span]
        if kind in (Kind.CHAPTERS, Kind.MOMENTS, Kind.EVENTS) and cuts is not None:
            details.append(cut_distance(segment.start_s, cuts))
        st.caption(" · ".join(details))
        if segment.summary:
            st.markdown(safe_markdown(segment.summary))
        if segment.speech:
            st.caption(
                f"{'Said' if kind is Kind.CHAPTERS else 'Who'}: {safe_inline(segment.speech)}"
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
                f"`{format_clock(segment.start_s)}` **{safe_inline(segment.title) or '—'}**"
                + (f" — {safe_inline(segment.summary)}" if segment.summary else "")
            )
