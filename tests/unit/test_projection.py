"""Projection: shapes, small-N fallbacks, stored maps reused, neighbours equal brute force."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from reelscope.embeddings.figures import OTHER_COLOUR, SOURCE_PALETTE, map_figure
from reelscope.embeddings.maps import map_for, query_collection, wait_for_map
from reelscope.embeddings.store import EmbeddingStore, NewRow
from reelscope.projection import (
    ProjectionParams,
    nearest,
    normalise,
    pca_preview,
    place_query,
    project,
)

ROOT = Path(__file__).resolve().parents[2]


def _blobs(n: int, dim: int = 64, clusters: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(clusters, dim))
    labels = np.arange(n) % clusters
    return (centers[labels] + 0.2 * rng.normal(size=(n, dim))).astype(np.float32)


def test_pca_preview_shapes():
    vectors = _blobs(50)
    assert pca_preview(vectors, 2).coords.shape == (50, 2)
    assert pca_preview(vectors, 3).coords.shape == (50, 3)
    assert pca_preview(vectors[:1], 2).coords.shape == (1, 2)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_fewer_than_four_points_fall_back_to_pca(n):
    result = project(_blobs(n), ProjectionParams(dims=2))
    assert result.method == "pca" and result.coords.shape == (n, 2)
    assert "too few for UMAP" in result.note


def test_small_collections_adapt_neighbours():
    result = project(_blobs(8), ProjectionParams(dims=2))
    assert result.method == "umap" and result.coords.shape == (8, 2)
    assert "7 neighbours" in result.note
    assert np.isfinite(result.coords).all()


def test_umap_keeps_clusters_apart_in_3d():
    vectors = _blobs(90, clusters=3)
    result = project(vectors, ProjectionParams(dims=3))
    assert result.method == "umap" and result.coords.shape == (90, 3) and result.note is None
    labels = np.arange(90) % 3
    centroids = np.stack([result.coords[labels == c].mean(0) for c in range(3)])
    spread = max(np.linalg.norm(result.coords[labels == c] - centroids[c], axis=1).mean()
                 for c in range(3))  # fmt: skip
    gaps = [np.linalg.norm(centroids[a] - centroids[b]) for a in range(3) for b in range(a + 1, 3)]
    assert min(gaps) > 2 * spread


def test_nearest_equals_brute_force():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(500, 32)).astype(np.float32)
    query = rng.normal(size=32).astype(np.float32)
    idx, scores = nearest(normalise(vectors), query, k=10)
    brute = [float(v @ query / (np.linalg.norm(v) * np.linalg.norm(query))) for v in vectors]
    expected = sorted(range(500), key=lambda i: -brute[i])[:10]
    assert idx.tolist() == expected
    assert np.allclose(scores, [brute[i] for i in expected], atol=1e-5)


def test_query_placed_among_its_neighbours():
    coords = np.array([[0, 0], [10, 0], [0, 10], [100, 100]], dtype=np.float32)
    point = place_query(coords, np.array([0, 1, 2]), np.array([0.5, 0.25, 0.25]))
    assert np.allclose(point, [2.5, 2.5])
    assert np.allclose(place_query(coords, np.array([3]), np.array([-0.2])), [100, 100])


def _collection(store: EmbeddingStore, vectors: np.ndarray) -> str:
    info = store.create("map", "imported", vectors.shape[1])
    rows = [NewRow(kind="text", label=f"t{i}", source="s", source_key=f"k{i}", text=f"t{i}")
            for i in range(len(vectors))]  # fmt: skip
    store.add(info.id, rows, vectors)
    return info.id


def test_stored_projection_is_reused(tmp_path: Path):
    store = EmbeddingStore(tmp_path)
    collection_id = _collection(store, _blobs(40))
    collection = store.open(collection_id)
    params = ProjectionParams(dims=2)
    first = map_for(store, collection, params)
    assert not first.final and first.pending and first.projection.method == "pca"
    assert wait_for_map(store, collection, params, timeout=300)
    stored = map_for(store, collection, params)
    assert stored.final and not stored.pending and stored.projection.method == "umap"
    # a new store on the same folder (another process, a reopened app) gets the same map
    reopened = EmbeddingStore(tmp_path)
    again = map_for(reopened, reopened.open(collection_id), params)
    assert again.final and np.array_equal(again.projection.coords, stored.projection.coords)
    # other parameters are another map (waited for: no fit may outlive its test)
    three_d = ProjectionParams(dims=3)
    assert not map_for(store, collection, three_d).final
    assert wait_for_map(store, collection, three_d, timeout=300)


def test_figure_is_one_trace_with_row_ids_and_the_query_as_an_annotation(tmp_path: Path):
    store = EmbeddingStore(tmp_path)
    collection = store.open(_collection(store, _blobs(30)))
    preview = pca_preview(collection.vectors)
    result = query_collection(collection, collection.vectors[3], k=5, coords=preview.coords)
    assert result.rows[0] == 3 and np.isclose(result.scores[0], 1.0)
    rows = collection.rows
    hover = [*rows.hovers()[:-1], "<img src=x onerror=alert(1)>"]
    figure = map_figure(
        kinds=rows.kind, sources=rows.source, hover=hover, coords=preview.coords,
        highlight=result.rows, query_point=result.point, query_label="<b>my query</b>",
    )  # fmt: skip
    (items,) = figure.data  # one trace: Streamlit's selection indices cannot collide
    assert items.type == "scattergl" and list(items.customdata) == list(range(30))
    others = sorted(set(range(30)) - set(result.rows.tolist()))
    assert items.marker.size[3] > items.marker.size[others[0]]
    assert "<img" not in items.hovertext[-1] and "&lt;img" in items.hovertext[-1]
    query = [a for a in figure.layout.annotations if "my query" in a.text]
    assert len(query) == 1 and "<b>" not in query[0].text
    assert np.allclose([query[0].x, query[0].y], result.point)


def test_a_3d_figure_is_one_scatter3d_and_source_colours_name_the_biggest_sources():
    coords = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    sources = [f"clip{i % 15}.mp4" for i in range(40)]
    figure = map_figure(
        kinds=np.array(["video"] * 40), sources=sources, hover=["x"] * 40, coords=coords,
        color_by="source",
    )  # fmt: skip
    (items,) = figure.data
    assert items.type == "scatter3d" and len(items.x) == 40
    legend = figure.layout.annotations[0].text
    assert legend.count("●") == 12 + 1 and "3 more sources" in legend

    def colour_of(point: int) -> str:  # what Plotly draws: the scale's stop at the point's code
        marker = items.marker
        value = (marker.color[point] - marker.cmin) / (marker.cmax - marker.cmin)
        return next(colour for stop, colour in marker.colorscale if np.isclose(stop, value))

    assert colour_of(0) == colour_of(15) == SOURCE_PALETTE[0]  # clip0: among the biggest
    assert colour_of(14) == colour_of(29) == OTHER_COLOUR  # clip14: one of the 3 unnamed
    assert f'color:{SOURCE_PALETTE[0]}">●</span> clip0.mp4 (3)' in legend


_SERVER_WITH_A_WORKER = """
import sys, time
from pathlib import Path
from reelscope import projection
projection.warm_up_in_background(Path(sys.argv[1]))
pool = projection._umap_worker()
while not pool._processes:
    time.sleep(0.05)
print(*pool._processes, flush=True)
time.sleep(600)
"""


def test_umaps_worker_process_ends_with_the_server_that_started_it(tmp_path: Path):
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER_WITH_A_WORKER, str(tmp_path / "numba")],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        (worker,) = map(int, server.stdout.readline().split())
        assert _alive(worker), "the warm-up runs in a process of its own"
    finally:
        server.kill()  # as a crash would: no clean shutdown
        server.wait()
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(worker), "a stopped server's worker does not fit on for nobody"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):  # a zombie is gone too
        os.waitpid(pid, os.WNOHANG)
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def test_umaps_worker_never_runs_the_page_script_that_started_it(monkeypatch, tmp_path):
    """Streamlit installs the page script as __main__ while it runs; a process spawned then
    would run that script first (the app, or an AppTest script that dies at once)."""
    import os
    import sys
    import types

    from reelscope import projection

    page = tmp_path / "page.py"
    page.write_text("raise SystemExit('the page ran in the worker')\n")
    fake_main = types.ModuleType("__main__")
    fake_main.__file__ = str(page)
    monkeypatch.setitem(sys.modules, "__main__", fake_main)
    kept = projection._worker
    monkeypatch.setattr(projection, "_worker", None)
    worker = projection._umap_worker()
    try:
        assert worker.submit(os.getpid).result(timeout=60) != os.getpid()
        assert sys.modules["__main__"] is fake_main  # put back once the process started
    finally:
        worker.shutdown()
        monkeypatch.setattr(projection, "_worker", kept)
