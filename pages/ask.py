"""Ask: videos and images in, a prompt, a model, and the answer streamed back."""

from __future__ import annotations

import streamlit as st

from components.ask import estimate_view, get_code
from components.common import (
    app_frame,
    clicks,
    kept,
    model_params,
    prompt_library,
    resources,
    run_view,
    running,
)
from components.media import clip_settings, source_picker
from reelscope.generation.events import StopReason
from reelscope.generation.request import build_request
from reelscope.generation.runner import Target
from reelscope.generation.tokens import count_prompt_tokens
from reelscope.media_rules import check_for_model

app_frame.run_through_entrypoint()

RUN_ID_KEY = "ask.run_id"
ANSWER_KEY = "ask-answer"
ESTIMATE_KEY = "ask.estimate"


def stop_current_run() -> None:
    """Whichever run is current when the click arrives, not the one drawn with the button."""
    run = resources.runs().get(st.session_state.get(RUN_ID_KEY))
    if run is not None:
        run.stop()


settings = resources.settings()
catalog = resources.catalog()
today = resources.today()
target = Target(settings.project, settings.location)
runs = resources.runs()
if opened := running.take_opened("ask"):
    st.session_state[RUN_ID_KEY] = opened
run = runs.get(st.session_state.get(RUN_ID_KEY))
live = run is not None and not run.done

st.title("Ask about a video")
main, side = st.columns([3, 2], gap="large")

with side, st.container(border=True):
    model, params = model_params.show(
        "ask.params",
        catalog,
        today,
        settings.location,
        backend=resources.backend(settings),
        system_instructions=True,
        on_reset=lambda: clip_settings.reset_request_resolution("ask.media_resolution"),
    )
    resolution = clip_settings.request_resolution("ask.media_resolution", model)

with main:
    sources, refused = source_picker.show("ask.sources", catalog.media, model)
    prompt_library.show("ask.library", prompt_key="ask.prompt")
    prompt = st.text_area(
        "Prompt",
        **kept.bind("ask.prompt", ""),
        placeholder="What happens in this video? Give timestamps as MM:SS.",
        height=120,
    )
    checked = check_for_model(
        sources, model, catalog.media, bucket=settings.bucket, backend=resources.backend(settings)
    )
    request_id = estimate_view.fingerprint(
        model, sources, prompt, resolution, params.system_instruction
    )
    problems = refused + checked.problems
    if not model.is_callable(today, resources.backend(settings)):
        problems.append(f"{model.name} is retired: pick a current model to run.")
    for note in checked.notes:
        st.info(note, icon=":material/info:")
    problems_slot = st.container()

    buttons = st.container(horizontal=True)  # each button as wide as its label: none cut
    run_slot, stop_slot, count_slot = buttons.empty(), buttons.empty(), buttons.empty()
    count_clicked = count_slot.button(
        "Count tokens", key="ask.count", disabled=bool(problems), type="tertiary"
    )
    if count_clicked and (prompt.strip() or sources):
        client = resources.connected_client(settings)
        if client:
            request = build_request(model, checked, prompt, params, media_resolution=resolution)
            with st.spinner("Counting tokens…"):
                counted = count_prompt_tokens(client, request, target)
            estimate_view.remember_count(ESTIMATE_KEY, request_id, counted)

    estimate = estimate_view.show(
        ESTIMATE_KEY,
        model,
        sources,
        prompt,
        resolution,
        request_id,
        params.system_instruction,
        backend=resources.backend(settings),
    )
    counted = estimate_view.counted_for(ESTIMATE_KEY, request_id)
    too_long = estimate_view.too_long(model, estimate, counted)
    if too_long:
        problems.append(too_long)
    for problem in problems:
        problems_slot.error(problem, icon=":material/block:")
    # While a run streams, Run is disabled: a second click would replace it without a word.
    run_pressed = clicks.pressed("ask.run")
    starting = run_pressed and not live and not problems and bool(prompt.strip() or sources)
    client = resources.connected_client(settings) if starting else None
    run_slot.button(
        "Run",
        type="primary",
        disabled=bool(problems) or live or client is not None,
        key="ask.run",
        help="A run is going: stop it first, or wait for it." if live else None,
        on_click=clicks.remember,
        args=("ask.run",),
    )

    if (run_pressed or count_clicked) and not (prompt.strip() or sources):
        st.warning("Write a prompt or add a video first.")
    elif client is not None:
        if run is not None:
            run.stop(StopReason.REPLACED)
        run = runs.start_generation(
            client,
            model,
            checked,
            prompt,
            params,
            target=target,
            owner=resources.owner(),
            origin="ask",
            media_resolution=resolution,
            extra={"estimate": estimate_view.record(estimate, counted, resolution)},
        )
        st.session_state[RUN_ID_KEY] = run.id
        live = True
    clicks.handled("ask.run")  # started, or the page said why not

    if st.toggle("Get code", key="ask.show_code", help="This request as Python and curl."):
        if checked.ok:
            request = build_request(model, checked, prompt, params, media_resolution=resolution)
            get_code.show("ask.code", request, settings, stream=params.stream, sources=sources)
        else:
            st.caption("Get code shows the request once the media above can be sent.")

    stop_slot.button("Stop", key="ask.stop", disabled=not live, on_click=stop_current_run)
    estimate_view.show_actual("ask.actual", run, catalog, resources.backend(settings))
    run_view.show(ANSWER_KEY, run, params.max_output_tokens)
