"""The embedding map's Plotly figure: a collection's rows as points, coloured by kind or source.

One builder for the page (components/embeddings/embedding_map.py draws it), the benchmarks
and the tests.

2-D is one `Scattergl` trace whose `customdata` is the row id: Streamlit reports a selection's
point indices per trace, so several traces would make them collide (streamlit#8914); a single
trace and ids read from `customdata` are unambiguous. Colours go through the marker colour, not
through traces, for the same reason; the legend is an annotation. 3-D (`Scatter3d`) is for
looking only: Plotly cannot box- or lasso-select in 3-D.

A click selects a point only while the map drags to pan: Streamlit's chart sets Plotly's
`clickmode` to "event" (a click selects nothing) whenever `dragmode` is "lasso" or "select", and
to "event+select" otherwise. So the map opens panning, and box and lasso are the toolbar's.

Everything is built from numpy arrays: Plotly serialises them as typed arrays, ~4x faster than
Python lists (100k points in ~0.25 s). Hover texts, legend names and the query's label are user
data (file names, texts, imported labels), hence untrusted: Plotly renders a subset of HTML in
them, so each goes through `untrusted.plot_text`.

A 2-D map of more than `density.DENSITY_FROM` points is a density image of every point under the
axes (reelscope/embeddings/density.py) with the same single trace drawing only the points of the
view (all when few enough, else a steady sample), plus the query's neighbours wherever they are.
The trace keeps the row ids in `customdata`, so selections still map back to rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from reelscope.embeddings import density
from reelscope.embeddings.density import View
from reelscope.untrusted import plot_text

KIND_COLOURS = {"text": "#4C78A8", "image": "#F58518", "video": "#54A24B"}
SOURCE_PALETTE = (
    "#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2",
    "#FF9DA6", "#9D755D", "#EECA3B", "#BAB0AC", "#1B9E77", "#7570B3",
)  # fmt: skip
OTHER_COLOUR = "#BAB0AC"
LEGEND_MAX = 12  # sources named in the legend; the rest share one colour and say so
LEGEND_NAME_MAX = 48  # characters of a legend entry shown
HOVER_MAX_CHARS = 160
COLOR_BY = ("kind", "source")
HEIGHT = 560  # px: the chart's, and the picture's that stands for it (picture.py)
MARGIN = 10  # px around the plot area
POINT_OPACITY = 0.85  # a point's, until a query lights some (then 1.0 for those, 0.25 else)
Hovers = Sequence[str] | Callable[[np.ndarray], Sequence[str]]


def is_dense(count: int, dims: int) -> bool:
    """Whether a map of `count` points in `dims` is drawn as a density image."""
    return dims == 2 and count > density.DENSITY_FROM


def map_figure(
    *,
    kinds: np.ndarray,
    sources: Sequence[str],
    hover: Hovers,
    coords: np.ndarray,
    color_by: str = "kind",
    highlight: np.ndarray | None = None,
    query_point: np.ndarray | None = None,
    query_label: str = "query",
    height: int = HEIGHT,
    view: View | None = None,
) -> go.Figure:
    """The map of n rows: `coords` (n, 2) gives a Scattergl, (n, 3) a Scatter3d.

    `hover` is every row's text, or a function giving those of an array of row ids (a big map
    asks only for the drawn ones). `highlight` are row ids to bring forward (a query's
    neighbours); `query_point` is where the query sits among them, drawn as an annotation so
    the trace keeps one point per row. `view` is the part of a density map shown (default: all).
    """
    coords = np.asarray(coords, dtype=np.float32)
    count, dims = coords.shape
    highlight = np.asarray(highlight if highlight is not None else (), dtype=np.int64)
    codes, palette, legend = colours(np.asarray(kinds).astype(str), list(sources), color_by)
    dense = is_dense(count, dims)
    view = (view or density.whole(coords)) if dense else None
    ids = np.arange(count, dtype=np.int64)
    if view is not None:
        shown, _in_view = density.drawn_rows(coords, view)
        ids = np.union1d(shown, highlight)  # the query's neighbours light up wherever they are
    base = 10.0 if len(ids) < 1_000 else 6.0 if len(ids) < 20_000 else 4.0
    # One size and opacity for all until a query lights some points: Plotly's WebGL scatter
    # then styles the points from one value, not one per point (~0.1 s less at 10k).
    size: Any = base if dims == 2 else base * 0.6
    opacity: Any = POINT_OPACITY
    if len(highlight):
        lit = np.isin(ids, highlight)
        size = np.where(lit, size * 1.8, size).astype(np.float32)
        opacity = np.where(lit, 1.0, 0.25).astype(np.float32)
    texts = hover(ids) if callable(hover) else [hover[i] for i in ids.tolist()]
    hovertext = np.array([_hover_html(text) for text in texts], dtype=object)
    coords_shown = coords if view is None else coords[ids]
    colouring = _marker_colours(codes[ids], palette)
    marker: dict[str, Any] = {**colouring, "size": size, "opacity": opacity}
    if dims == 2:
        marker["line"] = {"width": 0}
        trace: Any = go.Scattergl(
            x=coords_shown[:, 0], y=coords_shown[:, 1], mode="markers", customdata=ids,
            hovertext=hovertext, hoverinfo="text", marker=marker, showlegend=False,
            selected={"marker": {"size": base * 1.6}}, unselected={"marker": {"opacity": 0.35}},
        )  # fmt: skip
    else:
        marker.pop("opacity")  # Scatter3d takes one opacity, not one per point
        trace = go.Scatter3d(
            x=coords[:, 0], y=coords[:, 1], z=coords[:, 2], mode="markers", customdata=ids,
            hovertext=hovertext, hoverinfo="text", marker=marker, showlegend=False,
        )  # fmt: skip
    figure = go.Figure(trace)
    figure.update_layout(
        height=height,
        margin={"l": MARGIN, "r": MARGIN, "t": MARGIN, "b": MARGIN},
        dragmode="pan" if dims == 2 else "orbit",  # "lasso" would make clicks select nothing
        clickmode="event+select",
        hovermode="closest",
        uirevision="keep",  # zoom and pan survive reruns
    )
    figure.update_xaxes(showticklabels=False, title=None, zeroline=False)
    figure.update_yaxes(showticklabels=False, title=None, zeroline=False)
    _legend(figure, legend)
    if view is not None:
        _density_layer(figure, coords, codes, palette, view)
    elif dims == 2:  # the extent the map's picture is drawn over (picture.py), not autorange's
        _fix_axes(figure, density.whole(coords))
    if query_point is not None:
        _mark_query(figure, np.asarray(query_point, dtype=np.float32), query_label)
    return figure


def _density_layer(
    figure: go.Figure, coords: np.ndarray, codes: np.ndarray, palette: list[str], view: View
) -> None:
    """Every point as a picture under the axes, which are fixed to `view` (the layout's
    `uirevision` stays: a new one would drop the user's selection)."""
    figure.add_layout_image(
        source=density.image_uri(coords, codes, palette, view), xref="x", yref="y",
        x=view.x0, y=view.y1, sizex=view.x1 - view.x0, sizey=view.y1 - view.y0,
        xanchor="left", yanchor="top", sizing="stretch", layer="below",
    )  # fmt: skip
    _fix_axes(figure, view)


def _fix_axes(figure: go.Figure, view: View) -> None:
    """Axes showing `view`. A new view is a new `uirevision` of the axes alone, so Plotly takes
    their new ranges (and keeps a user's own zoom until then)."""
    revision = f"view {view.x0} {view.x1} {view.y0} {view.y1}"
    figure.update_xaxes(range=[view.x0, view.x1], autorange=False, uirevision=revision)
    figure.update_yaxes(range=[view.y0, view.y1], autorange=False, uirevision=revision)


def colours(
    kinds: np.ndarray, sources: list[str], color_by: str
) -> tuple[np.ndarray, list[str], list]:
    """Each row's colour code, the palette they index, and the legend as (colour, name) pairs.

    Colours are a small integer per point on a stepped colour scale: Plotly checks a numeric
    array at once, where an array of colour strings is checked string by string (~1 s at 50k).
    """
    if color_by == "kind":
        palette, legend = [*KIND_COLOURS.values(), OTHER_COLOUR], []
        codes = np.full(len(kinds), len(KIND_COLOURS), dtype=np.int16)
        for index, (kind, colour) in enumerate(KIND_COLOURS.items()):
            mask = kinds == kind
            if mask.any():
                codes[mask] = index
                legend.append((colour, f"{kind} ({int(mask.sum()):,})"))
        others = codes == len(KIND_COLOURS)
        if others.any():  # imported rows say what they are only by their labels
            names = ", ".join(sorted(set(kinds[others].tolist()))[:3])
            legend.append((OTHER_COLOUR, f"{names} ({int(others.sum()):,})"))
        return codes, palette, legend
    names, codes = np.unique(np.asarray(sources, dtype=object).astype(str), return_inverse=True)
    counts = np.bincount(codes, minlength=len(names))
    order = np.argsort(-counts, kind="stable")  # the biggest sources get their own colour
    named = order[:LEGEND_MAX]
    rank_of = np.full(len(names), len(named), dtype=np.int16)  # the rest: one shared colour
    rank_of[named] = np.arange(len(named), dtype=np.int16)
    palette = [SOURCE_PALETTE[rank % len(SOURCE_PALETTE)] for rank in range(len(named))]
    legend = [(palette[r], f"{names[n]} ({counts[n]:,})") for r, n in enumerate(named)]
    if len(names) > LEGEND_MAX:
        legend.append((OTHER_COLOUR, f"{len(names) - LEGEND_MAX:,} more sources"))
    return rank_of[codes], [*palette, OTHER_COLOUR], legend


def _marker_colours(codes: np.ndarray, palette: list[str]) -> dict:
    """Code i is drawn in palette[i]: a colour scale with one stop per code, from 0 to n - 1."""
    last = max(len(palette) - 1, 1)
    stops = [[i / last, colour] for i, colour in enumerate(palette)]
    if len(palette) == 1:
        stops.append([1.0, palette[0]])
    return {"color": codes, "colorscale": stops, "cmin": 0, "cmax": last, "showscale": False}


def _legend(figure: go.Figure, legend: list[tuple[str, str]]) -> None:
    lines = [
        f'<span style="color:{colour}">●</span> {plot_text(legend_name(name))}'
        for colour, name in legend
    ]
    figure.add_annotation(
        text="<br>".join(lines), xref="paper", yref="paper", x=0.0, y=1.0,
        xanchor="left", yanchor="top", showarrow=False, align="left",
        bgcolor="rgba(0,0,0,0)", font={"size": 12},
    )  # fmt: skip


def legend_name(name: str) -> str:
    """A legend entry as the map shows it: clipped, still to be escaped for where it goes."""
    return _clip(name, LEGEND_NAME_MAX)


def _mark_query(figure: go.Figure, point: np.ndarray, label: str) -> None:
    text = f"★ {plot_text(_clip(label, 40))}"
    if len(point) == 2:
        figure.add_annotation(
            x=float(point[0]), y=float(point[1]), text=text, showarrow=True, arrowhead=2,
            ax=30, ay=-30, bordercolor="#E45756", arrowcolor="#E45756",
        )  # fmt: skip
    else:
        figure.update_layout(
            scene={"annotations": [{
                "x": float(point[0]), "y": float(point[1]), "z": float(point[2]),
                "text": text, "showarrow": True, "arrowhead": 2,
            }]}
        )  # fmt: skip


def _hover_html(text: str) -> str:
    return plot_text(_clip(text, HOVER_MAX_CHARS))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
