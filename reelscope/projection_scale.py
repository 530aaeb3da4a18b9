"""Maps of large collections: UMAP fitted on a sample, every other point placed by its
nearest sampled neighbours in the same PCA space.

Above `SAMPLE_ABOVE` points (projection.py), `project` comes here (and `pca_preview` uses the
same sample's PCA, so a million rows' preview is seconds, not a 5.6 GB copy):
1. a random sample of `sample_size` rows (a fixed seed: the same collection, the same sample);
2. PCA fitted on the sample's unit vectors, then every row through it a chunk at a time, so a
   memory-mapped million rows (5.6 GB at 1408-d) is never copied whole: only the (n, 50)
   reduced matrix is (200 MB at a million);
3. in UMAP's worker process: UMAP (cosine) on the sample with the seed, then each row's
   `place_k` nearest sampled rows (a usearch HNSW index over the sample's reduced vectors) and
   its position as their positions' mean, weighted by exp(sharpness × (cosine − best cosine)).

Measured at 100k × 1408 (tests/manifold_vectors.py, 10-NN agreement of 2000 rows' 2-D
neighbours with their neighbours in the original space; umap-learn's default: 0.040 in 98 s):
- sample 10k: PCA ~1 s, UMAP fit ~1.7 s (unseeded), placement by exact numpy top-k 20 s, by usearch
  2.8 s with the same neighbours (agreement equal to 4 decimals);
- weights: similarity (as `place_query`) 0.017, sharpness 30: 0.026, 100: 0.100 — sharp
  weights keep rows that share their nearest sampled row together, as their true neighbours
  are; k 5/10/20 changed it by < 0.003. Seen as a 400×400 density image: at 30 the placed
  rows are pulled towards dense centres (bright blobs UMAP did not draw); at 300 (0.158) they
  sit on their sampled rows in specks (15% of bins occupied instead of 21% at 100);
- sample 20k scored no better (0.088) at twice the fit;
- umap-learn's `transform` for the other rows: 58.7 s for its first call, then 18.8 s for the
  100k, agreement 0.016: slower and worse than the neighbours' weighted mean.
The map is the same for the same rows and seed (UMAP's `random_state`, which runs it on one
thread, yet a whole sampled map of 20k rows took 3.0 s; usearch's graph built on one thread).
"""

from __future__ import annotations

import time

import numpy as np

from reelscope.projection import (
    Projection,
    ProjectionParams,
    in_worker,
    umap_fit,
)

CHUNK = 16_384  # rows normalised and reduced at once (90 MB of float32 at 1408-d)
INDEX_CONNECTIVITY = 16
INDEX_EXPANSION = 64  # usearch's ef for adding and searching: found the exact top-10 at 100k


def sample_rows(n: int, size: int, seed: int) -> np.ndarray:
    """`size` distinct row ids of `n`, sorted; the same for the same (n, size, seed)."""
    if size >= n:
        return np.arange(n, dtype=np.int64)
    chosen = np.random.default_rng(seed).choice(n, size, replace=False)
    return np.sort(chosen).astype(np.int64)


def project_sampled(vectors: np.ndarray, params: ProjectionParams, started: float) -> Projection:
    """The map of a large collection (see the module's docstring); `started` is when the
    caller started timing."""
    n = len(vectors)
    sample = sample_rows(n, params.sample_size, params.seed)
    reduced = reduce_rows(vectors, sample, params.pca_dims, params.seed)
    coords = in_worker(_fit_and_place, reduced, sample, params)
    note = (
        f"UMAP fitted on {len(sample):,} of {n:,} points; the others are placed by their "
        "nearest sampled neighbours."
    )
    return Projection(coords, "umap", params, note, time.perf_counter() - started)


def reduce_rows(
    vectors: np.ndarray, sample: np.ndarray, dims: int, seed: int, *, unit_length: bool = True
) -> np.ndarray:
    """Every row's unit vector through a PCA fitted on the sample's, to unit length again
    unless `unit_length` is False (placement compares them by cosine; a PCA preview shows
    them as they are): (n, min(dims, d)) float32, a chunk at a time."""
    from sklearn.decomposition import PCA

    n, d = vectors.shape
    out = np.empty((n, min(dims, d)), dtype=np.float32)
    if d > dims:
        # randomized, 3 power iterations: as projection.pca, for the same reason
        reducer = PCA(n_components=dims, svd_solver="randomized", iterated_power=3,
                      random_state=seed).fit(_unit(vectors[sample]))  # fmt: skip
        axes = reducer.components_.T.astype(np.float32)  # (d, dims)
        offset = (reducer.mean_ @ axes).astype(np.float32)
    for start in range(0, n, CHUNK):
        chunk = np.asarray(vectors[start : start + CHUNK], dtype=np.float32)
        norms = np.sqrt(np.einsum("ij,ij->i", chunk, chunk))[:, None]
        norms[norms == 0] = 1
        # (x / |x| - mean) @ axes, without a normalised or centred copy of the chunk
        reduced = (chunk @ axes) / norms - offset if d > dims else chunk / norms
        out[start : start + CHUNK] = _unit(reduced) if unit_length else reduced
    return out


def _unit(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


def _fit_and_place(reduced: np.ndarray, sample: np.ndarray, params: ProjectionParams):
    """In UMAP's worker: the sample's fit, then every row placed by it."""
    fitted = umap_fit(reduced[sample], params, params.n_neighbors, seed=params.seed)
    return place_by_neighbours(reduced, sample, fitted, params.place_k, params.place_sharpness)


def place_by_neighbours(
    reduced: np.ndarray,
    sample: np.ndarray,
    sample_coords: np.ndarray,
    k: int,
    sharpness: float,
) -> np.ndarray:
    """Each row's map position from its `k` nearest sampled rows (cosine in `reduced`); the
    sampled rows keep their own. The same input gives the same output."""
    from usearch.index import Index

    index = Index(
        ndim=reduced.shape[1], metric="cos", dtype="f32", connectivity=INDEX_CONNECTIVITY,
        expansion_add=INDEX_EXPANSION, expansion_search=INDEX_EXPANSION,
    )  # fmt: skip
    try:
        # one thread adds: the graph, and so every row's neighbours, are the same each run
        index.add(np.arange(len(sample)), reduced[sample], threads=1)
        k = min(k, len(sample))
        coords = np.empty((len(reduced), sample_coords.shape[1]), dtype=np.float32)
        for start in range(0, len(reduced), CHUNK * 4):
            found = index.search(reduced[start : start + CHUNK * 4], k)
            # a row with fewer than k found (not seen at these sizes) weighs only those found
            kept = np.arange(k) < np.asarray(found.counts).reshape(-1, 1)
            keys = np.where(kept, np.asarray(found.keys).reshape(-1, k), 0).astype(np.int64)
            similarity = 1.0 - np.asarray(found.distances, dtype=np.float32).reshape(-1, k)
            similarity = np.where(kept, similarity, -np.inf)
            weights = np.exp(sharpness * (similarity - similarity.max(axis=1, keepdims=True)))
            placed = (sample_coords[keys] * weights[..., None]).sum(axis=1)
            coords[start : start + CHUNK * 4] = placed / weights.sum(axis=1, keepdims=True)
    finally:
        index.reset()  # frees the graph now, not when the worker next collects garbage
    coords[sample] = sample_coords
    return coords
