"""The model picker and its parameters, each control bounded by that model's catalog entry.

Widget values live in st.session_state under `{key}.…`; switching model clamps them into the
new model's ranges (and says what changed), "Reset to defaults" rewrites them.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from reelscope.catalog import Catalog, Model, Status
from reelscope.parameters import (
    SAFETY_CATEGORIES,
    SAFETY_THRESHOLDS,
    THINKING_DYNAMIC,
    THINKING_OFF,
    GenerationParams,
    clamp_to,
    defaults_for,
)

_STATUS_BADGES = {
    Status.GA: "",
    Status.PREVIEW: " · preview",
    Status.RETIRING: " · retiring",
    Status.RETIRED: " · retired",
}
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
}


def show(
    key: str, catalog: Catalog, today: dt.date, location: str
) -> tuple[Model, GenerationParams]:
    """Model and parameters as the user set them (values already inside the model's ranges)."""
    model_key = f"{key}.model"
    if model_key not in st.session_state:
        st.session_state[model_key] = catalog.default_model_id
        _write(key, defaults_for(catalog.default_model))

    show_retired = st.toggle("Show retired models", key=f"{key}.show_retired")
    current = catalog.get(st.session_state[model_key])
    options = [
        m.id for m in catalog.models if show_retired or m.is_callable(today) or m.id == current.id
    ]
    st.selectbox(
        "Model",
        options,
        key=model_key,
        format_func=lambda mid: (
            catalog.get(mid).name + _STATUS_BADGES[catalog.get(mid).status(today)]
        ),
        on_change=_on_model_change,
        args=(key, catalog),
    )
    model = catalog.get(st.session_state[model_key])
    _model_notice(model, today, location)
    for change in st.session_state.pop(f"{key}.adjustments", []):  # said once, then gone
        st.info(change, icon=":material/tune:")

    _sampling_controls(key, model)
    _output_controls(key, model, catalog.media.stop_sequences_max)
    _thinking_controls(key, model)
    with st.expander("Safety thresholds"):
        for category, label in SAFETY_CATEGORIES.items():
            st.selectbox(
                label,
                list(SAFETY_THRESHOLDS),
                key=f"{key}.safety.{category}",
                format_func=SAFETY_THRESHOLDS.get,
            )
    st.toggle("Stream the answer", key=f"{key}.stream", help=_HELP["stream"])
    st.button("Reset to defaults", key=f"{key}.reset", on_click=_reset, args=(key, catalog))
    params, changes = clamp_to(model, _read(key), catalog.media.stop_sequences_max)
    for change in changes:  # only free-text fields can be out of range here
        st.warning(f"Sent as {change}.", icon=":material/tune:")
    return model, params


def _model_notice(model: Model, today: dt.date, location: str) -> None:
    status = model.status(today)
    if status is Status.RETIRED:
        st.error(
            f"{model.name} was retired on {model.shutdown:%B %-d, %Y}: Vertex AI refuses "
            "requests to it. Its ranges are shown for reference; pick a current model to run.",
            icon=":material/block:",
        )
    elif status is Status.RETIRING:
        st.warning(
            f"{model.name} retires on {model.shutdown:%B %-d, %Y}.", icon=":material/schedule:"
        )
    elif status is Status.PREVIEW:
        st.caption("Preview model: behaviour and availability may change.")
    if model.is_callable(today) and not model.serves(location):
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


def _sampling_controls(key: str, model: Model) -> None:
    if model.sampling_ignored:
        st.info(
            f"{model.name} ignores temperature, top-P and top-K (Google's documentation), "
            "so Reelscope does not send them.",
            icon=":material/casino:",
        )
        return
    if model.temperature:
        t = model.temperature
        st.slider(
            "Temperature",
            t.min,
            t.max,
            step=0.05,
            key=f"{key}.temperature",
            help=_HELP["temperature"],
        )
    if model.top_p:
        p = model.top_p
        st.slider("Top-P", p.min, p.max, step=0.01, key=f"{key}.top_p", help=_HELP["top_p"])
    if model.top_k:
        k = model.top_k
        st.slider("Top-K", int(k.min), int(k.max), key=f"{key}.top_k", help=_HELP["top_k"])
    elif model.top_k_fixed is not None:
        st.caption(f"Top-K is fixed at {model.top_k_fixed} on this model.")
    else:
        st.caption("This model does not take top-K.")


def _output_controls(key: str, model: Model, stop_max: int) -> None:
    if model.max_output_tokens:
        m = model.max_output_tokens
        st.number_input(
            "Max output tokens",
            int(m.min),
            int(m.max),
            step=256,
            key=f"{key}.max_output_tokens",
            help=_HELP["max_output_tokens"],
        )
    st.text_area(
        f"Stop sequences (one per line, at most {stop_max})",
        key=f"{key}.stop_sequences",
        height=68,
        help=_HELP["stop_sequences"],
    )
    if model.candidate_count:
        c = model.candidate_count
        st.number_input(
            "Responses",
            int(c.min),
            int(c.max),
            key=f"{key}.candidate_count",
            help=_HELP["candidate_count"],
        )


def _thinking_controls(key: str, model: Model) -> None:
    spec = model.thinking
    if spec is None:
        return
    if spec.control == "level":
        st.segmented_control(
            "Thinking level", spec.levels, key=f"{key}.thinking_level", help=_HELP["thinking"]
        )
        return
    modes = [THINKING_DYNAMIC, *([THINKING_OFF] if spec.can_disable else []), _CUSTOM]
    mode = st.radio(
        "Thinking", modes, horizontal=True, key=f"{key}.thinking_mode", help=_HELP["thinking"]
    )
    if mode == _CUSTOM and spec.budget:
        b = spec.budget
        st.slider("Thinking budget (tokens)", int(b.min), int(b.max), key=f"{key}.thinking_budget")


def _read(key: str) -> GenerationParams:
    state = st.session_state
    mode = state.get(f"{key}.thinking_mode")
    stops = tuple(
        line for line in state.get(f"{key}.stop_sequences", "").splitlines() if line.strip()
    )
    return GenerationParams(
        temperature=state.get(f"{key}.temperature"),
        top_p=state.get(f"{key}.top_p"),
        top_k=state.get(f"{key}.top_k"),
        max_output_tokens=state.get(f"{key}.max_output_tokens"),
        candidate_count=state.get(f"{key}.candidate_count") or 1,
        stop_sequences=stops,
        thinking_level=state.get(f"{key}.thinking_level"),
        thinking_budget=state.get(f"{key}.thinking_budget") if mode == _CUSTOM else mode,
        safety={c: state.get(f"{key}.safety.{c}", "DEFAULT") for c in SAFETY_CATEGORIES},
        stream=state.get(f"{key}.stream", True),
    )


def _write(key: str, params: GenerationParams) -> None:
    state = st.session_state
    values = {
        "temperature": params.temperature,
        "top_p": params.top_p,
        "top_k": params.top_k,
        "max_output_tokens": params.max_output_tokens,
        "candidate_count": params.candidate_count,
        "stop_sequences": "\n".join(params.stop_sequences),
        "thinking_level": params.thinking_level,
        "stream": params.stream,
    }
    budget = params.thinking_budget
    values["thinking_mode"] = _CUSTOM if isinstance(budget, int) else budget
    if isinstance(budget, int):
        values["thinking_budget"] = budget
    for name, value in values.items():
        if value is None:
            state.pop(f"{key}.{name}", None)
        else:
            state[f"{key}.{name}"] = value
    for category in SAFETY_CATEGORIES:
        state[f"{key}.safety.{category}"] = params.safety.get(category, "DEFAULT")


def _on_model_change(key: str, catalog: Catalog) -> None:
    model = catalog.get(st.session_state[f"{key}.model"])
    fitted, changes = clamp_to(model, _read(key), catalog.media.stop_sequences_max)
    _write(key, fitted)
    st.session_state[f"{key}.adjustments"] = [
        f"Adjusted for {model.name}: {change}" for change in changes
    ]


def _reset(key: str, catalog: Catalog) -> None:
    model = catalog.get(st.session_state[f"{key}.model"])
    _write(key, defaults_for(model))
