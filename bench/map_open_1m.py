"""Benchmark: opening a stored map of 1M points (a density image and the points drawn over it).

A collection of 1,000,000 rows (10,000 videos x 100 segments) with a stored 2-D map of random
coordinates, written once and untimed; its vectors are 128-d (the model's smallest), since
opening the map reads the stored coordinates and the rows, never the vectors. In the same run:
- `map_open_1m_s`: a fresh `EmbeddingStore` opens the collection (rows + memory-mapped vectors),
  loads the stored map and builds the figure the page draws (`figures.map_figure`: the
  datashader density image of every point, the 20k points drawn over it with their hover
  texts), serialised the way Streamlit does (`plotly.io.to_json(validate=False)`) (goal <= 2);
  the median of 5, after one untimed open;
- `map_open_1m_load_s`: the load alone (the floor);
- `map_open_1m_first_s`: the first figure of the process, as in a server's first open: it
  imports datashader (its shading; the counting is numpy, so no numba kernel is compiled).
Run with `.venv/bin/python -m bench.map_open_1m` (part of `make bench`).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import plotly.io

from reelscope.embeddings.store import EmbeddingStore, NewRow
from reelscope.projection import ProjectionParams

N, DIM, SEGMENTS = 1_000_000, 128, 100


def build(root: Path) -> tuple[str, ProjectionParams]:
    rng = np.random.default_rng(0)
    store = EmbeddingStore(root)
    info = store.create("bench 1m", "multimodalembedding@001", DIM)
    rows = [
        NewRow(kind="video", label=f"clip{i // SEGMENTS}.mp4", source=f"clip{i // SEGMENTS}.mp4",
               source_key=f"sha256:{i // SEGMENTS}", start_s=(i % SEGMENTS) * 4.0,
               end_s=(i % SEGMENTS) * 4.0 + 4, mime_type="video/mp4")
        for i in range(N)
    ]  # fmt: skip
    info = store.add(info.id, rows, rng.normal(size=(N, DIM)).astype(np.float32))
    params = ProjectionParams()
    coords = rng.normal(size=(N, 2)).astype(np.float32)
    store.save_projection(info.id, params.key(info.content_hash), coords, "umap", None, "{}")
    store.db.close()
    return info.id, params


def open_map(root: Path, collection_id: str, params: ProjectionParams) -> tuple[float, float, int]:
    from reelscope.embeddings.figures import map_figure

    started = time.perf_counter()
    store = EmbeddingStore(root)
    collection = store.open(collection_id)
    coords, _method, _note = store.load_projection(
        collection_id, params.key(collection.info.content_hash)
    )
    loaded = time.perf_counter() - started
    rows = collection.rows  # as the page builds it: hover texts of the drawn rows only
    figure = map_figure(
        kinds=rows.kind, sources=rows.source, coords=coords,
        hover=lambda ids: [rows.hover(i) for i in ids.tolist()],
    )  # fmt: skip
    spec = plotly.io.to_json(figure, validate=False)
    store.db.close()
    return time.perf_counter() - started, loaded, len(spec)


def main() -> None:
    import plotly.graph_objects  # noqa: F401  (the page has it imported already)

    with tempfile.TemporaryDirectory(prefix="reelscope-bench-") as folder:
        root = Path(folder)
        collection_id, params = build(root)
        first = open_map(root, collection_id, params)
        runs = [open_map(root, collection_id, params) for _ in range(5)]
        total = statistics.median(r[0] for r in runs)
        loaded = statistics.median(r[1] for r in runs)

    print(f"map figure JSON: {runs[0][2] / 1e6:.1f} MB")
    print(f"bench map_open_1m_first_s: {first[0]:.3f}")
    print(f"bench map_open_1m_load_s: {loaded:.3f}")
    print(f"bench map_open_1m_s: {total:.3f}")


if __name__ == "__main__":
    main()
