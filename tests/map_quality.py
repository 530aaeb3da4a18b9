"""How well a map keeps neighbourhoods: the share of a row's k nearest rows in the original
space (cosine) that are also among its k nearest on the map (Euclidean), averaged over probe
rows. Used by tests/unit/test_projection_scale.py and bench/projection_scale.py."""

from __future__ import annotations

import numpy as np

CHUNK = 50_000  # rows compared with the probes at once


def probe_rows(n: int, count: int = 2000, seed: int = 7) -> np.ndarray:
    return np.sort(np.random.default_rng(seed).choice(n, min(count, n), replace=False))


def true_neighbours(vectors: np.ndarray, probes: np.ndarray, k: int = 10) -> np.ndarray:
    """(probes, k) row ids of each probe's k nearest other rows by cosine, chunk by chunk."""
    query = _unit(vectors[probes])
    best_ids = np.zeros((len(probes), 0), dtype=np.int64)
    best_sims = np.zeros((len(probes), 0), dtype=np.float32)
    for start in range(0, len(vectors), CHUNK):
        sims = query @ _unit(vectors[start : start + CHUNK]).T
        ids = np.arange(start, start + sims.shape[1])
        sims[ids[None, :] == probes[:, None]] = -np.inf  # a row is not its own neighbour
        ids = np.concatenate([best_ids, np.broadcast_to(ids, sims.shape)], axis=1)
        sims = np.concatenate([best_sims, sims], axis=1)
        keep = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        best_ids = np.take_along_axis(ids, keep, 1)
        best_sims = np.take_along_axis(sims, keep, 1)
    return best_ids


def neighbour_agreement(coords: np.ndarray, probes: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of each probe's true neighbours (`truth`, from `true_neighbours`) that are
    among its k nearest other rows on the map."""
    from sklearn.neighbors import KDTree

    k = truth.shape[1]
    # k + 1 and drop the probe itself (rows placed on one spot may list it anywhere)
    _, found = KDTree(coords).query(coords[probes], k=k + 1)
    shares = [
        len(set(row[row != probe][:k].tolist()) & set(true.tolist())) / k
        for row, probe, true in zip(found, probes, truth, strict=True)
    ]
    return float(np.mean(shares))


def _unit(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
