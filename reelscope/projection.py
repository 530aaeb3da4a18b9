"""Maps of vector collections: PCA at once, UMAP when it is ready, neighbours in full space.

- `pca_preview`: a 2-D/3-D PCA, milliseconds, shown while UMAP is not ready;
- `project`: PCA to ~50 dims, then umap-learn (cosine) with fewer epochs than its default —
  same neighbourhoods on clustered data at about a third of the time (bench/projection.py);
  small collections adapt `n_neighbors` (< ~15 points) or fall back to PCA (< 4), with a note;
  above `SAMPLE_ABOVE` points it fits a sample and places the rest (reelscope/projection_scale.py);
- `nearest`: cosine top-k in the full space (numpy), never in 2-D;
- `place_query`: a query's map position as the similarity-weighted mean of its neighbours'
  positions — `reducer.transform` would cost ~54 s on its first call;
- `warm_up_in_background`: start UMAP's worker process at server start, where it imports umap
  and compiles numba before anyone waits for a map.

UMAP runs in that one worker process, never in the server's: umap-learn's import and numba's
compilation hold the GIL for tens of seconds, and in the server's process they starved every
session (a fresh server's first page took 8.7 s instead of 5.5 s while it warmed up). The
worker runs at a lower priority, so on two cores the server answers first.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import sys
import threading
import time
import types
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

PCA_DIMS = 50
SMALL_N = 15  # below this, UMAP's default 15 neighbours do not exist
MIN_UMAP_N = 4  # below this, UMAP's spectral layout is meaningless: PCA instead
APP_EPOCHS = 100  # umap-learn defaults to 200 (>10k points) or 500; 100 keeps neighbourhoods
# Above SAMPLE_ABOVE points, UMAP is fitted on SAMPLE_SIZE of them and the rest are placed by
# their PLACE_K nearest sampled neighbours (projection_scale.py, measured there). Where that
# starts to pay (manifold vectors, warm worker, both ways; 10-NN agreement with 1408-d in
# brackets): 15k rows full 3.05 s (0.121) / sampled 3.27 s (0.128); 20k 5.78 s (0.099) /
# 3.03 s (0.123); 40k 10.5 s (0.067) / 4.35 s (0.113).
SAMPLE_ABOVE = 15_000
SAMPLE_SIZE = 10_000
PLACE_K = 10
PLACE_SHARPNESS = 100.0
SAMPLE_SEED = 0


@dataclass(frozen=True)
class ProjectionParams:
    dims: int = 2
    n_neighbors: int = 15
    min_dist: float = 0.1
    pca_dims: int = PCA_DIMS
    n_epochs: int = APP_EPOCHS
    method: str = "umap"  # "umap" or "pca"
    # How a large collection is mapped (projection_scale.py); part of the stored map's key, so
    # a map made otherwise (or before sampling existed) is never read as this one.
    sample_above: int = SAMPLE_ABOVE
    sample_size: int = SAMPLE_SIZE
    place_k: int = PLACE_K
    place_sharpness: float = PLACE_SHARPNESS
    seed: int = SAMPLE_SEED

    def key(self, content_hash: str) -> str:
        """Stored projections are keyed by what was projected and how."""
        text = json.dumps([content_hash, asdict(self)], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass(frozen=True)
class Projection:
    coords: np.ndarray  # (n, dims) float32
    method: str  # what actually ran: "umap" or "pca"
    params: ProjectionParams
    note: str | None = None
    seconds: float = 0.0


def _as_matrix(vectors: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))


def pca(vectors: np.ndarray, dims: int) -> np.ndarray:
    """PCA to `dims` columns (zero-padded when there are fewer points or features)."""
    matrix = _as_matrix(vectors)
    n, d = matrix.shape
    out = np.zeros((n, dims), dtype=np.float32)
    keep = min(dims, n - 1, d) if n > 1 else 0
    if keep <= 0:
        return out
    from sklearn.decomposition import PCA

    # Randomized SVD, where the full SVD takes seconds; 3 power iterations instead of
    # scikit-learn's 7 halve its time (~1 s to ~0.5 s at 10k x 1408 -> 50 here), and the
    # maps' neighbourhoods do not change (bench/projection.py's kNN agreement).
    solver = "randomized" if min(n, d) > 2 * keep else "full"
    reducer = PCA(n_components=keep, svd_solver=solver, iterated_power=3, random_state=0)
    out[:, :keep] = reducer.fit_transform(matrix)
    return out


def pca_preview(vectors: np.ndarray, dims: int = 2) -> Projection:
    started = time.perf_counter()
    if len(vectors) > SAMPLE_ABOVE:  # fitted on a sample, applied in chunks: bounded memory
        from reelscope.projection_scale import reduce_rows, sample_rows

        sample = sample_rows(len(vectors), SAMPLE_SIZE, SAMPLE_SEED)
        reduced = reduce_rows(vectors, sample, dims, SAMPLE_SEED, unit_length=False)
        coords = np.zeros((len(vectors), dims), dtype=np.float32)
        coords[:, : reduced.shape[1]] = reduced
    else:
        coords = pca(normalise(vectors), dims)
    return Projection(
        coords, "pca", ProjectionParams(dims=dims, method="pca"), None,
        time.perf_counter() - started,
    )  # fmt: skip


def project(vectors: np.ndarray, params: ProjectionParams | None = None) -> Projection:
    """The map: PCA to ~50 dims then UMAP (cosine). Blocking; seconds at 10k points."""
    params = params or ProjectionParams()
    started = time.perf_counter()
    if params.method == "umap" and len(vectors) > params.sample_above:
        from reelscope.projection_scale import project_sampled

        return project_sampled(vectors, params, started)
    matrix = normalise(vectors)
    n = matrix.shape[0]
    if params.method == "pca" or n < MIN_UMAP_N:
        note = None
        if params.method != "pca":
            note = f"{n} point{'s' if n != 1 else ''}: too few for UMAP, showing PCA."
        coords = pca(matrix, params.dims)
        return Projection(coords, "pca", params, note, time.perf_counter() - started)
    neighbours = min(params.n_neighbors, n - 1)
    note = None
    if neighbours < params.n_neighbors:
        note = f"{n} points: UMAP uses {neighbours} neighbours instead of {params.n_neighbors}."
    # The PCA here (BLAS releases the GIL; in the worker, beside numba's spinning threads, it
    # took twice as long), the fit in the worker.
    reduced = pca(matrix, params.pca_dims) if matrix.shape[1] > params.pca_dims else matrix
    coords = in_worker(umap_fit, reduced, params, max(2, neighbours))
    return Projection(coords, "umap", params, note, time.perf_counter() - started)


def in_worker(function, *args):
    """Run `function(*args)` in UMAP's worker process and wait for its result."""
    try:
        result = _umap_worker().submit(function, *args).result()
    except BrokenProcessPool as exc:
        _forget_worker()
        raise RuntimeError("UMAP's worker process stopped; open the map again.") from exc
    _ready.set()  # a fit finished: the worker has umap imported and compiled
    return result


def normalise(vectors: np.ndarray) -> np.ndarray:
    matrix = _as_matrix(vectors)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


def nearest(
    unit_vectors: np.ndarray, query: np.ndarray, k: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Row ids and cosine similarities of the k nearest rows, best first (full space)."""
    return top_k(unit_vectors @ unit_query(query), k)


def unit_query(query: np.ndarray) -> np.ndarray:
    q = np.asarray(query, dtype=np.float32).ravel()
    return q / (np.linalg.norm(q) or 1.0)


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the k highest scores, highest first."""
    k = min(k, scores.shape[0])
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    top = np.argpartition(-scores, k - 1)[:k]
    order = top[np.argsort(-scores[top], kind="stable")]
    return order, scores[order]


def place_query(coords: np.ndarray, idx: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Where a query goes on the map: its neighbours' positions weighted by similarity."""
    if len(idx) == 0:
        return np.zeros(coords.shape[1], dtype=np.float32)
    weights = np.clip(np.asarray(scores, dtype=np.float64), 0, None)
    if weights.sum() <= 0:
        weights = np.ones_like(weights)
    return (coords[idx].astype(np.float64) * weights[:, None]).sum(0) / weights.sum()


# -- UMAP's worker process --

_ready = threading.Event()
_worker_lock = threading.Lock()
_worker: ProcessPoolExecutor | None = None
_warm_error: str | None = None
_warming: Future | None = None
PARENT_CHECK_S = 0.5
WORKER_NICENESS = 19  # below the server: a fit takes the CPU only when sessions leave it


def warm_up_in_background(numba_cache_dir: Path) -> Future:
    """Start (once per process) UMAP's worker, which imports umap and fits a small sample.

    `numba_cache_dir` is where the worker's numba keeps compiled code between launches.
    """
    global _warming
    with _worker_lock:
        if _warming is not None:
            return _warming
    numba_cache_dir.mkdir(parents=True, exist_ok=True)
    warm_up = _umap_worker(numba_cache_dir).submit(_warm_up)
    warm_up.add_done_callback(_warmed_up)
    with _worker_lock:
        _warming = warm_up
    return warm_up


def _umap_worker(numba_cache_dir: Path | None = None) -> ProcessPoolExecutor:
    """The one worker process (spawned: never a fork of the server's threads)."""
    global _worker
    with _worker_lock:
        if _worker is None:
            cache = str(numba_cache_dir) if numba_cache_dir else None
            _worker = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(cache, os.getpid()),
            )
            with _plain_main():
                _worker.submit(int)  # spawns the process now (in submit), under a plain __main__
        return _worker


@contextlib.contextmanager
def _plain_main() -> Iterator[None]:
    """A spawned process runs its parent's `__main__` file first. Inside a Streamlit script run
    that is the page script itself (Streamlit installs it as `__main__`): the worker would run
    the app, or die on an AppTest script. So the worker is started under an empty `__main__`."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def _forget_worker() -> None:
    global _worker
    with _worker_lock:
        _worker = None


def _start_worker(numba_cache_dir: str | None, server_pid: int) -> None:
    """In the worker: before numba is imported, where its cache goes; a lower priority; and
    an end with the server (a stopped server's worker would fit on, for nobody)."""
    if numba_cache_dir:
        os.environ.setdefault("NUMBA_CACHE_DIR", numba_cache_dir)
    with contextlib.suppress(OSError):  # a platform without nice: the same, unniced
        os.nice(WORKER_NICENESS)
    # The server's pid, not getppid(): a server killed while this one started is gone already.
    threading.Thread(
        target=_exit_with_parent, args=(server_pid,), name="parent-watch", daemon=True
    ).start()


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(0)


def umap_fit(
    reduced: np.ndarray, params: ProjectionParams, neighbours: int, seed: int | None = None
) -> np.ndarray:
    """In the worker: umap-learn's fit (cosine) of the PCA-reduced vectors; with a `seed`,
    the same every time (umap-learn then runs on one thread)."""
    import umap

    reducer = umap.UMAP(
        n_components=params.dims, n_neighbors=neighbours, min_dist=params.min_dist,
        metric="cosine", n_epochs=params.n_epochs,
        # spectral init needs a connected enough graph; tiny collections start from random
        init="spectral" if len(reduced) >= SMALL_N else "random",
        random_state=seed, n_jobs=1 if seed is not None else -1,
    )  # fmt: skip
    return reducer.fit_transform(reduced).astype(np.float32)


def _warm_up() -> None:
    """In the worker: a fit above the size where umap-learn switches from exact distances to
    NN-descent, so the real fit's code paths (NN-descent with cosine, the layout) compile."""
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(8, 64))
    sample = centers[rng.integers(0, 8, 4200)] + 0.3 * rng.normal(size=(4200, 64))
    umap_fit(pca(normalise(sample), 32), ProjectionParams(n_epochs=10), 15)


def _warmed_up(warm_up: Future) -> None:
    global _warm_error
    problem = warm_up.exception()
    if problem is not None:  # a broken umap install must not take the server down
        _warm_error = f"UMAP is unavailable: {problem}"
    _ready.set()


def umap_ready() -> bool:
    """Whether a UMAP fit would start at once (umap imported and compiled in the worker)."""
    return _ready.is_set() and _warm_error is None


def wait_umap_ready(timeout: float | None = None) -> bool:
    return _ready.wait(timeout) and _warm_error is None


def warm_up_error() -> str | None:
    return _warm_error
