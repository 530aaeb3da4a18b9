"""The model catalog as two tables that fit the page: what each model takes, and where it runs.

One table of fifteen columns was cut at the right edge; split in two, with short cell texts and
the format of each column in its header's help (hover), every column is visible at 1440 px.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from reelscope.catalog import Catalog, Model, Range

_RANGE_HELP = "min–max (default)"


def show(catalog: Catalog, today: dt.date) -> None:
    st.markdown("##### Parameters and video limits")
    st.dataframe(
        [_parameters_row(m, today) for m in catalog.models],
        hide_index=True,
        height=_height(len(catalog.models)),
        column_config={
            "ID": st.column_config.TextColumn("ID", width=150, pinned=True),
            "Status": st.column_config.TextColumn("Status", width=65),
            "Temperature": st.column_config.TextColumn("Temperature", width=90, help=_RANGE_HELP),
            "Top-P": st.column_config.TextColumn("Top-P", width=85, help=_RANGE_HELP),
            "Top-K": st.column_config.TextColumn(
                "Top-K", width=70, help=f"{_RANGE_HELP}, or fixed: the model ignores the setting"
            ),
            "Max output": st.column_config.TextColumn(
                "Max output", width=105, help=f"output tokens, {_RANGE_HELP}"
            ),
            "Thinking": st.column_config.TextColumn(
                "Thinking",
                width=180,
                help="levels lowest–highest (default), or a token budget min–max (default)",
            ),
            "Videos": st.column_config.TextColumn("Videos", width=55, help="videos per prompt"),
            "Video length": st.column_config.TextColumn(
                "Video length",
                width=100,
                help="longest video with audio / without audio; 'ignored': audio is not heard",
            ),
            "Tokens / frame": st.column_config.TextColumn(
                "Tok/frame", width=70, help="tokens per video frame at default resolution"
            ),
        },
    )
    st.markdown("##### Availability")
    st.dataframe(
        [_availability_row(m, today) for m in catalog.models],
        hide_index=True,
        height=_height(len(catalog.models), row_px=66),
        row_height=66,  # above 4rem (64 px) Streamlit wraps long cells (the location lists)
        column_config={
            "Model": st.column_config.TextColumn("Model", width=170, pinned=True),
            "ID": st.column_config.TextColumn("ID", width=170),
            "Status": st.column_config.TextColumn("Status", width=65),
            "Released": st.column_config.TextColumn("Released", width=90),
            "Shutdown": st.column_config.TextColumn("Shutdown", width=90),
            "Source": st.column_config.LinkColumn("Source", display_text="page", width=60),
            "Locations": st.column_config.TextColumn(
                "Locations", width=310, help="where Vertex AI serves the model"
            ),
        },
    )


def _parameters_row(model: Model, today: dt.date) -> dict[str, object]:
    ignored = model.sampling_ignored
    return {
        "ID": model.id,
        "Status": model.status(today).value,
        "Temperature": "ignored" if ignored else _range(model.temperature),
        "Top-P": "ignored" if ignored else _range(model.top_p),
        "Top-K": f"fixed {model.top_k_fixed}" if model.top_k_fixed else _range(model.top_k),
        "Max output": _range(model.max_output_tokens),
        "Thinking": _thinking(model),
        "Videos": _number(model.videos_per_prompt),
        "Video length": _video_length(model),
        "Tokens / frame": _number(model.video_tokens_per_frame),
    }


def _availability_row(model: Model, today: dt.date) -> dict[str, object]:
    return {
        "Model": model.name,
        "ID": model.id,
        "Status": model.status(today).value,
        "Released": model.released.isoformat() if model.released else "",
        "Shutdown": model.shutdown.isoformat() if model.shutdown else "",
        "Source": model.sources[0],
        "Locations": ", ".join(model.locations),
    }


def _height(rows: int, row_px: int = 35) -> int:
    return rows * row_px + 38  # every model visible without scrolling the table


def _video_length(model: Model) -> str:
    def minutes(seconds: int | None) -> str:
        return f"{seconds / 60:g}" if seconds else "–"

    if not (model.video_seconds_with_audio or model.video_seconds_without_audio):
        return "–"
    with_audio = minutes(model.video_seconds_with_audio) if model.audio_in_video else "ignored"
    return f"{with_audio} / {minutes(model.video_seconds_without_audio)} min"


def _number(value: int | None) -> str:
    return "–" if value is None else str(value)


def _range(spec: Range | None) -> str:
    if spec is None:
        return "–"
    return f"{spec.min:g}–{spec.max:g} ({spec.default:g})"


def _thinking(model: Model) -> str:
    spec = model.thinking
    if spec is None:
        return "–"
    if spec.control == "level":
        levels = [level.lower() for level in spec.levels]
        shown = ", ".join(levels) if len(levels) <= 2 else f"{levels[0]}–{levels[-1]}"
        return f"{shown} ({spec.default_level.lower()})"
    return f"budget {spec.budget.min:g}–{spec.budget.max:g} ({spec.default_budget})"
