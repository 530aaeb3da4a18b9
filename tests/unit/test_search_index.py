"""The search index (reelscope/embeddings/search_index.py) against brute force, on vectors that
are hard to search: overlapping clusters on a curved low-dimensional manifold in 1408-d
(tests/manifold_vectors.py), with queries like a user's (near the rows) and like a text query
against video segments (far from every row: the modality gap)."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from reelscope.embeddings import search_index
from reelscope.embeddings.maps import query_collection, similarity_matrix
from reelscope.embeddings.search_index import (
    BRUTE_FORCE_BELOW,
    IndexBuild,
    build_index,
    ensure_index,
    has_index,
    index_path,
    nearest_rows,
    uses_index,
)
from reelscope.embeddings.store import IMPORTED_MODEL, EmbeddingStore, NewRow, normalise
from reelscope.projection import nearest
from reelscope.tasks import TaskRegistry, TaskState
from tests.manifold_vectors import DIM, manifold_data, manifold_vectors, text_like

N = 4 * BRUTE_FORCE_BELOW  # searched by its index
QUERIES = 100


def _rows(n: int, first: int = 0) -> list[NewRow]:
    return [
        NewRow(kind="video", label=f"s{i}", source=f"v{i // 50}.mp4", source_key=f"k{i}")
        for i in range(first, first + n)
    ]


def _collection(store: EmbeddingStore, vectors: np.ndarray):
    info = store.create("search", IMPORTED_MODEL, vectors.shape[1])
    store.add(info.id, _rows(len(vectors)), vectors)
    return store.open(info.id)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    """A collection of N rows with its index built, and queries the rows do not contain."""
    vectors, queries = manifold_vectors(N, queries=QUERIES, seed=3)
    store = EmbeddingStore(tmp_path_factory.mktemp("indexed"))
    collection = _collection(store, vectors)
    build_index(collection, threads=2)
    yield collection, queries
    store.db.close()


@pytest.mark.parametrize("kind", ["near the rows", "text-like, far from every row"])
def test_recall_at_10_against_brute_force(indexed, kind):
    collection, queries = indexed
    if kind != "near the rows":
        queries = text_like(queries)
    assert uses_index(collection)
    unit = collection.unit_vectors()
    recall = []
    for q in queries:
        truth, _ = nearest(unit, q, 10)
        found, _ = nearest_rows(collection, q, 10)
        recall.append(len(set(found.tolist()) & set(truth.tolist())) / 10)
    assert np.mean(recall) >= 0.95, (kind, np.mean(recall), sorted(recall)[:5])
    assert min(recall) >= 0.5, (kind, sorted(recall)[:5])  # no query strays from its neighbours


def _recalls(collection, queries: np.ndarray) -> np.ndarray:
    unit = collection.unit_vectors()
    return np.array([
        len(set(nearest_rows(collection, q, 10)[0].tolist()) & set(nearest(unit, q, 10)[0].tolist()))
        / 10
        for q in queries
    ])  # fmt: skip


def test_a_query_far_from_every_row_is_walked_wider_where_the_walk_strays(indexed, monkeypatch):
    """With the walk narrowed to the 40 candidates asked (ef 8), text-like queries stray: some
    miss every one of their 10 neighbours. Asked again wider, as a query whose best candidate
    is below FAR_BELOW is, they find them."""
    collection, queries = indexed
    far = text_like(queries)
    path = index_path(collection)
    monkeypatch.setattr(search_index, "EXPANSION_SEARCH", 8)
    search_index._close(path)  # reopened with the narrow walk
    try:
        monkeypatch.setattr(search_index, "FAR_WALK", 0)
        strayed = _recalls(collection, far)
        assert strayed.min() < 0.5, "the data no longer shows the walk straying"
        monkeypatch.setattr(search_index, "FAR_WALK", 1024)
        widened = _recalls(collection, far)
        assert widened.mean() >= 0.95 and widened.min() >= 0.5, sorted(widened)[:5]
        assert (_recalls(collection, queries) >= 0.5).all(), "near queries too"
    finally:
        search_index._close(path)  # the next test opens it with the module's own walk


def test_the_clusters_overlap():
    """A guard on the data: a row's 10 nearest rows are often of other clusters (with
    well-separated blobs every one is of its own, and every index scores 1.0)."""
    data = manifold_data(N, seed=3)
    unit = normalise(data.rows)
    sample = np.arange(0, N, 20)
    scores = unit[sample] @ unit.T
    scores[np.arange(len(sample)), sample] = -2  # not itself
    neighbours = np.argpartition(-scores, 10, axis=1)[:, :10]
    own = (data.clusters[neighbours] == data.clusters[sample, None]).mean()
    assert 0.3 < own < 0.85, own


def test_returned_scores_are_exact_cosines_best_first(indexed):
    collection, queries = indexed
    unit = collection.unit_vectors()
    for q in np.concatenate([queries[:10], text_like(queries[:10])]):
        rows, scores = nearest_rows(collection, q, 10)
        exact = unit[rows] @ (q / np.linalg.norm(q))
        np.testing.assert_allclose(scores, exact, rtol=0, atol=1e-6)
        assert np.all(np.diff(scores) <= 0)


@pytest.mark.parametrize(
    ("k", "expected"),
    [(1, 1), (10, 10), (N, N), (N + 7, N), (0, 0)],
)
def test_k_is_capped_at_the_collection_size(indexed, k, expected):
    collection, queries = indexed
    rows, scores = nearest_rows(collection, queries[0], k)
    assert len(rows) == len(scores) == expected
    assert len(set(rows.tolist())) == expected


def test_a_query_through_the_map_uses_the_index_and_places_the_query(indexed):
    collection, queries = indexed
    coords = np.random.default_rng(0).normal(size=(N, 2)).astype(np.float32)
    result = query_collection(collection, queries[0], k=10, coords=coords)
    truth, _ = nearest(collection.unit_vectors(), queries[0], 10)
    assert len(set(result.rows.tolist()) & set(truth.tolist())) >= 9
    assert result.point is not None and result.point.shape == (2,)


def test_brute_force_below_the_threshold_even_with_an_index_file(tmp_path: Path):
    vectors, queries = manifold_vectors(500, queries=5, seed=1)
    store = EmbeddingStore(tmp_path)
    collection = _collection(store, vectors)
    assert ensure_index(collection, tasks=TaskRegistry()) is None  # too small to want one
    build_index(collection)  # made anyway: it is still not used
    assert has_index(collection) and not uses_index(collection)
    for q in queries:
        rows, scores = nearest_rows(collection, q, 10)
        truth, exact = nearest(collection.unit_vectors(), q, 10)
        assert rows.tolist() == truth.tolist()
        np.testing.assert_allclose(scores, exact, rtol=0, atol=1e-6)  # float32 rounding


def test_saved_index_is_reopened_by_a_new_store_without_a_build(indexed, monkeypatch):
    collection, queries = indexed
    path = index_path(collection)
    assert path is not None and path.exists()
    assert collection.info.content_hash in path.name
    written = path.stat().st_mtime_ns
    before = [nearest_rows(collection, q, 10)[0].tolist() for q in queries[:10]]
    monkeypatch.setattr(search_index, "_open", OrderedDict())  # as in a new server process
    store = EmbeddingStore(collection.folder.parents[2])
    reopened = store.open(collection.info.id)
    assert ensure_index(reopened, tasks=TaskRegistry()) is None  # stored: nothing to build
    assert uses_index(reopened)
    after = [nearest_rows(reopened, q, 10)[0].tolist() for q in queries[:10]]
    assert after == before
    assert path.stat().st_mtime_ns == written
    store.db.close()


def test_a_changed_collection_never_uses_the_old_index(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(search_index, "BRUTE_FORCE_BELOW", 1000)
    vectors, queries = manifold_vectors(2000, queries=1, seed=2)
    store = EmbeddingStore(tmp_path)
    collection = _collection(store, vectors)
    old = build_index(collection)
    assert uses_index(collection)
    # A new row equal to the query: only an index of the new version can know it.
    store.add(collection.info.id, _rows(1, first=len(vectors)), queries)
    changed = store.open(collection.info.id)
    assert index_path(changed) != old
    assert not uses_index(changed)  # brute force until its own index exists
    rows, scores = nearest_rows(changed, queries[0], 3)
    assert rows[0] == len(vectors) and scores[0] == pytest.approx(1.0, abs=1e-6)
    new = build_index(changed)
    assert uses_index(changed) and new.exists()
    assert nearest_rows(changed, queries[0], 3)[0][0] == len(vectors)
    assert ensure_index(changed, tasks=TaskRegistry()) is None
    assert not old.exists()  # the page's next look removes the old version's file


def test_a_build_of_an_earlier_version_is_stopped_and_never_removes_the_current_index(
    tmp_path: Path, monkeypatch
):
    monkeypatch.setattr(search_index, "BRUTE_FORCE_BELOW", 1000)
    vectors, queries = manifold_vectors(2000, queries=1, seed=12)
    store = EmbeddingStore(tmp_path)
    first = _collection(store, vectors)
    store.add(first.info.id, _rows(1, first=len(vectors)), queries)
    second = store.open(first.info.id)
    tasks = TaskRegistry()
    stale = IndexBuild(first)
    tasks.add(stale)  # as if still building when the collection changed (not started)
    current = ensure_index(second, tasks=tasks)
    assert stale.status is TaskState.CANCELLED
    assert current is not None and current.wait(60) and uses_index(second)
    build_index(first)  # an earlier version's build that ends after the current one
    assert has_index(second) and uses_index(second)
    store.db.close()


def test_an_empty_collection_has_no_rows_and_no_index(tmp_path: Path):
    store = EmbeddingStore(tmp_path)
    info = store.create("empty", IMPORTED_MODEL, DIM)
    collection = store.open(info.id)
    rows, scores = nearest_rows(collection, np.ones(DIM, np.float32), 10)
    assert len(rows) == len(scores) == 0
    assert not uses_index(collection)
    assert ensure_index(collection, tasks=TaskRegistry()) is None
    result = query_collection(collection, np.ones(DIM, np.float32), k=10)
    assert len(result.rows) == 0 and result.point is None
    store.db.close()


def test_the_build_is_a_task_that_stores_the_index_once(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(search_index, "BRUTE_FORCE_BELOW", 1000)
    vectors, queries = manifold_vectors(3000, queries=1, seed=4)
    store = EmbeddingStore(tmp_path)
    collection = _collection(store, vectors)
    tasks = TaskRegistry()
    assert not uses_index(collection)
    rows, _ = nearest_rows(collection, queries[0], 5)  # answered meanwhile, by brute force
    build = ensure_index(collection, tasks=tasks)
    assert isinstance(build, IndexBuild)
    assert ensure_index(collection, tasks=tasks) is build  # never started twice
    assert build.wait(120) and build.status is TaskState.DONE, build.progress().text
    assert build.progress().text == "Search index stored."
    assert uses_index(collection) and ensure_index(collection, tasks=tasks) is None
    assert nearest_rows(collection, queries[0], 5)[0].tolist() == rows.tolist()
    store.db.close()


def test_a_cancelled_build_writes_nothing(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(search_index, "BRUTE_FORCE_BELOW", 1000)
    monkeypatch.setattr(search_index, "BUILD_CHUNK", 256)
    vectors, _ = manifold_vectors(3000, seed=4)
    store = EmbeddingStore(tmp_path)
    collection = _collection(store, vectors)
    build = IndexBuild(collection)
    server = os.getpriority(os.PRIO_PROCESS, 0)
    niceness = []

    def stop_after_the_first_chunk(done: int, total: int) -> None:  # as Stop pressed then
        niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        build.cancel()

    build._step = stop_after_the_first_chunk
    build.start()
    assert build.wait(60) and build.status is TaskState.CANCELLED
    assert niceness == [search_index.BUILD_NICENESS]  # it ran below the server's sessions
    assert os.getpriority(os.PRIO_PROCESS, 0) == server  # the test's own thread is as it was
    assert not has_index(collection)
    assert not list(collection.folder.glob(".search-*"))  # no temporary file left either
    tasks = TaskRegistry()
    tasks.add(build)
    assert ensure_index(collection, tasks=tasks) is build  # stopped: not started on a rerun
    again = ensure_index(collection, tasks=tasks, retry=True)
    assert again is not build and again.wait(60) and has_index(collection)
    store.db.close()


def test_open_indexes_stay_bounded(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(search_index, "BRUTE_FORCE_BELOW", 100)
    monkeypatch.setattr(search_index, "_open", OrderedDict())
    store = EmbeddingStore(tmp_path)
    for seed in range(search_index.KEEP_OPEN + 2):
        vectors, queries = manifold_vectors(200, queries=1, seed=seed)
        collection = _collection(store, vectors)
        build_index(collection)
        nearest_rows(collection, queries[0], 3)
    assert search_index.open_index_count() == search_index.KEEP_OPEN
    store.db.close()


def test_a_damaged_index_file_falls_back_to_brute_force(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(search_index, "BRUTE_FORCE_BELOW", 100)
    monkeypatch.setattr(search_index, "_open", OrderedDict())
    vectors, queries = manifold_vectors(300, queries=1, seed=6)
    store = EmbeddingStore(tmp_path)
    collection = _collection(store, vectors)
    path = index_path(collection)
    path.write_bytes(b"not an index")
    rows, _ = nearest_rows(collection, queries[0], 5)
    assert rows.tolist() == nearest(collection.unit_vectors(), queries[0], 5)[0].tolist()
    assert not path.exists()  # removed, so the next build writes it again
    build = ensure_index(collection, tasks=TaskRegistry())
    assert isinstance(build, IndexBuild) and build.wait(60) and uses_index(collection)
    store.db.close()


def test_similarity_matrix_normalises_only_the_rows_it_compares(tmp_path: Path):
    vectors, _ = manifold_vectors(400, seed=8)
    store = EmbeddingStore(tmp_path)
    collection = _collection(store, vectors)
    texts, segments = np.array([5, 3, 300]), np.array([0, 399, 7, 7])
    similarity = similarity_matrix(collection, texts, segments)
    unit = normalise(collection.vectors)  # as stored (float16)
    np.testing.assert_allclose(similarity, unit[texts] @ unit[segments].T, atol=1e-6)
    assert collection._unit is None  # the whole unit matrix was never made
    store.db.close()


@pytest.mark.parametrize(("n", "k"), [(0, 5), (1, 5), (16, 16), (17, 5), (100, 10), (100, 200)])
def test_brute_force_in_chunks_equals_one_pass(monkeypatch, n, k):
    monkeypatch.setattr(search_index, "SCAN_CHUNK", 16)
    vectors = np.random.default_rng(n).normal(size=(n, 32)).astype(np.float32)
    query = np.random.default_rng(99).normal(size=32)
    rows, scores = search_index.brute_force(vectors, query, k)
    truth, exact = nearest(normalise(vectors), query, k)
    assert rows.tolist() == truth.tolist()
    np.testing.assert_allclose(scores, exact, rtol=0, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])  # as stored now, and before
def test_a_large_collection_without_its_index_is_scanned_exactly(
    tmp_path: Path, monkeypatch, dtype
):
    monkeypatch.setattr(search_index, "UNIT_MATRIX_MAX_BYTES", 0)  # as a 1M collection is
    vectors, queries = manifold_vectors(3000, queries=4, seed=10)
    store = EmbeddingStore(tmp_path)
    monkeypatch.setattr("reelscope.embeddings.store.STORED_DTYPE", dtype)
    collection = _collection(store, vectors)
    assert collection.vectors.dtype == dtype and not uses_index(collection)
    for q in [*queries, *text_like(queries)]:
        rows, scores = nearest_rows(collection, q, 10)
        truth, exact = nearest(normalise(collection.vectors), q, 10)  # as stored
        assert rows.tolist() == truth.tolist()
        np.testing.assert_allclose(scores, exact, rtol=0, atol=1e-6)
    assert collection._unit is None  # no whole unit matrix was made or kept
    store.db.close()
