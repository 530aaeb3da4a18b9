"""Ask: videos and images in, a prompt, a model, and the answer streamed back."""

from __future__ import annotations

import streamlit as st

from components import (
    app_frame,
    kept,
    model_params,
    resources,
    run_view,
    source_picker,
    token_count,
)
from reelscope.generation.events import StopReason
from reelscope.generation.request import build_request
from reelscope.generation.runner import Target
from reelscope.generation.tokens import count_prompt_tokens
from reelscope.media import check_sources
from reelscope.runs import RunSpec, SourceRef

app_frame.run_through_entrypoint()


def stop_current_run() -> None:
    """Whichever run is current when the click arrives, not the one drawn with the button."""
    run = resources.session_runs().get(st.session_state.get(RUN_ID_KEY))
    if run is not None:
        run.stop()


RUN_ID_KEY = "ask.run_id"
ANSWER_KEY = "ask-answer"

settings = resources.settings()
catalog = resources.catalog()
today = resources.today()
target = Target(settings.project, settings.location)
runs = resources.session_runs()

st.title("Ask about a video")
main, side = st.columns([3, 2], gap="large")

with side, st.container(border=True):
    model, params = model_params.show("ask.params", catalog, today, settings.location)

with main:
    sources, refused = source_picker.show("ask.sources", catalog.media)
    prompt = st.text_area(
        "Prompt",
        **kept.bind("ask.prompt", ""),
        placeholder="What happens in this video? Give timestamps as MM:SS.",
        height=120,
    )
    problems = refused + check_sources(sources, model, catalog.media)
    if not model.is_callable(today):
        problems.append(f"{model.name} is retired: pick a current model to run.")
    for problem in problems:
        st.error(problem, icon=":material/block:")

    run_col, stop_col, count_col = st.columns([1, 1, 4])
    run_clicked = run_col.button("Run", type="primary", disabled=bool(problems), key="ask.run")
    stop_slot = stop_col.empty()
    count_clicked = count_col.button(
        "Count tokens", key="ask.count", disabled=bool(problems), type="tertiary"
    )

    if (run_clicked or count_clicked) and not (prompt.strip() or sources):
        st.warning("Write a prompt or add a video first.")
    elif run_clicked or count_clicked:
        request = build_request(model, sources, prompt, params)
        client = resources.connected_client(settings)
        if client and count_clicked:
            with st.spinner("Counting tokens…"):
                token_count.show(count_prompt_tokens(client, request, target), model)
        elif client:
            previous = runs.get(st.session_state.get(RUN_ID_KEY))
            if previous is not None:
                previous.stop(StopReason.REPLACED)
            spec = RunSpec(
                model.id, prompt, params, tuple(map(SourceRef.of, sources)), params.stream
            )
            run = runs.start(spec, client, request, target=target)
            st.session_state[RUN_ID_KEY] = run.id

    run = runs.get(st.session_state.get(RUN_ID_KEY))
    stop_slot.button(
        "Stop", key="ask.stop", disabled=run is None or run.done, on_click=stop_current_run
    )
    run_view.show(ANSWER_KEY, run, params.max_output_tokens)
