"""The map as a picture: what a tab shows until Plotly's code has loaded in it.

A cold tab must fetch and compile Plotly's code (4.7 MB) before it can draw a chart, seconds
after Streamlit's own page is up. So until then the Embeddings page shows this PNG in the
chart's place (components/embeddings/embedding_map.py): every point of the 2-D map, coloured
as the chart colours it, over the same axes extent as the chart (figures.py fixes the chart's
axes to `density.whole`). It is made of numbers the app computed, never of text: the legend's
names are shown over it by the page, as text. ~0.15 s for 10k or 1M points.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageColor, ImageDraw

from reelscope.embeddings import density
from reelscope.embeddings.figures import HEIGHT, MARGIN, is_dense

SIZE = (640, HEIGHT - 2 * MARGIN)  # the chart's plot area: a usual width (its column), its height
LEGEND_LINE_PX = 16  # the legend's line pitch, in the picture and in the text beside it


def render(
    coords: np.ndarray, codes: np.ndarray, palette: Sequence[str], swatches: Sequence[str] = ()
) -> bytes:
    """The 2-D map of `coords` (n, 2) as a PNG of SIZE, row i in `palette[codes[i]]` (as
    figures.colours gives them), and the legend's colour `swatches` top left, one a line of
    LEGEND_LINE_PX (the page writes their names beside them).

    Each pixel the mean colour of its points; each point spread to a dot about the chart's
    marker size; a density map's pixels fainter where few points fall. numpy and PIL only:
    datashader's shading compiles numba kernels on first use (~3 s in a fresh server), which
    a first paint cannot wait for."""
    coords = np.asarray(coords, dtype=np.float32)[:, :2]
    grid = density.counts(coords, codes, len(palette), density.whole(coords), SIZE)
    total = grid.sum(axis=2)
    rgb = np.array([ImageColor.getrgb(colour)[:3] for colour in palette], dtype=np.float32)
    mean = grid.astype(np.float32) @ rgb / np.maximum(total, 1)[..., None]
    if is_dense(len(coords), 2):  # a log scale: sparse areas still show
        alpha = 60 + 195 * np.log1p(total) / np.log1p(max(int(total.max()), 1))
    else:
        alpha = np.full(total.shape, 217.0)  # the chart's marker opacity, 0.85
    alpha[total == 0] = 0
    pixels = _spread(np.dstack([mean, alpha]).astype(np.uint8), _radius(len(coords)))
    image = Image.fromarray(pixels, mode="RGBA")
    draw = ImageDraw.Draw(image)
    for line, colour in enumerate(swatches):
        middle = LEGEND_LINE_PX * line + LEGEND_LINE_PX // 2
        draw.ellipse((4, middle - 5, 14, middle + 5), fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _spread(pixels: np.ndarray, radius: int) -> np.ndarray:
    """Each drawn pixel grown to a disc of `radius`; where discs overlap the opaquer wins."""
    height, width = pixels.shape[:2]
    padded = np.pad(pixels, ((radius, radius), (radius, radius), (0, 0)))
    out = np.zeros_like(pixels)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dx * dx + dy * dy > radius * radius + radius:
                continue
            moved = padded[radius + dy : radius + dy + height, radius + dx : radius + dx + width]
            over = moved[..., 3] > out[..., 3]
            out[over] = moved[over]
    return out


def _radius(count: int) -> int:
    """Pixels a point spreads by: the chart's markers are 10, 6 or 4 px across by count."""
    return 4 if count < 1_000 else 3 if count < 20_000 else 1
