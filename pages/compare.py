"""Side by side: the same media and prompt sent to two or three models at once, in columns.

Each column has its own model and parameters, and is its own run (its own request, worker
task, timings, usage and cost) with its own Stop; each column is followed in place and the
page keeps only the runs' ids.
"""

from __future__ import annotations

import uuid

import streamlit as st

from components.common import (
    app_frame,
    clicks,
    follow,
    kept,
    model_params,
    prompt_library,
    resources,
    run_view,
    running,
)
from components.media import source_picker
from reelscope.catalog import Model
from reelscope.costs import format_usd, usage_cost
from reelscope.generation.events import StopReason
from reelscope.generation.runner import Target
from reelscope.generation.state import RunState
from reelscope.media_rules import CheckedSources, check_for_model
from reelscope.parameters import GenerationParams
from reelscope.runs import Run
from reelscope.untrusted import safe_inline

app_frame.run_through_entrypoint()

RUN_IDS_KEY = "compare.run_ids"  # one run id per column, or None
COUNT_KEY = "compare.count"
PROMPT_KEY = "compare.prompt"
PARAMS_KEY = "compare.params.{}"


def stop_column(index: int, reason: StopReason = StopReason.USER) -> None:
    """Stops whichever run is in column `index` when the click arrives."""
    ids = st.session_state.get(RUN_IDS_KEY) or []
    run = resources.runs().get(ids[index] if index < len(ids) else None)
    if run is not None:
        run.stop(reason)


def stop_all(reason: StopReason = StopReason.USER) -> None:
    for index in range(len(st.session_state.get(RUN_IDS_KEY) or [])):
        stop_column(index, reason)


def default_models(models: list[Model], count: int = 3) -> list[str]:
    """Distinct current models for the columns, the backend's default first."""
    first = catalog.default_model_on(backend, today).id
    ids = [first] + [m.id for m in models if m.id != first]
    return (ids * count)[:count]


def cost_text(model: Model, state: RunState) -> str | None:
    """The run's cost, as Ask and History show it (reelscope/costs.py)."""
    if state.usage is None:
        return None
    price = model.price_on(backend)  # the page's backend, which answered its runs
    cost = usage_cost(price, state.usage, no_price=model.no_price_reason(backend))
    if cost.total_usd is None:
        return f"cost {format_usd(None)}: {cost.notes[0]}" if cost.notes else None
    return f"cost **{format_usd(cost.total_usd)}**"


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


def model_panel(index: int, default_id: str) -> tuple[Model, GenerationParams]:
    """Column `index`'s model and its own parameters (in an expander under the model's name)."""
    key = PARAMS_KEY.format(index)
    shown = model_params.chosen_model(key, catalog) or catalog.get(default_id)
    with (
        st.container(key=f"compare-model-{index}"),
        model_params.panel(key, f"Model {index + 1}: {shown.name}"),
    ):
        return model_params.show(
            key,
            catalog,
            today,
            settings.location,
            backend=backend,
            default_model_id=default_id,
        )


settings = resources.settings()
catalog = resources.catalog()
today = resources.today()
target = Target(settings.project, settings.location)
runs = resources.runs()
backend = resources.backend(settings)
current = [m for m in catalog.models if m.is_callable(today, backend) and m.on(backend)]
if opened := running.take_opened("compare"):
    opened_run = runs.get(opened)
    group = opened_run.spec.extra.get("compare_group") if opened_run else None
    together = [r for r in runs.live() if group and r.spec.extra.get("compare_group") == group]
    st.session_state[RUN_IDS_KEY] = [r.id for r in reversed(together)] or [opened]

st.title("Side by side")
st.caption(
    "The same media and prompt sent to two or three models at once, each with its own "
    "parameters. Each streams in its own column with its own timings, tokens and cost, and "
    "stops on its own."
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
chosen: list[tuple[Model, GenerationParams]] = []
for index, column in enumerate(st.columns(count, gap="medium")):
    with column:
        chosen.append(model_panel(index, defaults[index]))

checks: dict[str, CheckedSources] = {}
problems = list(refused)
for model, _ in chosen:
    if model.id in checks:
        continue  # each model checked once, even when picked twice
    checks[model.id] = check_for_model(
        sources, model, catalog.media, bucket=settings.bucket, backend=backend
    )
    problems += [f"{model.name}: {p}" for p in checks[model.id].problems]
    if not model.is_callable(today, backend):
        problems.append(f"{model.name} is retired: pick a current model to run.")
for problem in problems:
    st.error(problem, icon=":material/block:")

ids = st.session_state.get(RUN_IDS_KEY) or []
shown: list[Run | None] = [runs.get(ids[i]) if i < len(ids) else None for i in range(count)]
busy = any(run is not None and not run.done for run in shown)

buttons = st.container(horizontal=True)  # each button as wide as its label: none cut
run_pressed = clicks.pressed("compare.run")
starting = run_pressed and not busy and not problems and bool(prompt.strip() or sources)
client = resources.connected_client(settings) if starting else None
buttons.button(
    "Run side by side",
    type="primary",
    disabled=bool(problems) or busy or client is not None,
    key="compare.run",
    on_click=clicks.remember,
    args=("compare.run",),
)
stop_all_slot = buttons.empty()

if run_pressed and not (prompt.strip() or sources):
    st.warning("Write a prompt or add a video first.")
elif client is not None:
    stop_all(StopReason.REPLACED)  # a new comparison replaces the one on screen
    group = uuid.uuid4().hex  # the runs started together, so Open brings back all of them
    shown = [
        runs.start_generation(
            client,
            model,
            checks[model.id],
            prompt,
            params,
            target=target,
            owner=resources.owner(),
            origin="compare",
            extra={"compare_group": group},
        )
        for model, params in chosen
    ]
    st.session_state[RUN_IDS_KEY] = [run.id for run in shown]
clicks.handled("compare.run")  # started, or the page said why not

stop_all_slot.button(
    "Stop all",
    key="compare.stop_all",
    disabled=all(run is None or run.done for run in shown),
    on_click=stop_all,
)


def column_view(index: int, run: Run | None) -> None:
    """One column: Stop, the status line, the answer as it grows, then its outcome."""
    if run is not None and run.spec.model_id != chosen[index][0].id:
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
    if run is None:
        return
    model = catalog.get(run.spec.model_id)

    def paint() -> None:
        state = run.state()
        run_view.paint_answer(answer, state)
        if state.done:  # this column ended while others go on: its outcome shows now
            status.empty()
            with outcome.container():
                st.markdown(metrics_line(model, state))
                for message, level in run_view.outcome_messages(
                    state, run.spec.params.max_output_tokens
                ):
                    getattr(st, level)(message)

    paint()
    follow.watch(
        run,
        paint=paint,
        heartbeat=lambda: run_view.paint_status(status, run.state(), run.elapsed()),
        settle=False,
    )


for index, column in enumerate(st.columns(count, gap="medium")):
    with column:
        column_view(index, shown[index])
