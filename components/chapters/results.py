"""A video's readings on the Chapters page: the player with its list, the timeline of every mode
run on the video, the checks, the mode's own view (events table, chart unit) and the exports.

What the page decides (which video, which mode, which runs) comes in; everything drawn here
reads the core (reelscope/chapters/analysis.py): the items checked against the video's length,
snapped onto shot cuts when asked. Model-written text goes through reelscope/untrusted.py, or
is set as text in the player.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import streamlit as st

from components.chapters import chapter_exports, chapter_list, shot_cuts
from components.common import kept
from components.media import media_preview, player
from reelscope.chapters.analysis import (
    Length,
    Reading,
    captions_track,
    checked_items,
    player_spans,
)
from reelscope.chapters.figures import timeline_figure
from reelscope.chapters.modes import Kind, Mode
from reelscope.chapters.shots import SNAP_WITHIN_S
from reelscope.chapters.validate import Checked, LengthFrom, check
from reelscope.clock import clock
from reelscope.media import MediaSource
from reelscope.untrusted import safe_inline


def show(
    key: str, video: MediaSource, mode: Mode, readings: Mapping[str, tuple[Mode, Reading]]
) -> None:
    """Everything below the buttons, for `video` in `mode`; `readings`: every finished mode."""
    player_key = f"{key}.player"
    length = video_length(player_key, video)
    cuts = shot_cuts.show(video)
    if cuts is not None:
        st.caption(f":material/content_cut: {len(cuts)} shot cuts detected.")
    snap = st.toggle(
        f"Snap starts to cuts (within {SNAP_WITHIN_S:.0f} s)",
        disabled=not cuts,
        **kept.bind(f"{key}.snap", False),
    )
    current = readings.get(mode.name)
    reading = current[1] if current else None
    checked, moved = (
        checked_items(reading, current[0].kind, length, cuts, snap)
        if current and reading
        else (check((), mode.kind, *length), 0)
    )
    url = media_preview.media_url(video)
    if url is not None:
        _seek_from_timeline(key, player_key, video)
        _player(player_key, video, url, mode.kind, checked, cuts, captions_track(readings, length))
    else:
        media_preview.show(video, key=player_key)
        if checked.segments:
            chapter_list.show(f"{key}-list", checked.segments, mode.kind, cuts=cuts)
    _timeline(key, video, readings, cuts, length, snap)
    if reading is None:
        return
    _findings(checked, reading, moved)
    _mode_view(mode, checked, reading)
    if checked.segments:
        st.subheader("Export", divider="gray")
        chapter_exports.show(
            f"{key}.export",
            checked.segments,
            mode.kind,
            name=video.label.rsplit(".", 1)[0],
            duration_s=checked.duration_s,
            header=reading.parsed.header,
        )


def video_length(player_key: str, video: MediaSource) -> Length:
    """The probed length of an upload; for a link, the one the player read once it loaded it."""
    if video.duration_s is not None:
        return video.duration_s, LengthFrom.PROBE
    return player.reported_length(player_key, video.key), LengthFrom.PLAYER


def _player(
    player_key: str,
    video: MediaSource,
    url: str,
    kind: Kind,
    checked: Checked,
    cuts: Sequence[float] | None,
    captions: str | None,
) -> None:
    """The player with the list in it: a click on an item seeks in the browser, no rerun."""
    player.show(
        player_key,
        url,
        mime_type=video.mime_type,
        chapters=player_spans(kind, checked.segments, checked.duration_s),
        cuts=cuts or (),
        captions=captions,
        media_id=video.key,
        items=chapter_list.items(checked.segments, kind, cuts),
        height=380,
        report_every_s=None,
        report_duration=video.duration_s is None,
    )


def _timeline_key(key: str, video: MediaSource) -> str:
    return f"{key}.timeline.{video.key}"


def _seek_from_timeline(key: str, player_key: str, video: MediaSource) -> None:
    """A point clicked on the timeline seeks the player. Read before the player is drawn, so
    this run hands it the seek (the player sends nothing back that would rerun the page)."""
    event = st.session_state.get(_timeline_key(key, video))
    points = event.get("selection", {}).get("points", []) if isinstance(event, Mapping) else []
    picked = [p.get("customdata") for p in points if p.get("customdata") is not None]
    handled_key = f"{key}.timeline.handled"
    if picked and st.session_state.get(handled_key) != picked:
        st.session_state[handled_key] = picked
        start = picked[0][0] if isinstance(picked[0], list) else picked[0]
        player.seek(player_key, float(start))


def _timeline(key, video, readings, cuts, length: Length, snap: bool) -> None:
    tracks = {}
    for name, (run_mode, reading) in readings.items():
        items, _ = checked_items(reading, run_mode.kind, length, cuts, snap)
        tracks[name] = (run_mode.kind, items.segments)
    if not tracks:
        return
    figure = timeline_figure(tracks, cuts or (), length[0])
    st.plotly_chart(
        figure, key=_timeline_key(key, video), on_select="rerun", selection_mode="points"
    )


def _findings(checked: Checked, reading: Reading, moved: int) -> None:
    if reading.note:
        st.warning(reading.note, icon=":material/content_cut:")
    for problem in reading.parsed.problems:
        st.warning(safe_inline(problem), icon=":material/error:")
    if moved:
        st.info(f"Snapped {moved} start{'s' if moved > 1 else ''} onto shot cuts.")
    if not checked.findings:
        length = f" ({clock(checked.duration_s)})" if checked.duration_s else ""
        st.success(
            f"Checked: inside the video{length}, starts in order, no overlaps, every item titled.",
            icon=":material/check_circle:",
        )
    for finding in checked.findings:
        icon = ":material/build:" if finding.fixed else ":material/info:"
        (st.warning if finding.fixed else st.info)(safe_inline(finding.message), icon=icon)


def _mode_view(mode: Mode, checked: Checked, reading: Reading) -> None:
    """What a mode shows besides its list: the events as a table, a chart's quantity."""
    if mode.kind is Kind.EVENTS and checked.segments:
        st.dataframe(
            [
                {"start": clock(s.start_s), "end": clock(s.end_s or s.start_s),
                 "event": s.title, "who": s.speech, "details": s.summary}
                for s in checked.segments
            ],
            hide_index=True,
        )  # fmt: skip
    header = reading.parsed.header
    if mode.kind is Kind.SERIES and header:
        quantity, unit = (safe_inline(header.get(name, "")) for name in ("quantity", "unit"))
        st.caption(f"Chart: {quantity} ({unit})")
