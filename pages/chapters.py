"""Chapters: a video's chapters (or another mode) streamed in, checked, seekable, exported."""

from __future__ import annotations

import streamlit as st

from components.chapters import chapter_list, mode_picker, results
from components.chapters.open_kept import MODES_KEY, RUNS_KEY, SOURCES_KEY
from components.common import app_frame, clicks, kept, model_params, resources, run_view
from components.media import source_picker
from reelscope.chapters.analysis import analysis_extra, finished_readings
from reelscope.chapters.modes import Mode, response_schema
from reelscope.generation.events import StopReason
from reelscope.generation.runner import Target
from reelscope.media import MediaSource
from reelscope.media_rules import check_for_model
from reelscope.runs import Run

app_frame.run_through_entrypoint()

REFUSED_KEY = "chapters.refused"  # something is refused: keep the video section open
LIVE_KEY = "chapters-live"


def runs_of_videos() -> dict[str, tuple[str, Mode]]:
    return st.session_state.setdefault(RUNS_KEY, {})


def run_in(slot: str) -> Run | None:
    entry = runs_of_videos().get(slot)
    return resources.runs().get(entry[0]) if entry else None


def stop_current(slot: str) -> None:
    if (run := run_in(slot)) is not None:
        run.stop()


def pick_video(sources: list[MediaSource]) -> MediaSource | None:
    videos = [s for s in sources if s.is_video]
    if len(videos) > 1:
        labels = {v.key: v.label for v in videos}
        chosen = st.selectbox(
            "Video to analyse", list(labels), format_func=labels.get, **kept.bind("chapters.video")
        )
        return next(v for v in videos if v.key == chosen)
    return videos[0] if videos else None


settings = resources.settings()
catalog = resources.catalog()
runs = resources.runs()
history = resources.store_if_open(settings.data_dir)  # None: built-in modes only

st.title("Chapters")
main, side = st.columns([3, 2], gap="large")
with side, st.container(border=True):
    model, params = model_params.show(
        "chapters.params",
        catalog,
        resources.today(),
        settings.location,
        backend=resources.backend(settings),
    )
with main:
    mode, prompt = mode_picker.show(MODES_KEY, history.modes if history else None)
    added = bool(st.session_state.get(f"{SOURCES_KEY}.items"))
    with st.expander("Video", expanded=not added or bool(st.session_state.get(REFUSED_KEY))):
        # The page's own player previews the video: the picker shows none (one player).
        sources, refused = source_picker.show(
            SOURCES_KEY, catalog.media, model, video_previews=False
        )
    video = pick_video(sources)
    checked = check_for_model(
        [video] if video else [],
        model,
        catalog.media,
        bucket=settings.bucket,
        backend=resources.backend(settings),
    )
    problems = list(refused) + checked.problems
    st.session_state[REFUSED_KEY] = bool(problems)  # the video section stays open while refused
    if not model.is_callable(resources.today(), resources.backend(settings)):
        problems.append(f"{model.name} is retired: pick a current model to run.")
    for note in checked.notes:
        st.info(note, icon=":material/info:")
    for problem in problems:
        st.error(problem, icon=":material/block:")
    if video is None:
        problems.append("Add a video (upload, gs://, https or YouTube) to get its chapters.")

    slot = f"{video.key}|{mode.id}" if video else ""
    current = run_in(slot)
    live = current is not None and not current.done
    buttons = st.container(horizontal=True)  # each button as wide as its label: none cut
    go_slot, stop_slot = buttons.empty(), buttons.empty()
    label = f"Get {mode.name.lower()}"
    starting = clicks.pressed("chapters.go") and not live and not problems and video is not None
    client = resources.connected_client(settings) if starting else None
    go_slot.button(
        label,
        type="primary",
        disabled=bool(problems) or live or client is not None,
        key="chapters.go",
        on_click=clicks.remember,
        args=("chapters.go",),
    )
    if client is not None:
        if current is not None:
            current.stop(StopReason.REPLACED)
        current = runs.start_generation(
            client,
            model,
            checked,
            prompt,
            params,
            target=Target(settings.project, settings.location),
            owner=resources.owner(),
            origin="chapters",
            response_schema=response_schema(mode.kind),
            extra=analysis_extra(mode),
        )
        runs_of_videos()[slot] = (current.id, mode)
        live = True
    clicks.handled("chapters.go")  # started, or the page said why not

if video is not None:
    stop_slot.button(
        "Stop", key="chapters.stop", disabled=not live, on_click=stop_current, args=(slot,)
    )
    if current is not None and current.done:
        for message, level in run_view.outcome_messages(current.state(), params.max_output_tokens):
            getattr(st, level)(message)
    of_video = [
        (run_mode, run.state())
        for key, (run_id, run_mode) in runs_of_videos().items()
        if key.startswith(f"{video.key}|") and (run := runs.get(run_id)) is not None
    ]
    results.show("chapters", video, mode, finished_readings(of_video))
    if live:
        chapter_list.follow_live(LIVE_KEY, current, mode)
