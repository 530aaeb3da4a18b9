"""The embedding map on the page: draws the figure (reelscope/embeddings/figures.py) and hands
back the row ids the user selected.

Streamlit reports a selection's point indices per trace, so several traces would make them
collide (streamlit#8914): the figure is one trace whose `customdata` is the row id, and the ids
are read from there. Plotly cannot box- or lasso-select in 3-D, so a 3-D map is for looking.
A click selects one point: the figure opens panning, since in lasso or box mode Streamlit's
chart lets a click select nothing (see figures.py); box and lasso are in the map's toolbar.

A map too big to draw point by point (figures.is_dense) shows a density image of every point and
the points of one view. Streamlit reports no zoom or pan, only selections, and a box selection
reports its rectangle: so a box both selects every row inside it (drawn or not) and becomes the
view, where all points are drawn once few enough. A new box moves the view; a click keeps it;
"Whole map" goes back. A lasso selects every row inside its polygon, drawn or not.

A new view is a new figure, and Streamlit clears a chart's selection when its figure changes
(the box is gone from the chart after the rerun it caused): so the rows a box took are kept
here, until another selection replaces them or "Whole map" drops them.

The map's picture (`picture`) stands in for the chart: alone in a tab that has not loaded
Plotly's code yet, and under the chart of a map of UNDER_CHART_FROM points or more, where Plotly
takes a noticeable time to draw (~0.4 s for 10k points in Chromium without a GPU): the picture
is on screen first, and the chart, laid over it in the same box with an opaque background,
covers it once drawn. Both live in the map's `box`.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from reelscope.embeddings import density
from reelscope.embeddings.density import View
from reelscope.embeddings.figures import HEIGHT, MARGIN, colours, is_dense, legend_name
from reelscope.embeddings.picture import LEGEND_LINE_PX, render
from reelscope.untrusted import safe_inline

# The picture takes the chart's box: HEIGHT high, the plot area inside MARGIN; the legend's
# names sit beside the swatches drawn in it, at the same pitch.
PICTURE_STYLE = """<style>
.st-key-{frame} {{ position: relative; height: {height}px; padding: {margin}px;
                   overflow: hidden; }}
.st-key-{frame} img {{ display: block; width: 100%; height: {inner}px; object-fit: fill; }}
.st-key-{frame}-legend {{ position: absolute; top: {margin}px; left: {text_left}px; }}
.st-key-{frame}-legend p {{ font-size: 12px; line-height: {line}px; margin: 0; }}
</style>"""
# The chart over the picture, in the same box: Streamlit's Plotly theme paints the chart's
# background, so the drawn chart hides the picture, and the box keeps the picture's height.
UNDER_CHART_STYLE = """<style>
.st-key-{box} {{ position: relative; }}
.st-key-{box} .st-key-{chart} {{ position: absolute; top: 0; left: 0; right: 0; z-index: 1; }}
</style>"""
CONTROLS_PX = 60  # the height of the map's controls (segmented controls with their labels)
UNDER_CHART_FROM = 2_000  # points: below this, Plotly draws about as soon as the picture shows


def selected_ids(state: Any) -> list[int]:
    """Row ids of the selected points, read from their customdata (never from indices)."""
    ids: list[int] = []
    for point in _selection(state).get("points") or ():
        if point.get("curve_number", 0) != 0:
            continue
        data = point.get("customdata")
        if isinstance(data, list | tuple):
            data = data[0] if data else None
        if data is not None:
            ids.append(int(data))
    return list(dict.fromkeys(ids))


def view(key: str, coords: np.ndarray) -> View | None:
    """The part of a density map to show: the last box the user drew on it (None: all of it;
    also None for a map drawn point by point)."""
    if not is_dense(*coords.shape):
        return None
    memory = f"{key}.view"
    extent = (len(coords), density.whole(coords))
    kept = st.session_state.get(memory)
    if kept is None or kept["extent"] != extent:  # another collection or map: start whole
        kept = st.session_state[memory] = {
            "extent": extent, "box": None, "view": None, "boxed": None
        }  # fmt: skip
    boxes = (_selection(st.session_state.get(key)).get("box")) or ()
    box = boxes[-1] if boxes else None
    if box and box.get("x") and box != kept["box"]:  # read before the chart's figure changes
        boxed = np.asarray(dense_selected_ids(st.session_state.get(key), coords))
        kept.update(box=box, view=View.of_box(box["x"], box["y"]), boxed=boxed)
    return kept["view"]


def dense_selected_ids(state: Any, coords: np.ndarray) -> list[int]:
    """Row ids a selection on a density map took: the drawn points clicked or enclosed, and
    every row inside its boxes and lassos, drawn or not."""
    selection = _selection(state)
    ids = [np.asarray(selected_ids(state), dtype=np.int64)]
    for box in selection.get("box") or ():
        if box.get("x"):
            ids.append(np.flatnonzero(View.of_box(box["x"], box["y"]).contains(coords)))
    for lasso in selection.get("lasso") or ():
        ids.append(density.inside_polygon(coords, lasso.get("x") or [], lasso.get("y") or []))
    return np.unique(np.concatenate(ids)).tolist()


def _selection(state: Any) -> dict:
    return (state or {}).get("selection") or {}


def show(
    key: str, figure: go.Figure, selectable: bool = True, coords: np.ndarray | None = None
) -> list[int]:
    """Draw the map; the row ids the user clicked, boxed or lassoed (2-D only). Pass the map's
    `coords` for a density map: its boxes and lassos take rows that are not drawn."""
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
    if coords is None or not is_dense(*coords.shape):
        return selected_ids(state)
    _view_controls(key, coords)
    kept = st.session_state[f"{key}.view"]
    selection = _selection(state)
    if not any(selection.get(part) for part in ("points", "box", "lasso")):
        boxed = kept["boxed"]  # the chart cleared the box when its view came in
        return [] if boxed is None else boxed.tolist()
    ids = dense_selected_ids(state, coords)
    kept["boxed"] = np.asarray(ids) if selection.get("box") else None  # an array: 8 bytes a row
    return ids


def box(key: str) -> DeltaGenerator:
    """The map's place on the page: its picture, its chart, or the chart over the picture."""
    return st.container(key=f"{key}.box")


def under_chart(count: int, dims: int) -> bool:
    """Whether a tab with Plotly's code shows a map of `count` points in `dims` with its
    picture under the chart (see the module's docstring)."""
    return dims == 2 and count >= UNDER_CHART_FROM


def picture(
    key: str,
    *,
    kinds: np.ndarray,
    sources: list[str],
    coords: np.ndarray,
    color_by: str,
    chart_over: bool = False,
) -> None:
    """The 2-D map as a picture in the chart's place (same box, same axes extent), drawn in
    the map's `box`: what a tab shows until Plotly's code has loaded in it
    (components/common/prefetch.py `loaded`), so a cold tab sees the map at once; with
    `chart_over`, under the chart this run draws next in the box, so the map is on screen
    while Plotly draws. Its legend's names are text over it, as the chart's are.

    The picture and its style rules are one Markdown element with HTML (all of it the app's
    own: the legend's names, which are not, are a Markdown element of their own, sanitised).
    Markdown's code is in the tab before the picture comes (the page's title uses it), and
    so, nearly always, is its code for HTML (the page asks for it early, see
    pages/embeddings.py), where st.image's would load beside every other element's on a cold
    tab and keep the picture off the screen; and one element, it is never drawn without its
    rules."""
    codes, palette, legend = colours(np.asarray(kinds).astype(str), list(sources), color_by)
    frame = _css_class(f"{key}.picture")
    style = PICTURE_STYLE.format(
        frame=frame, height=HEIGHT, margin=MARGIN, inner=HEIGHT - 2 * MARGIN,
        text_left=MARGIN + 18, line=LEGEND_LINE_PX,
    )  # fmt: skip
    if chart_over:
        style += UNDER_CHART_STYLE.format(box=_css_class(f"{key}.box"), chart=_css_class(key))
    swatches = tuple(colour for colour, _name in legend)
    # The container keeps the box's height while the element waits for its code.
    with st.container(key=frame, height=HEIGHT, border=False, gap=None):
        image = _png(coords, codes, tuple(palette), swatches)
        st.markdown(f"{style}\n\n![The map]({image})", unsafe_allow_html=True)
        if legend:
            names = (safe_inline(legend_name(name)) for _colour, name in legend)
            st.container(key=f"{frame}-legend").markdown("  \n".join(names))
    if is_dense(*coords.shape) and not chart_over:  # the chart's own go with it
        _view_controls(key, coords)


@st.cache_data(max_entries=8, show_spinner=False)
def _png(
    coords: np.ndarray, codes: np.ndarray, palette: tuple[str, ...], swatches: tuple[str, ...]
) -> str:
    """The map's picture as a data URI, cached by its content: a map is drawn once for every
    tab. In the element itself, not a media file, so the browser has it with the element
    (no request after it, which a busy page answers late: then the chart drew first)."""
    encoded = base64.b64encode(render(coords, codes, palette, swatches)).decode("ascii")
    return f"data:image/png;base64,{encoded}"


def _css_class(key: str) -> str:
    """A key as Streamlit writes it in its element's `st-key-…` class."""
    return re.sub(r"[^a-zA-Z0-9_-]", "-", key)


def _view_controls(key: str, coords: np.ndarray) -> None:
    """How much of the view is drawn, and the way back to the whole map."""
    shown = view(key, coords) or density.whole(coords)
    in_view = int(shown.contains(coords).sum())
    drawn = min(in_view, density.POINTS_MAX)
    note, back = st.columns([4, 1], vertical_alignment="center")
    if drawn < in_view:
        note.caption(
            f"{len(coords):,} points as a density image; {drawn:,} of the {in_view:,} in view "
            "are drawn to hover and click. Box-select an area to zoom to it and draw its points."
        )
    else:
        note.caption(f"All {in_view:,} points in view are drawn; the image shows every point.")
    if st.session_state[f"{key}.view"]["view"] is not None:
        back.button("Whole map", key=f"{key}.whole", on_click=_whole_map, args=(key,))


def _whole_map(key: str) -> None:
    st.session_state[f"{key}.view"].update(view=None, boxed=None)
