"""The map's picture (reelscope/embeddings/picture.py): the chart's plot area, every point a
dot in its colour where the chart's axes put it, on a transparent ground."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageColor

from reelscope.embeddings import density, picture
from reelscope.embeddings.figures import map_figure


def pixels(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    assert image.mode == "RGBA"
    return np.asarray(image)


def test_each_point_is_a_dot_of_its_colour_where_the_charts_axes_put_it():
    coords = np.array([[0.0, 0.0], [10.0, 5.0], [5.0, 2.5]], dtype=np.float32)
    codes = np.array([0, 1, 1])
    palette = ["#4C78A8", "#F58518"]
    image = pixels(picture.render(coords, codes, palette))
    width, height = picture.SIZE
    assert image.shape == (height, width, 4)

    figure = map_figure(kinds=np.array(["text", "image", "image"]), sources=["a"] * 3,
                        hover=["a"] * 3, coords=coords)  # fmt: skip
    x_range, y_range = figure.layout.xaxis.range, figure.layout.yaxis.range
    view = density.whole(coords)
    assert tuple(x_range) == (view.x0, view.x1) and tuple(y_range) == (view.y0, view.y1)
    for (x, y), code in zip(coords, codes, strict=True):
        column = int((x - x_range[0]) / (x_range[1] - x_range[0]) * width)
        row = int((y_range[1] - y) / (y_range[1] - y_range[0]) * height)
        assert tuple(image[row, column, :3]) == ImageColor.getrgb(palette[code])
        assert image[row, column, 3] > 200
    drawn = image[..., 3] > 0
    assert 3 * 9 <= drawn.sum() <= 3 * 81, "three dots about the chart's marker size"
    assert not drawn[0, :].any() and not drawn[:, 0].any(), "transparent away from the points"


def test_a_million_points_are_a_density_picture_fainter_where_sparse():
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(1_000_000, 2)).astype(np.float32)
    image = pixels(picture.render(coords, np.zeros(len(coords), dtype=np.int64), ["#54A24B"]))
    alpha = image[..., 3]
    middle = alpha[alpha.shape[0] // 2, alpha.shape[1] // 2]
    edge = alpha[alpha > 0].min()
    assert middle > 200 and edge < 120


def test_the_legends_swatches_are_drawn_one_a_line_top_left():
    coords = np.array([[0.0, 0.0], [1.0, 1.0]], dtype=np.float32)
    swatches = ["#E45756", "#72B7B2"]
    image = pixels(picture.render(coords, np.array([0, 0]), ["#4C78A8"], swatches))
    for line, colour in enumerate(swatches):
        middle = picture.LEGEND_LINE_PX * line + picture.LEGEND_LINE_PX // 2
        assert tuple(image[middle, 9, :3]) == ImageColor.getrgb(colour)
