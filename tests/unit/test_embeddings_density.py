"""A map too big to draw point by point: its density image counts every point once, the points
drawn are exactly those of the view (or a steady sample of them), and ids stay row ids."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from components.embeddings.embedding_map import dense_selected_ids
from reelscope.embeddings import density
from reelscope.embeddings.density import View
from reelscope.embeddings.figures import map_figure

N = density.DENSITY_FROM + 5_000


def _coords(count: int = N, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(count, 2)).astype(np.float32)


def _big_map(**kwargs):
    coords = kwargs.pop("coords", _coords())
    kinds = np.array(["text", "video", "image"])[np.arange(len(coords)) % 3]
    hover = kwargs.pop("hover", lambda ids: [f"row {i}" for i in ids.tolist()])
    return map_figure(kinds=kinds, sources=["s"] * len(coords), hover=hover, coords=coords,
                      **kwargs)  # fmt: skip


def test_the_density_counts_every_point_once_per_colour_edges_included():
    coords = _coords()
    codes = np.arange(N) % 3
    view = density.whole(coords)
    grid = density.counts(coords, codes, 3, view, (300, 200))
    assert grid.shape == (200, 300, 3)
    assert grid.sum() == N
    assert grid.sum(axis=(0, 1)).tolist() == np.bincount(codes).tolist()
    corners = np.array([[0, 0], [1, 1], [0, 1], [1, 0], [0.5, 0.5]], dtype=np.float32)
    small = density.counts(corners, np.arange(5), 5, View(0, 1, 0, 1), (4, 4))
    assert small.sum() == 5  # the view's top and right edges are inside it
    top_left, bottom_right = small[0, 0], small[3, 3]
    assert top_left.tolist() == [0, 0, 1, 0, 0] and bottom_right.tolist() == [0, 0, 0, 1, 0]


def test_the_image_puts_the_top_left_of_the_view_at_its_top_left():
    top_left = np.array([[0.01, 0.99]] * 3, dtype=np.float32)
    uri = density.image_uri(top_left, np.zeros(3, int), ["#E45756"], View(0, 1, 0, 1), (8, 8))
    picture = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGBA")
    alpha = np.asarray(picture)[..., 3]
    assert alpha[0, 0] > 0 and np.count_nonzero(alpha) == 1
    assert np.asarray(picture)[0, 0, :3].tolist() == [0xE4, 0x57, 0x56]


def test_the_points_drawn_are_exactly_those_in_view_when_few_enough():
    coords = _coords()
    view = View(-0.5, 0.25, -0.1, 0.6)
    ids, in_view = density.drawn_rows(coords, view)
    x, y = coords[:, 0], coords[:, 1]
    expected = np.flatnonzero((x >= -0.5) & (x <= 0.25) & (y >= -0.1) & (y <= 0.6))
    assert 0 < in_view <= density.POINTS_MAX and ids.tolist() == expected.tolist()


def test_a_crowded_view_draws_a_steady_sample_that_grows_as_the_view_shrinks():
    coords = _coords()
    whole, wide = density.drawn_rows(coords, density.whole(coords), limit=1_000)
    assert len(whole) == 1_000 and wide == N
    again, _ = density.drawn_rows(coords, density.whole(coords), limit=1_000)
    assert again.tolist() == whole.tolist()
    part = View(0, 3, 0, 3)
    zoomed, held = density.drawn_rows(coords, part, limit=1_000)
    assert len(zoomed) == 1_000 < held
    assert set(whole[part.contains(coords[whole])].tolist()) <= set(zoomed.tolist())
    assert part.contains(coords[zoomed]).all()


def test_a_big_map_is_an_image_under_one_trace_whose_customdata_are_row_ids():
    coords = _coords()
    view = View(-0.3, 0.3, -0.3, 0.3)
    asked: list[np.ndarray] = []
    figure = _big_map(coords=coords, view=view, highlight=np.array([7, 9]),
                      hover=lambda ids: asked.append(ids) or [f"row {i}" for i in ids.tolist()])  # fmt: skip
    (trace,) = figure.data
    ids = np.asarray(trace.customdata)
    inside = np.flatnonzero(view.contains(coords))
    assert ids.tolist() == np.union1d(inside, [7, 9]).tolist()  # neighbours lit wherever they are
    assert np.allclose(np.asarray(trace.x), coords[ids, 0])
    assert list(trace.hovertext) == [f"row {i}" for i in ids.tolist()]
    assert len(asked) == 1 and len(asked[0]) == len(ids)  # only the drawn rows' texts are made
    (image,) = figure.layout.images
    assert image.source.startswith("data:image/png;base64,") and image.layer == "below"
    assert (image.x, image.y, image.sizex, image.sizey) == (-0.3, 0.3, 0.6, 0.6)
    picture = Image.open(io.BytesIO(base64.b64decode(image.source.split(",", 1)[1])))
    assert picture.size == density.IMAGE_SIZE
    assert list(figure.layout.xaxis.range) == [-0.3, 0.3]
    whole = _big_map(coords=coords).layout
    assert figure.layout.xaxis.uirevision != whole.xaxis.uirevision  # a new view: new ranges
    assert figure.layout.uirevision == whole.uirevision  # the selection is kept


def test_a_small_map_stays_one_point_per_row_with_no_image():
    coords = _coords(500)
    figure = _big_map(coords=coords)
    assert np.asarray(figure.data[0].customdata).tolist() == list(range(500))
    assert not figure.layout.images


def test_boxes_and_lassos_on_a_density_map_select_rows_that_are_not_drawn():
    coords = np.array([[0, 0], [1, 1], [2, 2], [0.5, 0.2], [5, 5]], dtype=np.float32)
    state = {"selection": {
        "points": [{"curve_number": 0, "customdata": 4}],
        "box": [{"xref": "x", "yref": "y", "x": [1.5, -0.1], "y": [1.1, -0.1]}],
        "lasso": [{"xref": "x", "yref": "y", "x": [1.8, 2.2, 2.2, 1.8], "y": [1.8, 1.8, 2.2, 2.2]}],
    }}  # fmt: skip
    assert dense_selected_ids(state, coords) == [0, 1, 2, 3, 4]
    triangle = density.inside_polygon(coords, [-1, 4, -1], [-1, -1, 4])  # x + y < 3
    assert triangle.tolist() == [0, 1, 3]
