"""A collection's map: stored projections, a background UMAP fit, and queries placed on it.

`map_for` never blocks on UMAP: it returns the stored map when there is one, else a PCA
preview while one process-wide worker fits UMAP and stores it (keyed by the collection's
content and the parameters, so reruns and reopenings reuse it). One worker, because the
machine has two cores and a fit already uses both. The figure is drawn by figures.map_figure.
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
