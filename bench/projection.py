"""Benchmark: the app's map of 10k x 1408 vectors against umap-learn's default, same run.

Data: 20 Gaussian clusters in 1408-d, L2-normalised (what embedding models give). Both sides
are warmed first (umap import ~13 s and numba compilation ~30-40 s on this 2-core machine),
then timed:
- `projection_10k_ratio`: `reelscope.projection.project` (PCA to 50, UMAP cosine, 100 epochs)
  over `umap.UMAP(metric="cosine").fit_transform` (goal <= 0.35);
- `projection_10k_knn_delta`: the default's 10-NN label agreement in 2-D minus the app's
  (goal <= 0.02): how much of each point's 2-D neighbourhood shares its cluster.
Run with `.venv/bin/python -m bench.projection` (part of `make bench`).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from reelscope.projection import ProjectionParams, project, wait_umap_ready, warm_up_in_background

N, DIM, CLUSTERS = 10_000, 1408, 20
NOISE = 4.5  # enough overlap that 2-D neighbourhoods are not trivially pure


def clustered(n: int = N, dim: int = DIM, clusters: int = CLUSTERS, seed: int = 0):
    """`clusters` Gaussian blobs, L2-normalised; returns (vectors, labels)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(clusters, dim)).astype(np.float32)
    labels = rng.integers(0, clusters, n)
    points = centers[labels] + NOISE * rng.normal(size=(n, dim)).astype(np.float32)
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    return points.astype(np.float32), labels


def knn_agreement(coords: np.ndarray, labels: np.ndarray, k: int = 10) -> float:
    """Mean share of each point's k nearest 2-D neighbours that carry its label."""
    from sklearn.neighbors import NearestNeighbors

    _, idx = NearestNeighbors(n_neighbors=k + 1).fit(coords).kneighbors(coords)
    return float((labels[idx[:, 1:]] == labels[:, None]).mean())


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="reelscope-numba-") as cache:
        started = time.perf_counter()
        warm_up_in_background(Path(cache))
        assert wait_umap_ready(600), "UMAP warm-up failed"
        import umap

        vectors, labels = clustered()
        # warm both code paths on the real data once: a first fit of a size compiles more
        project(vectors, ProjectionParams())
        umap.UMAP(metric="cosine", n_epochs=5).fit_transform(vectors)
        print(f"warm-up: {time.perf_counter() - started:.1f} s")

        t = time.perf_counter()
        default = umap.UMAP(metric="cosine").fit_transform(vectors)
        default_s = time.perf_counter() - t
        ours = project(vectors, ProjectionParams())
        app_s = ours.seconds
    default_knn = knn_agreement(default, labels)
    app_knn = knn_agreement(ours.coords, labels)
    print(f"bench projection_10k_default_s: {default_s:.2f}")
    print(f"bench projection_10k_app_s: {app_s:.2f}")
    print(f"bench projection_10k_default_knn: {default_knn:.4f}")
    print(f"bench projection_10k_app_knn: {app_knn:.4f}")
    print(f"bench projection_10k_ratio: {app_s / default_s:.3f}")
    print(f"bench projection_10k_knn_delta: {default_knn - app_knn:.4f}")


if __name__ == "__main__":
    main()
