"""Every mode's answer for one video on one time axis (Plotly): bars, markers, a line, cuts.

Built here, without Streamlit, so a test can read the figure. Every string on it (the model's
titles and values, the modes' names) goes through `plot_text`: Plotly reads a subset of HTML in
labels and hovers (links, styles), so markup must reach it escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from reelscope.chapters.modes import Kind
from reelscope.chapters.parse import Segment
from reelscope.clock import clock
from reelscope.untrusted import plot_text

_BAR_KINDS = (Kind.CHAPTERS, Kind.CAPTIONS, Kind.EVENTS)
_COLOURS = {
    Kind.CHAPTERS: "#8ab4f8",
    Kind.MOMENTS: "#f28b82",
    Kind.CAPTIONS: "#81c995",
    Kind.EVENTS: "#fdd663",
    Kind.SERIES: "#c58af9",
}


def timeline_figure(
    tracks: Mapping[str, tuple[Kind, Sequence[Segment]]],
    cuts: Sequence[float] = (),
    duration_s: float | None = None,
) -> go.Figure:
    """One row per mode (name -> kind, items); a series gets its own axis underneath.

    Each point carries its start time as `customdata`, so a click can seek the player there.
    """
    figure = go.Figure()
    rows = [plot_text(name) for name, (kind, _) in tracks.items() if kind is not Kind.SERIES]
    for name, (kind, segments) in tracks.items():
        if kind is Kind.SERIES:
            figure.add_trace(_series(name, segments))
        elif kind in _BAR_KINDS:
            figure.add_trace(_bars(name, kind, segments, duration_s))
        else:
            figure.add_trace(_markers(name, kind, segments))
    has_series = any(kind is Kind.SERIES for kind, _ in tracks.values())
    for cut in cuts:
        figure.add_vline(x=cut, line_width=1, line_dash="dot", line_color="#9aa0a6", opacity=0.6)
    end = duration_s or max(
        (s.end_s or s.start_s for _, ss in tracks.values() for s in ss), default=1
    )
    figure.update_layout(
        height=90 + 34 * len(rows) + (140 if has_series else 0),
        margin={"l": 10, "r": 10, "t": 10, "b": 30},
        showlegend=False,
        barmode="overlay",
        clickmode="event+select",
        xaxis={"range": [0, end], "title": None, "tickformat": None},
        yaxis={
            "categoryorder": "array",
            "categoryarray": list(reversed(rows)),
            "domain": [0.45, 1] if has_series else [0, 1],
        },
        yaxis2={"domain": [0, 0.35], "anchor": "x", "visible": has_series},
    )
    figure.update_xaxes(tickvals=_ticks(end), ticktext=[clock(t) for t in _ticks(end)])
    return figure


def _bars(name: str, kind: Kind, segments: Sequence[Segment], duration_s: float | None) -> go.Bar:
    ends = [s.end_s if s.end_s is not None else (duration_s or s.start_s + 1) for s in segments]
    return go.Bar(
        name=plot_text(name),
        y=[plot_text(name)] * len(segments),
        x=[max(e - s.start_s, 0.5) for s, e in zip(segments, ends, strict=True)],
        base=[s.start_s for s in segments],
        orientation="h",
        marker={"color": _COLOURS[kind], "line": {"width": 1, "color": "#0e1117"}},
        customdata=[s.start_s for s in segments],
        hovertext=[plot_text(f"{clock(s.start_s)} {s.title}") for s in segments],
        hoverinfo="text",
        text=[plot_text(s.title) for s in segments],
        textposition="inside",
        insidetextanchor="start",
    )


def _markers(name: str, kind: Kind, segments: Sequence[Segment]) -> go.Scatter:
    return go.Scatter(
        name=plot_text(name),
        x=[s.start_s for s in segments],
        y=[plot_text(name)] * len(segments),
        mode="markers",
        marker={"symbol": "diamond", "size": 12, "color": _COLOURS[kind]},
        customdata=[s.start_s for s in segments],
        hovertext=[plot_text(f"{clock(s.start_s)} {s.title}") for s in segments],
        hoverinfo="text",
    )


def _series(name: str, segments: Sequence[Segment]) -> go.Scatter:
    points = [s for s in segments if s.value is not None]
    return go.Scatter(
        name=plot_text(name),
        x=[s.start_s for s in points],
        y=[s.value for s in points],
        yaxis="y2",
        mode="lines+markers",
        line={"shape": "hv", "color": _COLOURS[Kind.SERIES]},
        customdata=[s.start_s for s in points],
        hovertext=[plot_text(f"{clock(s.start_s)}: {s.value:g} {s.title}") for s in points],
        hoverinfo="text",
    )


def _ticks(end: float) -> list[float]:
    """About eight round ticks from 0 to `end` seconds."""
    steps = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
    step = next((s for s in steps if end / s <= 8), 3600)
    return [float(t) for t in range(0, int(end) + 1, step)]
