"""Side by side: the same media and prompt sent to two or three models at once, in columns.

Each column is its own run (its own request, worker task, timings, usage and cost) and has its
own Stop; the page follows all of them in one loop (run_view.follow) and keeps only their ids.
"""

from __future__ import annotations

import streamlit as st

from components.common import app_frame, kept, prompt_library, resources, run_view
from components.media import source_picker
from reelscope.catalog import Model
from reelscope.generation.events import StopReason
from reelscope.generation.request import build_request
from reelscope.generation.runner import Target
from reelscope.generation.state import RunState
from reelscope.media import check_sources
from reelscope.parameters import defaults_for
from reelscope.runs import Run, RunSpec, SourceRef
from reelscope.store.runs import cost_of
from reelscope.untrusted import safe_inline

app_frame.run_through_entrypoint()

RUN_IDS_KEY = "compare.run_ids"  # one run id per column, or None
COUNT_KEY = "compare.count"
PROMPT_KEY = "compare.prompt"
MODEL_KEY = "compare.model.{}"


def stop_column(index: int, reason: StopReason = StopReason.USER) -> None:
    """Stops whichever run is in column `index` when the click arrives."""
    ids = st.session_state.get(RUN_IDS_KEY) or []
    run = resources.session_runs().get(ids[index] if index < len(ids) else None)
    if run is not None:
        run.stop(reason)


def stop_all(reason: StopReason = StopReason.USER) -> None:
    for index in range(len(st.session_state.get(RUN_IDS_KEY) or [])):
        stop_column(index, reason)


def default_models(models: list[Model], count: int = 3) -> list[str]:
    """Distinct current models for the columns, the catalog's default first."""
    ids = [catalog.default_model_id] + [m.id for m in models if m.id != catalog.default_model_id]
    return (ids * count)[:count]


def cost_text(model: Model, state: RunState) -> str | None:
    """The run's list-price cost; what is known when the catalog has only an input price."""
    usage, price = state.usage, model.price
    if usage is None or usage.prompt_tokens is None:
        return None
    if price is None:
        return "cost: no list price"
    cost = cost_of(state, price)  # the figure History shows for the run
    if cost is not None:
        return f"**{_usd(cost)}**"
    return f"input {_usd(usage.prompt_tokens * price.input_usd_per_mtok / 1e6)} (no output price)"


def _usd(amount: float) -> str:
    return f"${amount:,.4f}" if amount >= 0.01 else f"${amount:.6f}"


def metrics_line(model: Model, state: RunState) -> str:
    usage = state.usage
    cells = [
        f"TTFT **{state.time_to_first_token:.2f} s**" if state.time_to_first_token else None,
        f"**{state.tokens_per_second:,.0f}** tokens/s" if state.tokens_per_second else None,
        f"in {usage.prompt_tokens:,}" if usage and usage.prompt_tokens is not None else None,
        f"out {usage.output_tokens:,}" if usage and usage.output_tokens is not None else None,
        f"thinking {usage.thinking_tokens:,}" if usage and usage.thinking_tokens else None,
        cost_text(model, state),
        safe_inline(", ".join(sorted(set(state.finish_reasons.values())))) or None,  # server's
    ]
    return " · ".join(cell for cell in cells if cell) or "No usage reported."


settings = resources.settings()
catalog = resources.catalog()
today = resources.today()
target = Target(settings.project, settings.location)
runs = resources.session_runs()
current = [m for m in catalog.models if m.is_callable(today)]

st.title("Side by side")
st.caption(
    "The same media and prompt sent to two or three models at once. Each streams in its own "
    "column with its own timings, tokens and cost, and stops on its own."
)
left, right = st.columns([3, 2], gap="large")
with left:
    sources, refused = source_picker.show("compare.sources", catalog.media)
with right:
    prompt_library.show("compare.library", prompt_key=PROMPT_KEY)
    prompt = st.text_area(
        "Prompt",
        **kept.bind(PROMPT_KEY, ""),
        placeholder="Describe this video. Give timestamps as MM:SS.",
        height=120,
    )
    count = st.segmented_control("Models", [2, 3], **kept.bind(COUNT_KEY, 3)) or 3

defaults = default_models(current)
models: list[Model] = []
for index, column in enumerate(st.columns(count, gap="medium")):
    with column:
        model_id = st.selectbox(
            f"Model {index + 1}",
            [m.id for m in current],
            format_func=lambda mid: catalog.get(mid).name,
            **kept.bind(MODEL_KEY.format(index), defaults[index]),
        )
        models.append(catalog.get(model_id))

problems = list(refused)
for model in {m.id: m for m in models}.values():  # each model once, even when picked twice
    problems += [f"{model.name}: {p}" for p in check_sources(sources, model, catalog.media)]
for problem in problems:
    st.error(problem, icon=":material/block:")

run_col, stop_col, _ = st.columns([1, 1, 4])
run_clicked = run_col.button(
    "Run side by side", type="primary", disabled=bool(problems), key="compare.run"
)
stop_all_slot = stop_col.empty()

if run_clicked and not (prompt.strip() or sources):
    st.warning("Write a prompt or add a video first.")
elif run_clicked and (client := resources.connected_client(settings)):
    stop_all(StopReason.REPLACED)  # a new comparison replaces the one on screen
    ids = []
    for model in models:
        params = defaults_for(model)
        request = build_request(model, sources, prompt, params)
        spec = RunSpec(model.id, prompt, params, tuple(map(SourceRef.of, sources)), params.stream)
        ids.append(runs.start(spec, client, request, target=target).id)
    st.session_state[RUN_IDS_KEY] = ids

ids = st.session_state.get(RUN_IDS_KEY) or []
shown: list[Run | None] = [runs.get(ids[i]) if i < len(ids) else None for i in range(count)]
stop_all_slot.button(
    "Stop all",
    key="compare.stop_all",
    disabled=all(run is None or run.done for run in shown),
    on_click=stop_all,
)

slots = []
for index, column in enumerate(st.columns(count, gap="medium")):
    run = shown[index]
    with column:
        if run is not None and run.spec.model_id != models[index].id:
            st.caption(f"Last run: {catalog.get(run.spec.model_id).name}")
        st.button(
            "Stop",
            key=f"compare.stop.{index}",
            disabled=run is None or run.done,
            on_click=stop_column,
            args=(index,),
            icon=":material/stop_circle:",
        )
        status = st.empty()
        answer = st.container(key=f"compare-answer-{index}").empty()
        outcome = st.empty()
        slots.append((status, answer, outcome))


def paint_outcome(index: int, state: RunState) -> None:
    run = shown[index]
    model = catalog.get(run.spec.model_id)
    with slots[index][2].container():
        st.markdown(metrics_line(model, state))
        for message, level in run_view.outcome_messages(state, run.spec.params.max_output_tokens):
            getattr(st, level)(message)


live = [(index, run) for index, run in enumerate(shown) if run is not None]
for index, run in live:
    if run.done:
        state = run.state()
        run_view._paint(slots[index][1], state)
        paint_outcome(index, state)

following = [(index, run) for index, run in live if not run.done]
if following:
    painted_done: set[int] = set()

    def paint(states: list[RunState]) -> None:
        for (index, _), state in zip(following, states, strict=True):
            if index in painted_done:
                continue
            run_view._paint(slots[index][1], state)
            if state.done:  # this column ended while others go on: its outcome shows now
                painted_done.add(index)
                paint_outcome(index, state)

    def heartbeat(states: list[RunState]) -> None:
        for (index, run), state in zip(following, states, strict=True):
            run_view._status(slots[index][0], state, run.elapsed())

    run_view.follow([run for _, run in following], paint, heartbeat)
    st.rerun()  # every column ended: the page settles once (Stops grey out)
