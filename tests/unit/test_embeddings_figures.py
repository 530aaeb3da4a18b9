"""The embedding map's figure: a click selects in 2-D, and what a file wrote is never markup."""

from __future__ import annotations

import re

import numpy as np

from reelscope.embeddings.figures import map_figure

HOSTILE = '<a href="http://127.0.0.1:9/">x</a><img src=http://127.0.0.1:9/i>'


def _figure(dims: int = 2, **kwargs):
    coords = np.random.default_rng(0).normal(size=(4, dims)).astype(np.float32)
    base = dict(kinds=np.array(["text", "video", "image", "text"]), sources=["a", "b", "c", "d"],
                hover=["a", "b", "c", "d"], coords=coords)  # fmt: skip
    return map_figure(**{**base, **kwargs})


def test_a_2d_map_pans_so_that_a_click_selects_a_point():
    # Streamlit's chart turns clickmode to "event" (a click selects nothing) whenever dragmode
    # is "lasso" or "select": the map must open in another drag mode.
    layout = _figure().layout
    assert layout.dragmode == "pan" and layout.clickmode == "event+select"
    assert layout.hovermode == "closest"
    assert _figure(dims=3).layout.dragmode == "orbit"


def _markup(text: str) -> str:
    ours = r'<br>|<span style="color:#[0-9A-Fa-f]{6}">●</span>'
    return "".join(ch for ch in re.sub(ours, "", text) if ch in "<>")


def test_imported_kinds_sources_hovers_and_the_query_label_are_escaped():
    hostile_kinds = np.array(["text", HOSTILE, "video", HOSTILE])
    by_kind = _figure(kinds=hostile_kinds, hover=[HOSTILE, "a\nb", "c", "d"],
                      query_point=np.zeros(2), query_label=HOSTILE)  # fmt: skip
    by_source = _figure(sources=[HOSTILE, HOSTILE, "b", "<b>"], color_by="source")
    (trace,) = by_kind.data
    texts = [*trace.hovertext, *(a.text for a in by_kind.layout.annotations)]
    texts += [a.text for a in by_source.layout.annotations]
    assert [_markup(t) for t in texts] == [""] * len(texts)
    assert trace.hovertext[0].startswith(
        "&lt;a href=&quot;http://127.0.0.1:9/&quot;&gt;x&lt;/a&gt;"
    )
    assert trace.hovertext[1] == "a<br>b"  # a line break is Plotly's own
    legend = by_kind.layout.annotations[0].text
    assert "&lt;a href=" in legend  # the imported kind is named
    assert "&lt;b&gt; (1)" in by_source.layout.annotations[0].text


def test_points_share_one_size_and_opacity_until_a_query_lights_some():
    # One value for all lets Plotly's WebGL scatter colour the points without a per-point pass.
    marker = _figure().data[0].marker
    assert isinstance(marker.size, float) and isinstance(marker.opacity, float)
    lit = _figure(highlight=np.array([1, 3])).data[0].marker
    assert list(lit.opacity) == [0.25, 1.0, 0.25, 1.0]
    assert lit.size[1] == lit.size[3] > lit.size[0] == lit.size[2]


def test_a_map_of_no_points_is_drawn_and_pictured_without_error():
    # A job cancelled before its first rows leaves a collection whose map has no points.
    from reelscope.embeddings.figures import colours
    from reelscope.embeddings.picture import render

    empty = np.zeros((0, 2), np.float32)
    figure = map_figure(kinds=np.array([]), sources=[], hover=[], coords=empty)
    assert len(figure.data[0].x) == 0
    assert list(figure.layout.xaxis.range) == [-0.5, 0.5]
    codes, palette, _legend = colours(np.array([]), [], "kind")
    assert render(empty, codes, palette, ())[:8] == b"\x89PNG\r\n\x1a\n"
