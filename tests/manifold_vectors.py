"""Embedding-like vectors that are hard to search and to map: overlapping clusters on a curved
low-dimensional manifold inside a high-dimensional space (1408-d, the multimodal model's size).

Not well-separated blobs, where every method scores 1.0: here the clusters' spread is as wide as
the distances between their centres, so a point's true neighbours often belong to other clusters,
and the manifold is curved (random Fourier features of the latent points), so straight-line
shortcuts (PCA, coarse quantisation) lose neighbours. A little isotropic noise keeps the points
off the manifold, as real embeddings are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DIM = 1408
LATENT_DIMS = 8
CLUSTERS = 24
SPREAD = 0.8  # a cluster's standard deviation, in units of the centres' spread: they overlap
BANDWIDTH = 0.6  # the manifold's curvature: larger bends it more within one cluster
NOISE = 0.15  # off-manifold noise, relative to the manifold's own per-dimension scale
CHUNK = 50_000  # rows generated at once (a million rows would otherwise need 2 copies in RAM)


@dataclass(frozen=True)
class ManifoldData:
    rows: np.ndarray  # (n, dim) float32
    queries: np.ndarray  # (queries, dim) float32, drawn like the rows, not among them
    clusters: np.ndarray  # (n,) each row's cluster: to check that the clusters overlap


def manifold_vectors(
    n: int, dim: int = DIM, *, seed: int = 0, queries: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """`n` float32 rows (n, dim) and `queries` more from the same distribution, not among them."""
    data = manifold_data(n, dim, seed=seed, queries=queries)
    return data.rows, data.queries


def manifold_data(
    n: int, dim: int = DIM, *, seed: int = 0, queries: int = 0, out: np.ndarray | None = None
) -> ManifoldData:
    """The same seed gives the same space (centres and embedding), so queries drawn with it are
    near the rows as a user's text or image query is near a collection. `out` (n, dim) float32,
    e.g. a memory-mapped .npy, receives the rows: a million never need 5.6 GB of RAM."""
    space = np.random.default_rng(seed)
    centres = space.normal(size=(CLUSTERS, LATENT_DIMS))
    weights = space.normal(scale=BANDWIDTH, size=(LATENT_DIMS, dim)).astype(np.float32)
    phases = space.uniform(0, 2 * np.pi, size=dim).astype(np.float32)
    points = np.random.default_rng([seed, n])
    rows = np.empty((n, dim), dtype=np.float32) if out is None else out
    clusters = np.empty(n, dtype=np.int64)
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        rows[start:stop], clusters[start:stop] = _sample(
            points, centres, weights, phases, stop - start
        )
    asked, _ = _sample(np.random.default_rng([seed, n, queries]), centres, weights, phases, queries)
    return ManifoldData(rows, asked, clusters)


def _sample(
    rng: np.random.Generator,
    centres: np.ndarray,
    weights: np.ndarray,
    phases: np.ndarray,
    count: int,
) -> tuple[np.ndarray, np.ndarray]:
    cluster = rng.integers(0, len(centres), count)
    latent = centres[cluster] + SPREAD * rng.normal(size=(count, centres.shape[1]))
    manifold = np.cos(latent.astype(np.float32) @ weights + phases)  # per-dim std ~0.7
    noise = rng.normal(scale=NOISE * 0.7, size=manifold.shape).astype(np.float32)
    return manifold + noise, cluster


def text_like(queries: np.ndarray, seed: int = 5) -> np.ndarray:
    """Unit queries from another modality, as a text is against video segments: mostly a shared
    offset no row has, plus noise, so their best cosine is ~0.3 instead of ~0.8. HNSW's greedy
    walk finds these hardest: they start far from every row."""
    rng = np.random.default_rng(seed)
    gap = rng.normal(size=queries.shape[1])
    noise = _unit(rng.normal(size=queries.shape))
    return _unit(0.35 * _unit(queries) + 0.8 * gap / np.linalg.norm(gap) + 0.45 * noise)


def _unit(matrix: np.ndarray) -> np.ndarray:
    return (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)
