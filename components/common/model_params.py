"""The model picker and its parameters, each control bounded by that model's catalog entry.

The component owns its values: kept under `{key}.…` by components.common.kept and handed to its
widgets, so they survive page visits. Switching model moves a value left at the old model's
default to the new one's and clamps the rest into the new model's ranges (and says once what
changed); "Reset to defaults" writes the model's defaults. Where asked, it also holds the
system instructions: text the user wrote, which Reset leaves alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from components.common import kept
from reelscope.catalog import Catalog, Model, Range, Status
from reelscope.parameters import (
    RANGED_PARAMETERS,
    SAFETY_CATEGORIES,
    SAFETY_THRESHOLDS,
    THINKING_DYNAMIC,
    THINKING_OFF,
    GenerationParams,
    clamp_to,
    defaults_for,
    range_for,
    switch_model,
    takes,
)
from reelscope.settings import BACKEND_NAMES, BACKEND_VERTEX

_CUSTOM = "custom"
# Short forms of the explanations in Google's video-understanding guide (seed 003).
_HELP = {
    "temperature": "Randomness of token choice. Lower for focused, factual answers; higher for "
    "more varied ones. 0 picks the most likely token almost every time.",
    "top_p": "Tokens are drawn from the most likely ones until their probabilities add up to "
    "this value. Lower is less random.",
    "top_k": "Each token is drawn from this many most likely tokens. 1 is greedy decoding.",
    "max_output_tokens": "The longest answer allowed. A token is about 4 characters; 100 tokens "
    "are 60–80 words. Thinking tokens count against it.",
    "stop_sequences": "The answer stops at the first of these strings, which is left out.",
    "candidate_count": "How many alternative answers to generate for the same prompt.",
    "thinking": "How much the model reasons before answering: more is slower and costs more "
    "tokens, and can give better answers on hard questions.",
    "stream": "Show the answer as it is generated, rather than all at once at the end.",
    "system_instruction": "How the model should behave for the whole request: a role, a tone, "
    "a format, rules. Sent apart from the prompt, as the request's system instruction.",
    "reset": "This model's default parameters. The system instructions stay as they are.",
}


def show(
    key: str,
    catalog: Catalog,
    today: dt.date,
    location: str,
    *,
    backend: str = BACKEND_VERTEX,
    default_model_id: str | None = None,
    system_instructions: bool = False,
    on_reset: Callable[[], None] | None = None,
) -> tuple[Model, GenerationParams]:
    """Model and parameters as the user set them (values already inside the model's ranges).

    The component keeps its values under `{key}.…` (components.common.kept), so they survive a visit
    to another page and controls hidden for the current model. `default_model_id`: the model
    picked before the user picks one (the catalog's default otherwise). `system_instructions`
    adds their box (otherwise none are sent); `on_reset` runs when Reset is pressed, for the
    page's other parameter controls (each component resets its own). Only `backend`'s models
    are offered (settings.BACKENDS), with a note naming the callable ones it does not serve.
    """
    model_key = f"{key}.model"
    if not kept.has(model_key) or not catalog.get(kept.value(model_key)).on(backend):
        first = catalog.get(default_model_id or catalog.default_model_id)
        if not first.on(backend):
            first = catalog.default_model_on(backend, today)
        kept.put(model_key, first.id)
        _keep(key, first, defaults_for(first))

    show_retired = st.toggle("Show retired models", **kept.bind(f"{key}.show_retired", False))
    current = catalog.get(kept.value(model_key))
    on_backend = [m for m in catalog.models if m.on(backend)]
    options = [
        m.id
        for m in on_backend
        if show_retired or m.is_callable(today, backend) or m.id == current.id
    ]
    st.selectbox(
        "Model",
        options,
        format_func=lambda mid: _label(catalog.get(mid), today, backend),
        **kept.bind(model_key, on_change=_on_model_change, args=(key, catalog)),
    )
    _missing_models_note(catalog, today, backend)
    model = catalog.get(kept.value(model_key))
    if kept.value(f"{key}.fitted_for") != model.id:  # an interrupted rerun skipped the callback
        _on_model_change(key, catalog)
    _model_notice(model, today, location, backend)
    for change in kept.take_once(f"{key}.adjustments"):  # said once, then gone
        st.info(change, icon=":material/tune:")

    stop_max = catalog.media.stop_sequences_max
    _fit_kept(key, model, stop_max)
    if system_instructions:
        _system_instruction_box(key, model)
    _sampling_controls(key, model)
    _output_controls(key, model, stop_max)
    _thinking_controls(key, model)
    with st.expander("Safety thresholds"):
        for category, label in SAFETY_CATEGORIES.items():
            st.selectbox(
                label,
                list(SAFETY_THRESHOLDS),
                format_func=SAFETY_THRESHOLDS.get,
                **kept.bind(f"{key}.safety.{category}", "DEFAULT"),
            )
    st.toggle("Stream the answer", help=_HELP["stream"], **kept.bind(f"{key}.stream", True))
    st.button(
        "Reset to defaults",
        key=f"{key}.reset",
        help=_HELP["reset"],
        on_click=_reset,
        args=(key, catalog, on_reset),
    )
    params, changes = clamp_to(model, _read(key, system_instructions), stop_max)
    for change in changes:  # only free-text fields can be out of range here
        st.warning(f"Sent as {change}.", icon=":material/tune:")
    return model, params


def chosen_model(key: str, catalog: Catalog) -> Model | None:
    """The model the panel `key` holds, before it is drawn (None until it was drawn once)."""
    model_id = kept.value(f"{key}.model")
    return catalog.get(model_id) if model_id else None


def panel(key: str, title: str) -> DeltaGenerator:
    """The expander that holds the panel `key` under a title naming its model. Keyed: an
    unkeyed expander whose label changes is drawn anew, closed, as the user picks a model."""
    return st.expander(title, key=f"{key}.panel")


def _label(model: Model, today: dt.date, backend: str = BACKEND_VERTEX) -> str:
    """The picker's line: the name, and the status unless the name already says it."""
    status = model.status(today, backend)
    if status == Status.GA or str(status) in model.name.lower():
        return model.name
    return f"{model.name} · {status.value}"


def _missing_models_note(catalog: Catalog, today: dt.date, backend: str) -> None:
    """Name the current models this backend does not serve, so their absence is explained."""
    current = [m for m in catalog.models if m.is_callable(today, BACKEND_VERTEX)]
    missing = [m.name for m in current if not m.on(backend)]
    if missing:
        st.caption(f"Not on the {BACKEND_NAMES[backend]}: {', '.join(missing)}.")


def _model_notice(model: Model, today: dt.date, location: str, backend: str) -> None:
    status, shutdown = model.status(today, backend), model.shutdown_on(backend)
    if status == Status.RETIRED:
        st.error(
            f"{model.name} was retired on {shutdown:%B %-d, %Y}: the {BACKEND_NAMES[backend]} "
            "refuses requests to it. Its ranges are shown for reference; pick a current model "
            "to run.",
            icon=":material/block:",
        )
    elif status == Status.RETIRING:
        st.warning(
            f"{model.name} retires on {shutdown:%B %-d, %Y} on the {BACKEND_NAMES[backend]}.",
            icon=":material/schedule:",
        )
    elif status == Status.PREVIEW:
        st.caption("Preview model: behaviour and availability may change.")
    on_vertex = backend == BACKEND_VERTEX
    if on_vertex and model.is_callable(today, backend) and not model.serves(location):
        st.warning(
            f"{model.name} is served in {', '.join(model.locations)}, not in {location}. "
            "Set GOOGLE_CLOUD_LOCATION to one of those (global is safest).",
            icon=":material/location_on:",
        )
    with st.popover("About this model"):
        st.markdown("\n".join(f"- {note}" for note in model.notes) or "No notes.")
        st.markdown(
            "Sources: " + " · ".join(f"[{i + 1}]({u})" for i, u in enumerate(model.sources))
        )


def _system_instruction_box(key: str, model: Model) -> None:
    taken = takes(model, "system_instruction")
    st.text_area(
        "System instructions",
        height=90,
        placeholder="You are a sports analyst. Answer in short bullet points.",
        help=_HELP["system_instruction"],
        disabled=not taken,
        **kept.bind(f"{key}.system_instruction", ""),
    )
    if not taken:
        st.caption(
            f"{model.name} takes no system instructions: yours are kept here, not sent. "
            "Put them in the prompt, or pick another model."
        )


def _sampling_controls(key: str, model: Model) -> None:
    if model.sampling_ignored:
        st.info(
            f"{model.name} ignores temperature, top-P and top-K (Google's documentation), "
            "so Reelscope does not send them.",
            icon=":material/casino:",
        )
        return
    if t := range_for(model, "temperature"):
        st.slider(
            "Temperature",
            t.min,
            t.max,
            step=0.05,
            help=_with_default(_HELP["temperature"], model, t),
            **kept.bind(f"{key}.temperature", t.default),
        )
        _note(t)
    if p := range_for(model, "top_p"):
        st.slider(
            "Top-P",
            p.min,
            p.max,
            step=0.01,
            help=_with_default(_HELP["top_p"], model, p),
            **kept.bind(f"{key}.top_p", p.default),
        )
        _note(p)
    if k := range_for(model, "top_k"):
        st.slider(
            "Top-K",
            int(k.min),
            int(k.max),
            help=_with_default(_HELP["top_k"], model, k),
            **kept.bind(f"{key}.top_k", int(k.default)),
        )
        _note(k)
    elif model.top_k_fixed is not None:
        st.caption(f"Top-K is fixed at {model.top_k_fixed} on this model.")
    else:
        st.caption("This model does not take top-K.")


def _output_controls(key: str, model: Model, stop_max: int) -> None:
    if m := range_for(model, "max_output_tokens"):
        st.number_input(
            "Max output tokens",
            int(m.min),
            int(m.max),
            step=256,
            help=_with_default(_HELP["max_output_tokens"], model, m),
            **kept.bind(f"{key}.max_output_tokens", int(m.default)),
        )
        _note(m)
    st.text_area(
        f"Stop sequences (one per line, at most {stop_max})",
        height=68,
        help=_HELP["stop_sequences"],
        **kept.bind(f"{key}.stop_sequences", ""),
    )
    if c := range_for(model, "candidate_count"):
        st.number_input(
            "Responses",
            int(c.min),
            int(c.max),
            help=_HELP["candidate_count"],
            **kept.bind(f"{key}.candidate_count", 1),
        )


def _with_default(text: str, model: Model, spec: Range) -> str:
    return f"{text}\n\nDefault on {model.name}: {spec.default:,g}."


def _note(spec: Range) -> None:
    """The catalog's word on this default, where it has one (e.g. an unusual default)."""
    if spec.note:
        st.caption(spec.note)


def _thinking_controls(key: str, model: Model) -> None:
    spec = model.thinking
    if spec is None:
        return
    if takes(model, "thinking_level"):
        st.segmented_control(
            "Thinking level",
            spec.levels,
            help=_HELP["thinking"],
            **kept.bind(f"{key}.thinking_level", spec.default_level),
        )
        return
    modes = [THINKING_DYNAMIC, *([THINKING_OFF] if spec.can_disable else []), _CUSTOM]
    mode = st.radio(
        "Thinking",
        modes,
        horizontal=True,
        help=_HELP["thinking"],
        **kept.bind(f"{key}.thinking_mode", spec.default_budget),
    )
    if mode == _CUSTOM and spec.budget:
        b = spec.budget
        st.slider(
            "Thinking budget (tokens)",
            int(b.min),
            int(b.max),
            **kept.bind(f"{key}.thinking_budget", int(b.default)),
        )


def _read(key: str, system_instructions: bool = True) -> GenerationParams:
    """The parameters as kept (the truth; widgets only show them); the system instruction only
    where the box is shown."""

    def get(name: str, default: object = None) -> object:
        found = kept.value(f"{key}.{name}")
        return default if found is None else found

    mode = get("thinking_mode")
    stops = tuple(line for line in str(get("stop_sequences", "")).splitlines() if line.strip())
    return GenerationParams(
        temperature=get("temperature"),
        top_p=get("top_p"),
        top_k=get("top_k"),
        max_output_tokens=get("max_output_tokens"),
        candidate_count=get("candidate_count", 1),
        stop_sequences=stops,
        thinking_level=get("thinking_level"),
        thinking_budget=get("thinking_budget") if mode == _CUSTOM else mode,
        safety={c: get(f"safety.{c}", "DEFAULT") for c in SAFETY_CATEGORIES},
        stream=get("stream", True),
        system_instruction=str(get("system_instruction", "")) if system_instructions else "",
    )


def load(key: str, model_id: str, params: GenerationParams) -> None:
    """Set the component's model and parameters from elsewhere (a kept run re-opened).

    Call it from a callback or before the component is drawn in this run.
    """
    kept.put(f"{key}.model", model_id)
    kept.put(f"{key}.fitted_for", model_id)
    _keep_values(key, params)


def _keep(key: str, model: Model, params: GenerationParams) -> None:
    """Keep `params`, fitted to `model`, as the component's values."""
    kept.put(f"{key}.fitted_for", model.id)
    _keep_values(key, params)


def _keep_values(key: str, params: GenerationParams) -> None:
    """Keep `params` as the component's values (and show them in any live widget)."""
    budget = params.thinking_budget
    values: dict[str, object] = {
        "temperature": params.temperature,
        "top_p": params.top_p,
        "top_k": params.top_k,
        "max_output_tokens": params.max_output_tokens,
        "candidate_count": params.candidate_count,
        "stop_sequences": "\n".join(params.stop_sequences),
        "thinking_level": params.thinking_level,
        "thinking_mode": _CUSTOM if isinstance(budget, int) else budget,
        "stream": params.stream,
        "system_instruction": params.system_instruction,
        **{f"safety.{c}": params.safety.get(c, "DEFAULT") for c in SAFETY_CATEGORIES},
    }
    if isinstance(budget, int):  # otherwise the last custom budget stays for the slider
        values["thinking_budget"] = budget
    for name, value in values.items():
        kept.put(f"{key}.{name}", value, redraw=True)


def _fit_kept(key: str, model: Model, stop_max: int) -> None:
    """Bring kept values into `model`'s ranges before its controls are drawn.

    The model switch callback does this and says so; this only covers a switch whose callback
    an interrupted rerun skipped, as a slider refuses a value outside its range.
    """
    params = _read(key)
    fitted, _ = clamp_to(model, params, stop_max)
    for name in (*RANGED_PARAMETERS, "thinking_level"):
        if getattr(fitted, name) != getattr(params, name):
            kept.put(f"{key}.{name}", getattr(fitted, name))


def _on_model_change(key: str, catalog: Catalog) -> None:
    model = catalog.get(kept.value(f"{key}.model"))
    try:
        previous = catalog.get(kept.value(f"{key}.fitted_for"))
    except KeyError:
        previous = None
    fitted, changes = switch_model(previous, model, _read(key), catalog.media.stop_sequences_max)
    _keep(key, model, fitted)
    kept.say_once(
        f"{key}.adjustments", [f"Adjusted for {model.name}: {change}" for change in changes]
    )


def _reset(key: str, catalog: Catalog, then: Callable[[], None] | None) -> None:
    model = catalog.get(kept.value(f"{key}.model"))
    written = kept.value(f"{key}.system_instruction") or ""
    _keep(key, model, replace(defaults_for(model), system_instruction=written))
    if takes(model, "thinking_budget") and model.thinking.budget is not None:
        # the custom budget's slider too, so "custom" starts again from the default
        kept.put(f"{key}.thinking_budget", int(model.thinking.budget.default))
    if then is not None:
        then()
