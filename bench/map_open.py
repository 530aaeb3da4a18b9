"""Benchmark: opening a stored map of 50k points.

A collection of 50k x 1408 vectors with a stored 2-D map (written once, untimed). Then, in
the same run:
- `map_open_50k_s`: a fresh `EmbeddingStore` opens the collection (rows + memory-mapped
  vectors), loads the stored map, builds the Plotly Scattergl figure the page draws
  (`figures.map_figure`, hover texts included) and serialises it the way Streamlit does
  (`plotly.io.to_json(validate=False)`) (goal < 1);
- `map_open_50k_load_s`: the load alone (the floor);
Run with `.venv/bin/python -m bench.map_open` (part of `make bench`).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import plotly.io

from reelscope.embeddings.figures import map_figure
from reelscope.embeddings.store import EmbeddingStore, NewRow
from reelscope.projection import ProjectionParams

N, DIM = 50_000, 1408


def build(root: Path) -> tuple[str, ProjectionParams]:
    rng = np.random.default_rng(0)
    store = EmbeddingStore(root)
    info = store.create("bench 50k", "multimodalembedding@001", DIM)
    vectors = rng.normal(size=(N, DIM)).astype(np.float32)
    rows = [
        NewRow(kind="video", label=f"clip{i // 100}.mp4", source=f"clip{i // 100}.mp4",
               source_key=f"sha256:{i // 100}", start_s=(i % 100) * 4.0,
               end_s=(i % 100) * 4.0 + 4, mime_type="video/mp4")
        for i in range(N)
    ]  # fmt: skip
    info = store.add(info.id, rows, vectors)
    params = ProjectionParams()
    coords = rng.normal(size=(N, 2)).astype(np.float32)
    store.save_projection(info.id, params.key(info.content_hash), coords, "umap", None, "{}")
    return info.id, params


def open_map(root: Path, collection_id: str, params: ProjectionParams) -> tuple[float, float, int]:
    started = time.perf_counter()
    store = EmbeddingStore(root)
    collection = store.open(collection_id)
    coords, _method, _note = store.load_projection(
        collection_id, params.key(collection.info.content_hash)
    )
    loaded = time.perf_counter() - started
    rows = collection.rows  # the figure as the page builds it: hover texts included
    figure = map_figure(kinds=rows.kind, sources=rows.source, hover=rows.hovers(), coords=coords)
    spec = plotly.io.to_json(figure, validate=False)
    store.db.close()
    return time.perf_counter() - started, loaded, len(spec)


def main() -> None:
    import plotly.graph_objects  # noqa: F401  (the page has it imported already)

    with tempfile.TemporaryDirectory(prefix="reelscope-bench-") as folder:
        root = Path(folder)
        collection_id, params = build(root)
        open_map(root, collection_id, params)  # first touch: page cache, plotly validators
        runs = [open_map(root, collection_id, params) for _ in range(5)]
        total = statistics.median(r[0] for r in runs)
        loaded = statistics.median(r[1] for r in runs)

    print(f"map figure JSON: {runs[0][2] / 1e6:.1f} MB")
    print(f"bench map_open_50k_load_s: {loaded:.3f}")
    print(f"bench map_open_50k_s: {total:.3f}")


if __name__ == "__main__":
    main()
