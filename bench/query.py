"""Benchmark: a query among 50k stored vectors, from the embedding answer to the map.

The collection of bench/map_open.py (50k x 1408, a stored 2-D map). In the same run:
- `query_50k_ms`: from an embedding answer (a vector) to the ranked top 10 by cosine in the
  full space and the query's place on the map (weighted mean of its neighbours), median of 20
  (goal <= 50);
- `query_50k_brute_ms`: the same ranking by a full argsort (the naive baseline).
Run with `.venv/bin/python -m bench.query` (part of `make bench`).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.map_open import DIM, build
from reelscope.embeddings.maps import query_collection
from reelscope.embeddings.store import EmbeddingStore


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="reelscope-bench-") as folder:
        root = Path(folder)
        collection_id, params = build(root)
        store = EmbeddingStore(root)
        collection = store.open(collection_id)
        key = params.key(collection.info.content_hash)
        coords, *_ = store.load_projection(collection_id, key)
        collection.unit_vectors()  # done once when the page opens the collection
        queries = np.random.default_rng(1).normal(size=(20, DIM)).astype(np.float32)
        times, brute = [], []
        for q in queries:
            started = time.perf_counter()
            result = query_collection(collection, q, k=10, coords=coords)
            times.append(time.perf_counter() - started)
            started = time.perf_counter()
            unit = collection.unit_vectors()
            order = np.argsort(-(unit @ (q / np.linalg.norm(q))))[:10]
            brute.append(time.perf_counter() - started)
            assert order.tolist() == result.rows.tolist()
    print(f"bench query_50k_brute_ms: {statistics.median(brute) * 1000:.1f}")
    print(f"bench query_50k_ms: {statistics.median(times) * 1000:.1f}")


if __name__ == "__main__":
    main()
