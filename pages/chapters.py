"""Chapters: a video's chapters (or another mode) streamed in, checked, seekable, exported."""

from __future__ import annotations

import streamlit as st

from components.chapters import chapter_exports, chapter_list, mode_picker, shot_cuts
from components.common import app_frame, kept, model_params, resources, run_view
from components.media import media_preview, player, source_picker
from reelscope.chapters.analysis import Reading, analysis_request, analysis_spec, read_state
from reelscope.chapters.exports import to_webvtt
from reelscope.chapters.figures import timeline_figure
from reelscope.chapters.modes import Kind, Mode, ModeStore
from reelscope.chapters.shots import SNAP_WITHIN_S, snap_to_cuts
from reelscope.chapters.timestamps import format_clock
from reelscope.chapters.validate import Checked, check
from reelscope.generation.events import StopReason
from reelscope.generation.runner import Target
from reelscope.media import MediaSource, check_sources
from reelscope.untrusted import safe_markdown

app_frame.run_through_entrypoint()

RUNS_KEY = "chapters.runs"  # "<video key>|<mode id>" -> (run id, mode)
PLAYER_KEY = "chapters.player"
LIVE_KEY = "chapters-live"


def _runs_for_video() -> dict[str, tuple[str, Mode]]:
    return st.session_state.setdefault(RUNS_KEY, {})


def stop_current(slot: str) -> None:
    entry = _runs_for_video().get(slot)
    run = resources.session_runs().get(entry[0]) if entry else None
    if run is not None:
        run.stop()


settings = resources.settings()
catalog = resources.catalog()
target = Target(settings.project, settings.location)
runs = resources.session_runs()
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
    with st.expander("Video", expanded=not added):
        sources, refused = source_picker.show("chapters.sources", catalog.media, model)
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

    problems = list(refused)
    if video is None:
        problems.append("Add a video (upload, gs://, https or YouTube) to get its chapters.")
    else:
        problems += check_sources([video], model, catalog.media)
    if not model.is_callable(resources.today()):
        problems.append(f"{model.name} is retired: pick a current model to run.")
    for problem in problems[1:] if video is None and not refused else problems:
        st.error(problem, icon=":material/block:")

    slot = f"{video.key}|{mode.id}" if video else ""
    buttons = st.container(horizontal=True)  # each button as wide as its label: none cut
    go_col, stop_col = buttons.empty(), buttons.empty()
    if go_col.button(f"Get {mode.name.lower()}", type="primary", disabled=bool(problems)):
        client = resources.connected_client(settings)
        if client is not None and video is not None:
            previous = runs.get(_runs_for_video().get(slot, ("", mode))[0])
            if previous is not None:
                previous.stop(StopReason.REPLACED)
            request = analysis_request(model, [video], mode, prompt, params)
            spec = analysis_spec(model, [video], mode, prompt, params)
            run = runs.start(spec, client, request, target=target)
            _runs_for_video()[slot] = (run.id, mode)


def finished_readings(video: MediaSource) -> dict[str, tuple[Mode, Reading]]:
    """This video's answers in every mode run so far (by mode name), read and ready to draw."""
    found: dict[str, tuple[Mode, Reading]] = {}
    for key, (run_id, run_mode) in _runs_for_video().items():
        run = runs.get(run_id)
        if key.startswith(f"{video.key}|") and run is not None and run.done:
            found[run_mode.name] = (run_mode, read_state(run.state(), run_mode))
    return found


def checked_items(reading: Reading, kind: Kind, duration: float | None, cuts, snap: bool):
    checked = check(reading.parsed.segments, kind, duration)
    moved = 0
    if snap and cuts:
        snapped, moved = snap_to_cuts(checked.segments, cuts)
        checked = check(snapped, kind, checked.duration_s if checked.duration_probed else duration)
    return checked, moved


def show_findings(checked: Checked, reading: Reading, moved: int) -> None:
    if reading.note:
        st.warning(reading.note, icon=":material/content_cut:")
    for problem in reading.parsed.problems:
        st.warning(safe_markdown(problem), icon=":material/error:")
    if moved:
        st.info(f"Snapped {moved} start{'s' if moved > 1 else ''} onto shot cuts.")
    if not checked.findings:
        length = f" ({format_clock(checked.duration_s)})" if checked.duration_s else ""
        st.success(
            f"Checked: inside the video{length}, starts in order, no overlaps, every item titled.",
            icon=":material/check_circle:",
        )
    for finding in checked.findings:
        icon = ":material/build:" if finding.fixed else ":material/info:"
        (st.warning if finding.fixed else st.info)(safe_markdown(finding.message), icon=icon)


def player_segments(kind: Kind, segments, duration: float | None) -> list[tuple[float, float, str]]:
    if kind is Kind.SERIES or kind is Kind.CAPTIONS:
        return []
    spans = []
    for index, segment in enumerate(segments):
        following = segments[index + 1].start_s if index + 1 < len(segments) else None
        end = segment.end_s or following or duration or segment.start_s + 5
        spans.append((segment.start_s, max(end, segment.start_s + 0.5), segment.title))
    return spans


@st.fragment
def watch(video, url, kind, checked: Checked, cuts, captions, header, mode_name) -> None:
    """The player and the list under it: a report from the player reruns only this."""
    spans = player_segments(kind, checked.segments, checked.duration_s)
    state = player.show(
        PLAYER_KEY,
        url,
        mime_type=video.mime_type,
        chapters=spans,
        cuts=cuts or (),
        captions=captions,
        media_id=video.key,
        height=380,
        report_every_s=0.5,
    )
    now = chapter_list.current_index(checked.segments, state.time_s)
    if now is not None and state.time_s is not None:
        st.caption(f"At {format_clock(state.time_s)}: {safe_markdown(checked.segments[now].title)}")
    chapter_list.show(
        "chapters-list",
        checked.segments,
        kind,
        player_key=PLAYER_KEY,
        cuts=cuts,
        current_s=state.time_s,
    )


def timeline(video: MediaSource, readings, cuts, duration, snap: bool) -> None:
    tracks = {}
    for name, (run_mode, reading) in readings.items():
        items, _ = checked_items(reading, run_mode.kind, duration, cuts, snap)
        tracks[name] = (run_mode.kind, items.segments)
    if not tracks:
        return
    figure = timeline_figure(tracks, cuts or (), duration)
    event = st.plotly_chart(
        figure, key=f"chapters.timeline.{video.key}", on_select="rerun", selection_mode="points"
    )
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    picked = [p.get("customdata") for p in points if p.get("customdata") is not None]
    handled_key = "chapters.timeline.handled"
    if picked and st.session_state.get(handled_key) != picked:
        st.session_state[handled_key] = picked
        start = picked[0][0] if isinstance(picked[0], list) else picked[0]
        player.seek(PLAYER_KEY, float(start))


def results(video: MediaSource) -> None:
    duration = video.duration_s
    job = shot_cuts.show(video)
    cuts = job.cuts if job is not None and job.done else None
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
        items, _ = checked_items(captions_reading, Kind.CAPTIONS, duration, None, False)
        captions = to_webvtt(items.segments, items.duration_s, body="summary")
    url = media_preview.media_url(video)
    if current is None:
        checked = Checked((), (), duration, duration is not None)
        moved, reading, header = 0, None, {}
    else:
        run_mode, reading = current
        checked, moved = checked_items(reading, run_mode.kind, duration, cuts, snap)
        header = reading.parsed.header
    if url is not None:
        watch(video, url, mode.kind, checked, cuts, captions, header, mode.name)
    else:
        media_preview.show(video, key=PLAYER_KEY)
        if checked.segments:
            chapter_list.show(
                "chapters-list", checked.segments, mode.kind, player_key=None, cuts=cuts
            )
    timeline(video, readings, cuts, duration, snap)
    if reading is None:
        return
    show_findings(checked, reading, moved)
    if mode.kind is Kind.EVENTS and checked.segments:
        st.dataframe(
            [
                {"start": format_clock(s.start_s), "end": format_clock(s.end_s or s.start_s),
                 "event": s.title, "who": s.speech, "details": s.summary}
                for s in checked.segments
            ],
            hide_index=True,
        )  # fmt: skip
    if mode.kind is Kind.SERIES and header:
        st.caption(f"Chart: {header.get('quantity', '')} ({header.get('unit', '')})")
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


def follow(run, video: MediaSource) -> None:
    """Until the run ends: its items painted in place as each JSON object completes."""
    status, answer = st.empty(), chapter_list.live_slot(LIVE_KEY)

    def paint(states) -> None:
        reading = read_state(states[0], mode)
        count = len(reading.parsed.segments)
        chapter_list.paint_live(answer, reading.parsed.segments, status=f"{count} received so far…")

    def heartbeat(states) -> None:
        state = states[0]
        waited = run.elapsed() - state.request_sent_at
        text = "Waiting for the first token…" if state.first_token_at is None else "Streaming…"
        status.caption(f"{text} {waited:.1f} s")

    run_view.follow([run], paint, heartbeat)
    st.rerun()


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
        follow(run, video)
