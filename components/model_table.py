"""The model catalog as a table."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from reelscope.catalog import Catalog, Model, Range


def show(catalog: Catalog, today: dt.date) -> None:
    rows = [
        {
            "Model": m.name,
            "ID": m.id,
            "Status": m.status(today).value,
            "Released": m.released.isoformat() if m.released else "",
            "Shutdown": m.shutdown.isoformat() if m.shutdown else "",
            "Temperature": _range(m.temperature) if not m.sampling_ignored else "ignored",
            "Top-P": _range(m.top_p) if not m.sampling_ignored else "ignored",
            "Top-K": f"fixed {m.top_k_fixed}" if m.top_k_fixed else _range(m.top_k),
            "Max output": _range(m.max_output_tokens),
            "Thinking": _thinking(m),
            "Videos / prompt": m.videos_per_prompt,
            "Video length (audio / none)": _video_length(m),
            "Tokens / frame": m.video_tokens_per_frame,
            "Locations": ", ".join(m.locations),
            "Source": m.sources[0],
        }
        for m in catalog.models
    ]
    st.dataframe(
        rows,
        hide_index=True,
        height=(len(rows) + 1) * 35 + 3,  # every model visible without scrolling the table
        column_config={"Source": st.column_config.LinkColumn("Source", display_text="page")},
    )


def _video_length(model: Model) -> str:
    def minutes(seconds: int | None) -> str:
        return f"{seconds / 60:g} min" if seconds else "–"

    with_audio = minutes(model.video_seconds_with_audio) if model.audio_in_video else "ignored"
    return f"{with_audio} / {minutes(model.video_seconds_without_audio)}"


def _range(spec: Range | None) -> str:
    if spec is None:
        return "–"
    return f"{spec.min:g}–{spec.max:g} (default {spec.default:g})"


def _thinking(model: Model) -> str:
    spec = model.thinking
    if spec is None:
        return "–"
    if spec.control == "level":
        return f"{'/'.join(spec.levels)} (default {spec.default_level})"
    return f"budget {spec.budget.min:g}–{spec.budget.max:g}, default {spec.default_budget}"
