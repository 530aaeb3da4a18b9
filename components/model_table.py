"""The model catalog as a table."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from reelscope.catalog import Catalog, Range


def show(catalog: Catalog, today: dt.date) -> None:
    rows = [
        {
            "Model": m.name,
            "ID": m.id,
            "Status": m.status(today).value,
            "Shutdown": m.shutdown.isoformat() if m.shutdown else "",
            "Temperature": _range(m.temperature) if not m.sampling_ignored else "ignored",
            "Top-P": _range(m.top_p) if not m.sampling_ignored else "ignored",
            "Top-K": _range(m.top_k) or (f"fixed {m.top_k_fixed}" if m.top_k_fixed else "–"),
            "Max output": _range(m.max_output_tokens),
            "Thinking": _thinking(m),
            "Videos / prompt": m.videos_per_prompt,
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


def _range(spec: Range | None) -> str:
    if spec is None:
        return "–"
    return f"{spec.min:g}–{spec.max:g} (default {spec.default:g})"


def _thinking(model) -> str:
    spec = model.thinking
    if spec is None:
        return "–"
    if spec.control == "level":
        return f"{'/'.join(spec.levels)} (default {spec.default_level})"
    return f"budget {spec.budget.min:g}–{spec.budget.max:g}, default {spec.default_budget}"
