"""A map too big to draw point by point: a density image of every point, and the rows to draw.

Above `DENSITY_FROM` points one Scattergl of every point is slow to build, send and draw, so the
map becomes a picture of how many points fall in each pixel (counted with numpy, coloured by
datashader's shading: ~0.15 s for a million points) placed under Plotly's axes, plus the points of
the current view when at most `POINTS_MAX`, or that many of them otherwise. The picture is made
of numbers the app computed, never of text, so it carries nothing untrusted.

Which points stand for a crowded view is decided by a fixed priority per row: zooming in keeps
every point already drawn and adds more, so points never jump between reruns.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np

DENSITY_FROM = 50_000  # points above which the map is a density image (SDK-NOTES: Scattergl)
POINTS_MAX = 20_000  # points drawn over the image at most
IMAGE_SIZE = (900, 540)  # pixels (width, height) of the density image
PAD = 0.02  # the whole map's margin, as a share of its extent


@dataclass(frozen=True)
class View:
    """A rectangle of the map, in map coordinates: what the axes show."""

    x0: float
    x1: float
    y0: float
    y1: float

    @classmethod
    def of_box(cls, xs: list[float], ys: list[float]) -> View:
        """The view of a Plotly box selection, whichever way it was dragged."""
        return cls(float(min(xs)), float(max(xs)), float(min(ys)), float(max(ys)))

    def contains(self, coords: np.ndarray) -> np.ndarray:
        """A mask of the rows of `coords` (n, 2) inside the view, edges included."""
        x, y = coords[:, 0], coords[:, 1]
        return (x >= self.x0) & (x <= self.x1) & (y >= self.y0) & (y <= self.y1)


def whole(coords: np.ndarray) -> View:
    """The view of every point, with a small margin (a unit square around a single point, or
    around the origin when there is none: a collection whose job stopped before its first
    rows)."""
    if not len(coords):
        return View(-0.5, 0.5, -0.5, 0.5)
    low, high = coords[:, :2].min(axis=0), coords[:, :2].max(axis=0)
    margin = np.maximum((high - low) * PAD, 0.5 * (high == low))
    low, high = low - margin, high + margin
    return View(float(low[0]), float(high[0]), float(low[1]), float(high[1]))


def drawn_rows(coords: np.ndarray, view: View, limit: int = POINTS_MAX) -> tuple[np.ndarray, int]:
    """The row ids to draw in `view` (ascending), and how many rows the view holds.

    All of them when at most `limit`; otherwise the `limit` with the lowest fixed priority.
    """
    inside = np.flatnonzero(view.contains(coords))
    if len(inside) <= limit:
        return inside, len(inside)
    priority = _priority(len(coords))[inside]
    chosen = inside[np.argpartition(priority, limit - 1)[:limit]]
    return np.sort(chosen), len(inside)


def inside_polygon(coords: np.ndarray, xs: list[float], ys: list[float]) -> np.ndarray:
    """Row ids of the points inside a lasso's polygon (even-odd rule), ascending."""
    px, py = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    if len(px) < 3:
        return np.zeros(0, dtype=np.int64)
    box = View(px.min(), px.max(), py.min(), py.max())
    candidates = np.flatnonzero(box.contains(coords))
    x, y = coords[candidates, 0], coords[candidates, 1]
    inside = np.zeros(len(candidates), dtype=bool)
    for ax, ay, bx, by in zip(px, py, np.roll(px, 1), np.roll(py, 1), strict=True):
        crosses = (ay > y) != (by > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = (bx - ax) * (y - ay) / (by - ay) + ax
        inside ^= crosses & (x < at)
    return candidates[inside]


def counts(
    coords: np.ndarray, codes: np.ndarray, colours: int, view: View, size: tuple[int, int]
) -> np.ndarray:
    """Points per pixel and colour, shape (height, width, colours), row 0 at the top of `view`.

    Each point inside the view counts once, its top and right edges included. numpy's bincount,
    not datashader's Canvas: as fast here (~25 ms for a million points) without compiling numba
    kernels in the server's process on the first big map (~1.2 s holding the GIL).
    """
    width, height = size
    x, y = coords[:, 0].astype(np.float64), coords[:, 1].astype(np.float64)
    inside = view.contains(coords)
    column = ((x[inside] - view.x0) * (width / max(view.x1 - view.x0, 1e-12))).astype(np.int64)
    row = ((view.y1 - y[inside]) * (height / max(view.y1 - view.y0, 1e-12))).astype(np.int64)
    cell = np.minimum(row, height - 1) * width + np.minimum(column, width - 1)
    flat = np.bincount(cell * colours + codes[inside], minlength=height * width * colours)
    return flat.reshape(height, width, colours).astype(np.uint32)


def image_uri(
    coords: np.ndarray,
    codes: np.ndarray,
    palette: list[str],
    view: View,
    size: tuple[int, int] = IMAGE_SIZE,
) -> str:
    """The density of every point in `view` as a PNG data URI: each pixel takes the colours of
    its points, brighter where more fall (datashader's histogram equalisation, so sparse areas
    still show)."""
    import datashader.transfer_functions as tf
    import xarray as xr

    grid = counts(coords, codes, len(palette), view, size)[::-1]  # datashader: row 0 at the bottom
    axes = {
        "y": np.linspace(view.y0, view.y1, size[1]),
        "x": np.linspace(view.x0, view.x1, size[0]),
        "colour": np.arange(len(palette)),
    }
    frame = xr.DataArray(grid, dims=("y", "x", "colour"), coords=axes)
    picture = tf.shade(frame, color_key=palette, how="eq_hist", min_alpha=60)
    buffer = io.BytesIO()
    picture.to_pil().save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _priority(count: int) -> np.ndarray:
    """A fixed random rank per row id: the same rows stand for a crowded view on every rerun."""
    return np.random.default_rng(count).permutation(count).astype(np.int32)
