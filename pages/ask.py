"""Ask: videos and images in, a prompt, a model, and the answer streamed back."""

from __future__ import annotations

import streamlit as st

from components import model_params, resources, source_picker, stream_view
from reelscope.generation.request import build_request
from reelscope.generation.runner import Target, run_generation
from reelscope.generation.state import RunState
from reelscope.media import check_sources
from reelscope.vertex import NotConnected

RUN_KEY = "ask.run"

settings = resources.settings()
catalog = resources.catalog()
today = resources.today()

st.title("Ask about a video")
main, side = st.columns([3, 2], gap="large")

with side, st.container(border=True):
    model, params = model_params.show("ask.params", catalog, today, settings.location)

with main:
    sources = source_picker.show("ask.sources", catalog.media)
    prompt = st.text_area(
        "Prompt",
        key="ask.prompt",
        placeholder="What happens in this video? Give timestamps as MM:SS.",
        height=120,
    )
    problems = check_sources(sources, model, catalog.media)
    for problem in problems:
        st.error(problem, icon=":material/block:")
    blockers = list(problems)
    if not model.is_callable(today):
        blockers.append(f"{model.name} is retired.")

    run_col, stop_col, _ = st.columns([1, 1, 4])
    run_clicked = run_col.button(
        "Run", type="primary", disabled=bool(blockers), key="ask.run_button"
    )
    stop_col.button("Stop", key="ask.stop_button", disabled=not run_clicked)

    if run_clicked and not prompt.strip() and not sources:
        st.warning("Write a prompt or add a video first.")
    elif run_clicked:
        try:
            client = resources.genai_client(settings)
        except NotConnected as problem:
            st.error(f"{problem} Run:\n\n" + "\n".join(f"`{fix}`" for fix in problem.fixes))
        else:
            request = build_request(
                model, sources, prompt, params, catalog.media.stop_sequences_max
            )
            run = RunState(model_id=model.id)
            st.session_state[RUN_KEY] = run
            events = run_generation(
                client,
                request,
                stream=params.stream,
                target=Target(settings.project, settings.location),
            )
            stream_view.stream("ask-answer", run, events)
            stream_view.show_outcome(run, params.max_output_tokens)
    elif RUN_KEY in st.session_state:
        stream_view.show("ask-answer", st.session_state[RUN_KEY], params.max_output_tokens)
