"""The embedding map on the page: draws the figure (reelscope/embeddings/figures.py) and hands
back the row ids the user selected.

Streamlit reports a selection's point indices per trace, so several traces would make them
collide (streamlit#8914): the figure is one trace whose `customdata` is the row id, and the ids
are read from there. Plotly cannot box- or lasso-select in 3-D, so a 3-D map is for looking.
A click selects one point: the figure opens panning, since in lasso or box mode Streamlit's
chart lets a click select nothing (see figures.py); box and lasso are in the map's toolbar.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st


def selected_ids(state: Any) -> list[int]:
    """Row ids of the selected points, read from their customdata (never from indices)."""
    selection = (state or {}).get("selection") or {}
    ids: list[int] = []
    for point in selection.get("points") or ():
        if point.get("curve_number", 0) != 0:
            continue
        data = point.get("customdata")
        if isinstance(data, list | tuple):
            data = data[0] if data else None
        if data is not None:
            ids.append(int(data))
    return list(dict.fromkeys(ids))


def show(key: str, figure: go.Figure, selectable: bool = True) -> list[int]:
    """Draw the map; the row ids the user clicked, boxed or lassoed (2-D only)."""
    if not selectable:
        st.plotly_chart(figure, key=f"{key}.3d", config={"displaylogo": False})
        st.caption(
            "3-D is for looking: drag to turn it, scroll to zoom. Plotly cannot select points "
            "in 3-D; switch to 2-D to click them, or box or lasso them from the toolbar."
        )
        return []
    state = st.plotly_chart(
        figure,
        key=key,
        on_select="rerun",
        selection_mode=("points", "box", "lasso"),
        config={"displaylogo": False},
    )
    return selected_ids(state)
