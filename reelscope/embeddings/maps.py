"""A collection's map: stored projections, a background UMAP fit, and queries placed on it.

`map_for` never blocks on UMAP: it returns the stored map when there is one, else a PCA
preview while a map-fit task fits UMAP (in UMAP's one worker process: the machine has two
cores and a fit already uses both) and stores it, keyed by the collection's content and the
parameters, so reruns and reopenings reuse it. The task then holds nothing: the registry lists
it while it runs and forgets it later. The figure is drawn by figures.map_figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reelscope.embeddings.search_index import nearest_rows
from reelscope.embeddings.store import Collection, EmbeddingStore, normalise
from reelscope.projection import (
    Projection,
    ProjectionParams,
    pca_preview,
    place_query,
    project,
    umap_ready,
)
from reelscope.tasks import (
    LOCAL_OWNER,
    Progress,
    Task,
    TaskRegistry,
    TaskState,
    registry,
    start_thread,
)


class MapFit(Task):
    """Fits one collection's UMAP map and stores it; `key` is (collection, content, params)."""

    kind = "map-fit"

    def __init__(
        self,
        store: EmbeddingStore,
        collection: Collection,
        params: ProjectionParams,
        *,
        owner: str = LOCAL_OWNER,
        origin: str | None = None,
    ) -> None:
        info = collection.info
        self.stored_key = params.key(info.content_hash)  # the stored map's key
        super().__init__(
            owner=owner,
            label=f"{info.name}: {params.dims}-D UMAP",
            key=_task_key(info.id, self.stored_key),
            origin=origin,
        )
        self.collection_id = info.id
        self._store = store
        self._vectors: np.ndarray | None = collection.vectors
        self._params = params
        self.error: str | None = None

    def start(self) -> MapFit:
        start_thread(self, self._work)
        return self

    def progress(self) -> Progress:
        status = self.status
        if status is TaskState.FAILED:
            return Progress(status, f"The UMAP map failed: {self.error}")
        if status is not TaskState.RUNNING:
            return Progress(status, "UMAP map stored.")
        warming = "" if umap_ready() else " (UMAP is warming up)"
        return Progress(status, f"Fitting the UMAP map{warming}… {self.elapsed():.1f} s")

    def _work(self) -> None:
        try:
            projection = project(np.asarray(self._vectors), self._params)
            if not self.done:  # cancelled meanwhile: nothing is stored
                _save(self._store, self.collection_id, self.stored_key, projection)
        except Exception as exc:
            self.error = str(exc) or type(exc).__name__
            self.finish(TaskState.FAILED)
        else:
            self.finish(TaskState.DONE)
        finally:
            self._vectors = None  # the collection holds them; this task no longer needs them


@dataclass(frozen=True)
class MapView:
    projection: Projection
    final: bool  # the map asked for (stored), not a preview
    pending: bool  # a UMAP fit for it is running in the background
    note: str | None = None
    error: str | None = None  # the background fit failed: why
    fit: MapFit | None = None  # the UMAP fit under way (or failed), to follow


def map_for(
    store: EmbeddingStore,
    collection: Collection,
    params: ProjectionParams | None = None,
    *,
    tasks: TaskRegistry | None = None,
    owner: str = LOCAL_OWNER,
    retry: bool = False,
) -> MapView:
    """The map to show now. Starts the UMAP fit in the background when it is not stored.

    A fit that failed or was stopped is said, not started again on every rerun: `retry` starts
    it again.
    """
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
    fit = _start_fit(
        tasks if tasks is not None else registry(), store, collection, params, key, owner, retry
    )
    if fit.status in (TaskState.FAILED, TaskState.CANCELLED):
        preview = _preview(store, collection, params.dims)
        why = f"failed: {fit.error}" if fit.error else "was stopped."
        return MapView(preview, False, False, error=f"The UMAP map {why}", fit=fit)
    if fit.done:
        stored = _load(store, info.id, key, params)
        if stored is not None:
            return MapView(stored, final=True, pending=False, note=stored.note)
    note = "The UMAP map is coming; this is a PCA preview."
    if not umap_ready():
        note = "UMAP is warming up (first start only); this is a PCA preview."
    return MapView(_preview(store, collection, params.dims), False, True, note, fit=fit)


def wait_for_map(
    store: EmbeddingStore,
    collection: Collection,
    params: ProjectionParams,
    timeout: float,
    *,
    tasks: TaskRegistry | None = None,
) -> bool:
    """Wait for a background fit (tests, benches); True when the stored map is there."""
    key = params.key(collection.info.content_hash)
    fit = (tasks if tasks is not None else registry()).find(
        MapFit.kind, _task_key(collection.info.id, key)
    )
    if fit is not None:
        fit.wait(timeout)
        if isinstance(fit, MapFit) and fit.status is TaskState.FAILED:
            raise RuntimeError(fit.error)
    return _load(store, collection.info.id, key, params) is not None


def _start_fit(
    tasks: TaskRegistry,
    store: EmbeddingStore,
    collection: Collection,
    params: ProjectionParams,
    key: str,
    owner: str,
    retry: bool,
) -> MapFit:
    task_key = _task_key(collection.info.id, key)
    found = tasks.find(MapFit.kind, task_key)
    ended = (TaskState.FAILED, TaskState.CANCELLED)
    if isinstance(found, MapFit) and found.status in ended and not retry:
        return found  # said on the page, with a button to try again
    fit = tasks.start_once(
        MapFit.kind,
        task_key,
        lambda: MapFit(store, collection, params, owner=owner, origin="embeddings").start(),
    )
    assert isinstance(fit, MapFit)
    return fit


def _task_key(collection_id: str, key: str) -> str:
    return f"{collection_id}:{key}"


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
    """Rank rows by cosine similarity to `vector` (full space: exact scores, by an index at
    scale, see search_index.nearest_rows) and place it on the map."""
    if vector.shape[-1] != collection.info.dimension:
        size = collection.info.dimension
        raise ValueError(f"The query has {vector.shape[-1]} dimensions; the collection {size}.")
    idx, scores = nearest_rows(collection, vector, k)
    point = place_query(coords, idx, scores) if coords is not None and len(coords) else None
    return QueryResult(idx, scores, point)


def similarity_matrix(collection: Collection, rows_a: np.ndarray, rows_b: np.ndarray) -> np.ndarray:
    """Cosine similarities of rows_a × rows_b (e.g. texts × video segments, for a heatmap).
    Only those rows are normalised: the whole matrix is gigabytes at a million rows."""
    a = normalise(collection.vectors[np.asarray(rows_a, dtype=np.int64)])
    b = normalise(collection.vectors[np.asarray(rows_b, dtype=np.int64)])
    return a @ b.T
