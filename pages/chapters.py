"""Chapters: a video's chapters (or another mode) streamed in, checked, seekable, exported."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from components.chapters import chapter_exports, chapter_list, mode_picker, shot_cuts
from components.common import app_frame, follow, kept, model_params, resources, run_view
from components.media import media_preview, player, source_picker
from reelscope.chapters.analysis import Reading, analysis_extra, read_state
from reelscope.chapters.exports import to_webvtt
from reelscope.chapters.figures import timeline_figure
from reelscope.chapters.modes import Kind, Mode, ModeStore, response_schema
from reelscope.chapters.shots import SNAP_WITHIN_S, snap_to_cuts
from reelscope.chapters.validate import Checked, LengthFrom, check
from reelscope.clock import clock
from reelscope.generation.events import StopReason
from reelscope.generation.runner import Target
from reelscope.media import MediaSource
from reelscope.media_rules import check_for_model
from reelscope.untrusted import safe_inline

app_frame.run_through_entrypoint()

RUNS_KEY = "chapters.runs"  # "<video key>|<mode id>" -> (run id, mode)
REFUSED_KEY = "chapters.refused"  # something is refused: keep the video section open
PLAYER_KEY = "chapters.player"
LIVE_KEY = "chapters-live"


def _runs_for_video() -> dict[str, tuple[str, Mode]]:
    return st.session_state.setdefault(RUNS_KEY, {})


def stop_current(slot: str) -> None:
    entry = _runs_for_video().get(slot)
    run = resources.runs().get(entry[0]) if entry else None
    if run is not None:
        run.stop()


settings = resources.settings()
catalog = resources.catalog()
target = Target(settings.project, settings.location)
runs = resources.runs()
store = ModeStore(settings.data_dir / "chapter_modes.json")

st.title("Chapters")
main, side = st.columns([3, 2], gap="large")
with side, st.container(border=True):
    model, params = model_params.show(
        "chapters.params", catalog, resources.today(), settings.location
    )
with main:
    mode, prompt = mode_picker.show("chapters.mode", store)
    added = bool(st.session_state.get("chapters.sources.items"))
    video_box = st.expander("Video", expanded=not added or bool(st.session_state.get(REFUSED_KEY)))
    with video_box:
        # The page's own player previews the video: the picker shows none (one player).
        sources, refused = source_picker.show(
            "chapters.sources", catalog.media, model, video_previews=False
        )
    videos = [s for s in sources if s.is_video]
    video: MediaSource | None = None
    if len(videos) > 1:
        labels = {v.key: v.label for v in videos}
        chosen = st.selectbox(
            "Video to analyse", list(labels), format_func=labels.get, **kept.bind("chapters.video")
        )
        video = next(v for v in videos if v.key == chosen)
    elif videos:
        video = videos[0]

    checked = check_for_model(
        [video] if video else [], model, catalog.media, bucket=settings.bucket
    )
    problems = list(refused) + checked.problems
    # Shown where the user looks, and the video section stays open while something is refused.
    st.session_state[REFUSED_KEY] = bool(problems)
    if not model.is_callable(resources.today()):
        problems.append(f"{model.name} is retired: pick a current model to run.")
    for note in checked.notes:
        st.info(note, icon=":material/info:")
    for problem in problems:
        st.error(problem, icon=":material/block:")
    if video is None:
        problems.append("Add a video (upload, gs://, https or YouTube) to get its chapters.")

    slot = f"{video.key}|{mode.id}" if video else ""
    entry = _runs_for_video().get(slot)
    current = runs.get(entry[0]) if entry else None
    live = current is not None and not current.done
    buttons = st.container(horizontal=True)  # each button as wide as its label: none cut
    go_slot, stop_col = buttons.empty(), buttons.empty()
    clicked = go_slot.button(
        f"Get {mode.name.lower()}",
        type="primary",
        disabled=bool(problems) or live,
        key="chapters.go",
    )
    if (
        clicked
        and not live
        and video is not None
        and (client := resources.connected_client(settings))
    ):
        if current is not None:
            current.stop(StopReason.REPLACED)
        run = runs.start_generation(
            client,
            model,
            checked,
            prompt,
            params,
            target=target,
            owner=resources.owner(),
            origin="chapters",
            response_schema=response_schema(mode.kind),
            extra=analysis_extra(mode),
        )
        _runs_for_video()[slot] = (run.id, mode)
        go_slot.button(
            f"Get {mode.name.lower()}", type="primary", disabled=True, key="chapters.busy"
        )


def finished_readings(video: MediaSource) -> dict[str, tuple[Mode, Reading]]:
    """This video's answers in every mode run so far (by mode name), read and ready to draw."""
    found: dict[str, tuple[Mode, Reading]] = {}
    for key, (run_id, run_mode) in _runs_for_video().items():
        run = runs.get(run_id)
        if key.startswith(f"{video.key}|") and run is not None and run.done:
            found[run_mode.name] = (run_mode, read_state(run.state(), run_mode))
    return found


Length = tuple[float | None, LengthFrom]  # the video's length (None: unknown), who read it


def video_length(video: MediaSource) -> Length:
    """The probed length of an upload; for a link, the one the player read once it loaded it."""
    if video.duration_s is not None:
        return video.duration_s, LengthFrom.PROBE
    return player.reported_length(PLAYER_KEY, video.key), LengthFrom.PLAYER


def checked_items(reading: Reading, kind: Kind, length: Length, cuts, snap: bool):
    checked = check(reading.parsed.segments, kind, *length)
    moved = 0
    if snap and cuts:
        snapped, moved = snap_to_cuts(checked.segments, cuts)
        checked = check(snapped, kind, *length)
    return checked, moved


def show_findings(checked: Checked, reading: Reading, moved: int) -> None:
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


def player_segments(kind: Kind, segments, duration: float | None) -> list[tuple[float, float, str]]:
    if kind is Kind.SERIES or kind is Kind.CAPTIONS:
        return []
    spans = []
    for index, segment in enumerate(segments):
        following = segments[index + 1].start_s if index + 1 < len(segments) else None
        end = segment.end_s or following or duration or segment.start_s + 5
        spans.append((segment.start_s, max(end, segment.start_s + 0.5), segment.title))
    return spans


def watch(video, url, kind, checked: Checked, cuts, captions) -> None:
    """The player with the list in it: a click on an item seeks in the browser, no rerun."""
    player.show(
        PLAYER_KEY,
        url,
        mime_type=video.mime_type,
        chapters=player_segments(kind, checked.segments, checked.duration_s),
        cuts=cuts or (),
        captions=captions,
        media_id=video.key,
        items=chapter_list.items(checked.segments, kind, cuts),
        height=380,
        report_every_s=None,
        report_duration=video.duration_s is None,
    )


def timeline_key(video: MediaSource) -> str:
    return f"chapters.timeline.{video.key}"


def seek_from_timeline(video: MediaSource) -> None:
    """A point clicked on the timeline seeks the player. Read before the player is drawn, so
    this run hands it the seek (the player sends nothing back that would rerun the page)."""
    event = st.session_state.get(timeline_key(video))
    points = event.get("selection", {}).get("points", []) if isinstance(event, Mapping) else []
    picked = [p.get("customdata") for p in points if p.get("customdata") is not None]
    handled_key = "chapters.timeline.handled"
    if picked and st.session_state.get(handled_key) != picked:
        st.session_state[handled_key] = picked
        start = picked[0][0] if isinstance(picked[0], list) else picked[0]
        player.seek(PLAYER_KEY, float(start))


def timeline(video: MediaSource, readings, cuts, length: Length, snap: bool) -> None:
    tracks = {}
    for name, (run_mode, reading) in readings.items():
        items, _ = checked_items(reading, run_mode.kind, length, cuts, snap)
        tracks[name] = (run_mode.kind, items.segments)
    if not tracks:
        return
    figure = timeline_figure(tracks, cuts or (), length[0])
    st.plotly_chart(figure, key=timeline_key(video), on_select="rerun", selection_mode="points")


def results(video: MediaSource) -> None:
    length = video_length(video)
    cuts = shot_cuts.show(video)
    if cuts is not None:
        st.caption(f":material/content_cut: {len(cuts)} shot cuts detected.")
    snap = st.toggle(
        f"Snap starts to cuts (within {SNAP_WITHIN_S:.0f} s)",
        disabled=not cuts,
        **kept.bind("chapters.snap", False),
    )
    readings = finished_readings(video)
    current = readings.get(mode.name)
    captions_reading = next(
        (r for m, r in readings.values() if m.kind is Kind.CAPTIONS and r.parsed.segments), None
    )
    captions = None
    if captions_reading is not None:
        items, _ = checked_items(captions_reading, Kind.CAPTIONS, length, None, False)
        captions = to_webvtt(items.segments, items.duration_s, body="summary")
    url = media_preview.media_url(video)
    if current is None:
        checked = check((), mode.kind, *length)
        moved, reading, header = 0, None, {}
    else:
        run_mode, reading = current
        checked, moved = checked_items(reading, run_mode.kind, length, cuts, snap)
        header = reading.parsed.header
    if url is not None:
        seek_from_timeline(video)
        watch(video, url, mode.kind, checked, cuts, captions)
    else:
        media_preview.show(video, key=PLAYER_KEY)
        if checked.segments:
            chapter_list.show("chapters-list", checked.segments, mode.kind, cuts=cuts)
    timeline(video, readings, cuts, length, snap)
    if reading is None:
        return
    show_findings(checked, reading, moved)
    if mode.kind is Kind.EVENTS and checked.segments:
        st.dataframe(
            [
                {"start": clock(s.start_s), "end": clock(s.end_s or s.start_s),
                 "event": s.title, "who": s.speech, "details": s.summary}
                for s in checked.segments
            ],
            hide_index=True,
        )  # fmt: skip
    if mode.kind is Kind.SERIES and header:
        quantity, unit = (safe_inline(header.get(name, "")) for name in ("quantity", "unit"))
        st.caption(f"Chart: {quantity} ({unit})")
    if checked.segments:
        st.subheader("Export", divider="gray")
        chapter_exports.show(
            "chapters.export",
            checked.segments,
            mode.kind,
            name=video.label.rsplit(".", 1)[0],
            duration_s=checked.duration_s,
            header=header,
        )


def follow_live(run) -> None:
    """While the run streams: its items painted in place as each JSON object completes."""
    status, answer = st.empty(), chapter_list.live_slot(LIVE_KEY)

    def paint() -> None:
        reading = read_state(run.state(), mode)
        count = len(reading.parsed.segments)
        chapter_list.paint_live(answer, reading.parsed.segments, status=f"{count} received so far…")

    def heartbeat() -> None:
        state = run.state()
        waited = run.elapsed() - state.request_sent_at
        text = "Waiting for the first token…" if state.first_token_at is None else "Streaming…"
        status.caption(f"{text} {waited:.1f} s")

    paint()
    follow.watch(run, paint=paint, heartbeat=heartbeat)


if video is not None:
    entry = _runs_for_video().get(slot)
    run = runs.get(entry[0]) if entry else None
    stop_col.button(
        "Stop", key="chapters.stop", disabled=run is None or run.done, on_click=stop_current,
        args=(slot,),
    )  # fmt: skip
    if run is not None and run.done:
        for message, level in run_view.outcome_messages(run.state(), params.max_output_tokens):
            getattr(st, level)(message)
    results(video)
    if run is not None and not run.done:
        follow_live(run)
