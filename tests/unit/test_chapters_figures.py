"""The chapter timeline's Plotly figure carries the model's text escaped: Plotly reads a subset of
HTML in labels and hovers (links, styles), so a title must reach it as text."""

from __future__ import annotations

from reelscope.chapters.figures import timeline_figure
from reelscope.chapters.modes import Kind
from reelscope.chapters.parse import Segment

HOSTILE = '<a href="javascript:alert(1)">x</a> <img src=http://127.0.0.1:9/p>\nnext'


def texts_of(figure) -> list[str]:
    """Every string Plotly draws as a label, a bar text or a hover."""
    found: list[str] = []
    for trace in figure.data:
        found.append(trace.name)
        for field in ("hovertext", "text", "y"):
            values = getattr(trace, field, None)
            found += [v for v in values or () if isinstance(v, str)]
    return found


def test_titles_values_and_names_reach_plotly_escaped():
    segment = Segment(start_s=1.0, end_s=4.0, title=HOSTILE, value=3.0)
    figure = timeline_figure(
        {
            "Chapters <b>mine</b>": (Kind.CHAPTERS, [segment]),
            "Moments": (Kind.MOMENTS, [segment]),
            "Chart": (Kind.SERIES, [segment]),
        },
        duration_s=10,
    )
    texts = texts_of(figure)
    assert len(texts) >= 7
    for text in texts:
        assert "<a" not in text and "<img" not in text and "<b>" not in text, text
    hovers = [h for trace in figure.data for h in trace.hovertext]
    assert "0:01 &lt;a href=&quot;javascript:alert(1)&quot;&gt;x&lt;/a&gt;" in hovers[0]
    assert hovers[0].endswith("<br>next")  # a line break is Plotly's own, the only tag
    assert all(h.startswith("0:01") for h in hovers)
    assert "Chapters &lt;b&gt;mine&lt;/b&gt;" in figure.layout.yaxis.categoryarray
