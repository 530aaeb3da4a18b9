"""Ask: videos and images in, a prompt, a model, and the answer streamed back."""

from __future__ import annotations

import streamlit as st

from components import app_frame, model_params, resources, source_picker, stream_view, token_count
from reelscope.generation.request import build_request
from reelscope.generation.runner import Target, run_generation
from reelscope.generation.state import RunState
from reelscope.generation.tokens import count_prompt_tokens
from reelscope.media import check_sources

app_frame.run_through_entrypoint()

RUN_KEY = "ask.last_run"
ANSWER_KEY = "ask-answer"

settings = resources.settings()
catalog = resources.catalog()
today = resources.today()
target = Target(settings.project, settings.location)

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
    if not model.is_callable(today):
        problems.append(f"{model.name} is retired: pick a current model to run.")
    for problem in problems:
        st.error(problem, icon=":material/block:")

    run_col, stop_col, count_col = st.columns([1, 1, 4])
    run_clicked = run_col.button("Run", type="primary", disabled=bool(problems), key="ask.run")
    stop_slot = stop_col.empty()
    stop_slot.button("Stop", key="ask.stop", disabled=not run_clicked)
    count_clicked = count_col.button(
        "Count tokens", key="ask.count", disabled=bool(problems), type="tertiary"
    )

    if (run_clicked or count_clicked) and not (prompt.strip() or sources):
        st.warning("Write a prompt or add a video first.")
    elif run_clicked or count_clicked:
        request = build_request(model, sources, prompt, params, catalog.media.stop_sequences_max)
        client = resources.connected_client(settings)
        if client and count_clicked:
            with st.spinner("Counting tokens…"):
                token_count.show(count_prompt_tokens(client, request, target), model)
        elif client:
            st.session_state[RUN_KEY] = run = RunState(model_id=model.id)
            events = run_generation(client, request, stream=params.stream, target=target)
            stream_view.stream(ANSWER_KEY, run, events)
            stop_slot.button("Stop", key="ask.stop_done", disabled=True)
            stream_view.show_outcome(run, params.max_output_tokens)
    if not run_clicked and RUN_KEY in st.session_state:
        stream_view.show(ANSWER_KEY, st.session_state[RUN_KEY], params.max_output_tokens)
