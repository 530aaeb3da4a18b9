"""Benchmark: search among a million stored vectors (issue 16), by the index and by brute force.

A collection of 1,000,000 x 1408 vectors that are hard to search (tests/manifold_vectors.py:
overlapping clusters on a curved low-dimensional manifold), stored as the app stores it (float16
vectors.npy, in a temporary folder). Half of the 500 queries are drawn like the rows, half like
a text query against video segments (far from every row). In the same run:
- `query_1m_build_s`: `build_index` with two threads (the app's background task uses one and
  yields to the server's sessions, so there it takes about twice as long);
- `query_1m_ms_p95` / `query_1m_ms_median`: `nearest_rows` by the saved, memory-mapped index,
  top 10 including the exact re-rank, each query timed alone (goal p95 <= 50);
- `query_1m_recall_at_10`: the index's top 10 against brute force's over the same stored
  vectors, every query scanned exactly, a chunk of rows at a time (goal >= 0.95); printed
  apart for the near and the text-like half (each must reach the goal);
- `query_1m_bruteforce_ms`: `search_index.brute_force` of one query over the memory-mapped
  collection, median of 3 (the baseline: numpy's scan, float16 converted chunk by chunk);
  beside it `query_1m_no_index_scan_ms`, what the app answers with while the index is being
  built (`search_index.exact_scan`: usearch's exact SIMD scan of the stored rows, re-ranked);
- float16's cost (issue 16 item 2): the rows are generated a second time in float32 (never
  stored), and `query_1m_f16_vectors_recall_at_10` is brute force's top 10 over the float16
  rows against its top 10 over the float32 ones, `query_1m_f16_max_cos_error` the largest
  difference between a score the app returned and that row's float32 cosine;
- the text-like queries' wider walk (search_index.FAR_WALK) at other widths, for the choice;
- `query_1m_peak_rss_gb`: this process's peak RSS (goal: under ~8 GB on a shared machine).
Run with `.venv/bin/python -m bench.query_1m` (part of `make bench`; ~40 min on two shared
cores, ~29 of them the build).
"""

from __future__ import annotations

import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from reelscope.embeddings import search_index
from reelscope.embeddings.search_index import (
    brute_force,
    build_index,
    exact_scan,
    nearest_rows,
    uses_index,
)
from reelscope.embeddings.store import IMPORTED_MODEL, EmbeddingStore, NewRow, normalise
from tests.manifold_vectors import manifold_data, text_like

N, DIM, SEED = 1_000_000, 1408, 7
QUERIES = 500  # half near the rows, half text-like
K = 10
SCAN_CHUNK = 16_384  # rows of the exact scans at once (~90 MB in float32)
BRUTE_RUNS = 3
ALTERNATIVE_WALKS = (0, 512, 2048)  # the choice of FAR_WALK, measured in the same run


class _Chunks:
    """Receives the generator's rows a chunk at a time (its `out`), so a million float32 rows
    never sit in memory or on disk."""

    def __init__(self, take: Callable[[int, np.ndarray], None]) -> None:
        self._take = take

    def __setitem__(self, rows: slice, chunk: np.ndarray) -> None:
        self._take(rows.start, chunk)


class _ExactTop:
    """The exact top k of every query by cosine, fed a chunk of rows at a time."""

    def __init__(self, queries: np.ndarray, k: int) -> None:
        self.queries = normalise(queries)
        self.scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        self.rows = np.zeros((len(queries), k), dtype=np.int64)

    def add(self, start: int, chunk: np.ndarray) -> np.ndarray:
        scores = self.queries @ normalise(chunk).T
        both = np.concatenate([self.scores, scores], axis=1)
        ids = np.concatenate([self.rows, np.broadcast_to(start + np.arange(len(chunk)),
                                                         scores.shape)], axis=1)  # fmt: skip
        keep = np.argpartition(-both, self.scores.shape[1] - 1, axis=1)[:, : self.scores.shape[1]]
        self.scores = np.take_along_axis(both, keep, axis=1)
        self.rows = np.take_along_axis(ids, keep, axis=1)
        return scores

    def top(self) -> list[set[int]]:
        return [set(r.tolist()) for r in self.rows]


def _store(root: Path, vectors: np.ndarray) -> tuple[EmbeddingStore, str]:
    store = EmbeddingStore(root / "data")
    info = store.create("bench 1m", IMPORTED_MODEL, DIM)
    rows = [
        NewRow(kind="video", label=f"s{i}", source=f"v{i // 100}.mp4", source_key=f"k{i}")
        for i in range(N)
    ]
    store.add(info.id, rows, vectors)
    return store, info.id


def _recall(found: list[np.ndarray], truth: list[set[int]]) -> float:
    return float(np.mean([len(truth[i] & set(f.tolist())) / K for i, f in enumerate(found)]))


def _with_far_walk(
    walk: int, collection, queries: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray]:
    """Every query's top 10 and time (ms) with search_index.FAR_WALK set to `walk`."""
    chosen = search_index.FAR_WALK
    search_index.FAR_WALK = walk
    try:
        found, ms = [], []
        for q in queries:
            started = time.perf_counter()
            found.append(nearest_rows(collection, q, K)[0])
            ms.append((time.perf_counter() - started) * 1000)
    finally:
        search_index.FAR_WALK = chosen
    return found, np.array(ms)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="reelscope-bench-") as folder:
        root = Path(folder)
        generated = np.lib.format.open_memmap(
            root / "generated.npy", mode="w+", dtype=np.float16, shape=(N, DIM)
        )
        drawn = manifold_data(N, seed=SEED, queries=QUERIES // 2, out=generated).queries
        queries = np.concatenate([drawn, text_like(drawn)])
        store, collection_id = _store(root, generated)
        del generated
        (root / "generated.npy").unlink()
        collection = store.open(collection_id)
        assert collection.vectors.dtype == np.float16, collection.vectors.dtype

        started = time.perf_counter()
        build_index(collection, threads=2)
        build_s = time.perf_counter() - started
        assert uses_index(collection)

        nearest_rows(collection, queries[0], K)  # first touch: the index file's header
        timings, found, returned = [], [], []
        for q in queries:
            started = time.perf_counter()
            rows, scores = nearest_rows(collection, q, K)
            timings.append(time.perf_counter() - started)
            found.append(rows)
            returned.append(scores)

        other_walks = {}  # the text-like queries' wider walk at other widths (0: none)
        for walk in ALTERNATIVE_WALKS:
            other_walks[walk] = _with_far_walk(walk, collection, queries)

        exact16 = _ExactTop(queries, K)
        for start in range(0, N, SCAN_CHUNK):
            exact16.add(start, collection.vectors[start : start + SCAN_CHUNK])

        brute, scanned = [], []
        for q in queries[:BRUTE_RUNS]:
            started = time.perf_counter()
            brute_force(collection.vectors, q, K)
            brute.append(time.perf_counter() - started)
            started = time.perf_counter()
            exact_scan(collection, q, K)  # the answer while the index is being built
            scanned.append(time.perf_counter() - started)
        del collection
        store.db.close()

    # The same rows again, in float32 this time, straight from the generator into the scan.
    exact32 = _ExactTop(queries, K)
    wanted = np.stack(found)  # the rows the app returned: their float32 cosines
    cos32 = np.full(wanted.shape, np.nan, dtype=np.float32)

    def scan32(start: int, chunk: np.ndarray) -> None:
        scores = exact32.add(start, chunk)
        inside = (wanted >= start) & (wanted < start + len(chunk))
        cos32[inside] = scores[np.nonzero(inside)[0], wanted[inside] - start]

    manifold_data(N, seed=SEED, queries=QUERIES // 2, out=_Chunks(scan32))
    cos_error = float(np.abs(np.stack(returned) - cos32).max())

    truth16, truth32 = exact16.top(), exact32.top()
    near, far = slice(0, QUERIES // 2), slice(QUERIES // 2, QUERIES)
    ms = np.array(timings) * 1000
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # KiB on Linux
    print(f"recall@10 near the rows: {_recall(found[near], truth16[near]):.3f}")
    print(f"recall@10 text-like: {_recall(found[far], truth16[far]):.3f}")
    print(f"recall@10 against float32 rows (index and float16 together): "
          f"{_recall(found, truth32):.3f}")  # fmt: skip
    for walk, (walk_found, walk_ms) in other_walks.items():
        print(f"FAR_WALK {walk} instead of {search_index.FAR_WALK}: recall@10 near "
              f"{_recall(walk_found[near], truth16[near]):.3f}, text-like "
              f"{_recall(walk_found[far], truth16[far]):.3f}; ms median "
              f"{np.median(walk_ms):.1f}, p95 {np.percentile(walk_ms, 95):.1f}")  # fmt: skip
    print(f"bench query_1m_build_s: {build_s:.0f}")
    print(f"bench query_1m_ms_p95: {np.percentile(ms, 95):.1f}")
    print(f"bench query_1m_ms_median: {np.median(ms):.1f}")
    print(f"bench query_1m_recall_at_10: {_recall(found, truth16):.3f}")
    print(f"bench query_1m_bruteforce_ms: {statistics.median(brute) * 1000:.0f}")
    print(f"bench query_1m_no_index_scan_ms: {statistics.median(scanned) * 1000:.0f}")
    f16_recall = np.mean([len(a & b) / K for a, b in zip(truth16, truth32, strict=True)])
    print(f"bench query_1m_f16_vectors_recall_at_10: {f16_recall:.3f}")
    print(f"bench query_1m_f16_max_cos_error: {cos_error:.6f}")
    print(f"bench query_1m_peak_rss_gb: {peak_gb:.1f}")


if __name__ == "__main__":
    main()
