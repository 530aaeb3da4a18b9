"""A collection's map: stored projections, a background UMAP fit, the Plotly figure, queries.

`map_for` never blocks on UMAP: it returns the stored map when there is one, else a PCA
preview while one process-wide worker fits UMAP and stores it (keyed by the collection's
content and the parameters, so reruns and reopenings reuse it). One worker, because the
machine has two cores and a fit already uses both.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from reelscope.embeddings.store import Collection, EmbeddingStore
from reelscope.projection import (
    Projection,
    ProjectionParams,
    nearest,
    pca_preview,
    place_query,
    project,
    umap_ready,
)

KIND_COLOURS = {"text": "#E45756", "image": "#4C78A8", "video": "#54A24B"}
OTHER_COLOUR = "#9D755D"
PALETTE = (
    "#4C78A8", "#F58518", "#E45756", "#72B7B2", "#54A24B", "#EECA3B", "#B279A2", "#FF9DA6",
    "#9D755D", "#BAB0AC", "#1F77B4", "#FF7F0E", "#2CA02C", "#D62728", "#9467BD", "#8C564B",
    "#E377C2", "#7F7F7F", "#BCBD22", "#17BECF",
)  # fmt: skip
SELECT_3D_NOTE = "3-D maps are for looking: Plotly cannot select points in 3-D. Use 2-D to select."

_worker = ThreadPoolExecutor(1, thread_name_prefix="umap-fit")
_pending: dict[tuple[str, str], Future] = {}
_pending_lock = threading.Lock()


@dataclass(frozen=True)
class MapView:
    projection: Projection
    final: bool  # the map asked for (stored), not a preview
    pending: bool  # a UMAP fit for it is running in the background
    note: str | None = None
    error: str | None = None  # the background fit failed: why


def map_for(
    store: EmbeddingStore, collection: Collection, params: ProjectionParams | None = None
) -> MapView:
    """The map to show now. Starts the UMAP fit in the background when it is not stored."""
    params = params or ProjectionParams()
    info = collection.info
    key = params.key(info.content_hash)
    stored = _load(store, info.id, key, params)
    if stored is not None:
        return MapView(stored, final=True, pending=False, note=stored.note)
    if params.method == "pca" or len(collection.rows) < 4 or info.count == 0:
        result = project(np.asarray(collection.vectors), params) if info.count else _empty(params)
        if info.count:
            _save(store, info.id, key, result)
        return MapView(result, final=True, pending=False, note=result.note)
    future = _start_fit(store, collection, params, key)
    if future.done() and future.exception() is not None:
        preview = _preview(store, collection, params.dims)
        return MapView(preview, False, False, error=f"The UMAP map failed: {future.exception()}")
    if future.done():
        stored = _load(store, info.id, key, params)
        if stored is not None:
            return MapView(stored, final=True, pending=False, note=stored.note)
    note = "The UMAP map is coming; this is a PCA preview."
    if not umap_ready():
        note = "UMAP is warming up (first start only); this is a PCA preview."
    return MapView(_preview(store, collection, params.dims), False, True, note)


def wait_for_map(
    store: EmbeddingStore, collection: Collection, params: ProjectionParams, timeout: float
) -> bool:
    """Wait for a background fit (tests, benches); True when the stored map is there."""
    key = params.key(collection.info.content_hash)
    with _pending_lock:
        future = _pending.get((collection.info.id, key))
    if future is not None:
        future.result(timeout)
    return _load(store, collection.info.id, key, params) is not None


def _start_fit(
    store: EmbeddingStore, collection: Collection, params: ProjectionParams, key: str
) -> Future:
    with _pending_lock:
        future = _pending.get((collection.info.id, key))
        if future is None or (future.done() and future.exception() is not None):
            vectors = collection.vectors
            future = _worker.submit(_fit, store, collection.info.id, key, vectors, params)
            _pending[(collection.info.id, key)] = future
        return future


def _fit(store: EmbeddingStore, collection_id: str, key: str, vectors: np.ndarray, params) -> None:
    _save(store, collection_id, key, project(np.asarray(vectors), params))


def _preview(store: EmbeddingStore, collection: Collection, dims: int) -> Projection:
    """The PCA preview, stored too: at 50k points it is worth not redoing on every rerun."""
    params = ProjectionParams(dims=dims, method="pca")
    key = params.key(collection.info.content_hash)
    stored = _load(store, collection.info.id, key, params)
    if stored is not None:
        return stored
    preview = pca_preview(collection.vectors, dims)
    _save(store, collection.info.id, key, preview)
    return preview


def _load(store: EmbeddingStore, collection_id: str, key: str, params) -> Projection | None:
    found = store.load_projection(collection_id, key)
    if found is None:
        return None
    coords, method, note = found
    return Projection(coords, method, params, note)


def _save(store: EmbeddingStore, collection_id: str, key: str, result: Projection) -> None:
    store.save_projection(
        collection_id, key, result.coords, result.method, result.note, result.params.to_json()
    )


def _empty(params: ProjectionParams) -> Projection:
    return Projection(np.zeros((0, params.dims), np.float32), "pca", params, "No points yet.")


# -- the figure --


def colour_codes(collection: Collection, color_by: str = "kind") -> tuple[np.ndarray, list]:
    """Per-row colour index and the legend [(name, colour)], for one-trace colouring."""
    rows = collection.rows
    if color_by == "source":
        names, codes = np.unique(np.asarray(rows.source, dtype=object), return_inverse=True)
        legend = [(str(n), PALETTE[i % len(PALETTE)]) for i, n in enumerate(names)]
        return codes % len(PALETTE), legend
    kinds = list(KIND_COLOURS)
    names, inverse = np.unique(rows.kind.astype(str), return_inverse=True)
    lookup = np.array([kinds.index(n) if n in kinds else len(kinds) for n in names])
    codes = lookup[inverse] if len(names) else np.zeros(0, dtype=np.int64)
    present = set(codes.tolist())
    legend = [(k, c) for i, (k, c) in enumerate(KIND_COLOURS.items()) if i in present]
    if len(kinds) in present:
        legend.append(("other", OTHER_COLOUR))
    return codes, legend


def figure_for(
    collection: Collection,
    projection: Projection,
    *,
    color_by: str = "kind",
    highlight: np.ndarray | None = None,
    query_point: np.ndarray | None = None,
    hovers: list[str] | None = None,
):
    """One Plotly trace of every row (row id in customdata), built from numpy arrays.

    2-D is a Scattergl: one trace, so Streamlit's selection indices cannot collide
    (streamlit#8914); colours go through the marker, not through traces. 3-D is a Scatter3d.
    A query, when given, is a second trace whose customdata is -1 (not a row).
    """
    import plotly.graph_objects as go

    coords = projection.coords
    n = coords.shape[0]
    codes, legend = colour_codes(collection, color_by)
    colours = [c for _, c in legend] if color_by == "source" else list(KIND_COLOURS.values())
    palette = list(PALETTE) if color_by == "source" else [*colours, OTHER_COLOUR]
    steps = len(palette)
    scale = [[i / max(steps - 1, 1), c] for i, c in enumerate(palette)]
    sizes = np.full(n, 5.0 if n > 5000 else 8.0, dtype=np.float32)
    if highlight is not None and len(highlight):
        sizes[np.asarray(highlight, dtype=np.int64)] = 14.0
    marker = dict(
        color=codes.astype(np.float32), colorscale=scale, cmin=0, cmax=steps - 1, size=sizes,
        opacity=0.85,
    )  # fmt: skip
    text = hovers if hovers is not None else collection.rows.hovers()
    common = dict(
        mode="markers", customdata=np.arange(n, dtype=np.int32), hovertext=text,
        hoverinfo="text", marker=marker, name="items", showlegend=False,
    )  # fmt: skip
    three_d = coords.shape[1] == 3
    if three_d:
        trace = go.Scatter3d(x=coords[:, 0], y=coords[:, 1], z=coords[:, 2], **common)
    else:
        trace = go.Scattergl(x=coords[:, 0], y=coords[:, 1], **common)
    figure = go.Figure(trace)
    if query_point is not None:
        figure.add_trace(_query_trace(go, np.asarray(query_point), three_d))
    figure.update_layout(
        margin=dict(l=0, r=0, t=24, b=0),
        dragmode="lasso" if not three_d else "orbit",
        xaxis=dict(showticklabels=False, title=None),
        yaxis=dict(showticklabels=False, title=None),
        uirevision=collection.info.id,  # keep zoom across reruns of the same collection
    )
    return figure


def _query_trace(go, point: np.ndarray, three_d: bool):
    style = dict(
        mode="markers", customdata=[-1], hovertext=["your query"], hoverinfo="text",
        marker=dict(symbol="diamond" if three_d else "star", size=18, color="black"),
        name="query", showlegend=False,
    )  # fmt: skip
    if three_d:
        return go.Scatter3d(x=[point[0]], y=[point[1]], z=[point[2]], **style)
    return go.Scattergl(x=[point[0]], y=[point[1]], **style)


# -- queries --


@dataclass(frozen=True)
class QueryResult:
    rows: np.ndarray  # row ids, best first
    scores: np.ndarray  # cosine similarity in the full space
    point: np.ndarray | None  # where the query sits on the map


def query_collection(
    collection: Collection, vector: np.ndarray, k: int = 10, coords: np.ndarray | None = None
) -> QueryResult:
    """Rank rows by cosine similarity to `vector` (full space) and place it on the map."""
    if vector.shape[-1] != collection.info.dimension:
        size = collection.info.dimension
        raise ValueError(f"The query has {vector.shape[-1]} dimensions; the collection {size}.")
    idx, scores = nearest(collection.unit_vectors(), vector, k)
    point = place_query(coords, idx, scores) if coords is not None and len(coords) else None
    return QueryResult(idx, scores, point)


def similarity_matrix(collection: Collection, rows_a: np.ndarray, rows_b: np.ndarray) -> np.ndarray:
    """Cosine similarities of rows_a × rows_b (e.g. texts × video segments, for a heatmap)."""
    unit = collection.unit_vectors()
    return unit[np.asarray(rows_a)] @ unit[np.asarray(rows_b)].T
