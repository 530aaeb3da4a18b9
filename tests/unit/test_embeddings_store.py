"""Collections: persistence, replacement by source, export/import round trips, windows.

The tests that take `open_collections` run twice: metadata in SQLite in the data folder, and in
a throwaway PostgreSQL (tests/conftest.py); the vectors are .npy files in the folder either way.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from reelscope.embeddings import transfer
from reelscope.embeddings.items import (
    EmbeddingError,
    Item,
    ItemKind,
    SegmentConfig,
    check_item,
    text_items,
    video_windows,
)
from reelscope.embeddings.models import GEMINI, MULTIMODAL, Segment
from reelscope.embeddings.search_index import nearest_rows
from reelscope.embeddings.store import (
    IMPORTED_MODEL,
    EmbeddingStore,
    NewRow,
    normalise,
    unique_name,
)
from reelscope.embeddings.transfer import export_npy, export_parquet, import_file
from reelscope.projection import pca_preview
from tests.legacy_database import UserVersionDatabase

SHA = "5e" * 32


@pytest.fixture
def open_collections(database_url_for, tmp_path):
    """`open_collections()`: the collections of `tmp_path/data` on this test's backend (again:
    another store on the same folder and database, as a restarted server opens it)."""
    opened: list[EmbeddingStore] = []

    def open_again() -> EmbeddingStore:
        opened.append(EmbeddingStore(tmp_path / "data", database_url_for("main")))
        return opened[-1]

    yield open_again
    for store in opened:
        store.db.close()


def _filled(open_collections, n: int = 5, model: str = "multimodalembedding@001"):
    store = open_collections()
    info = store.create("films", model, 1408)
    rows = [NewRow(kind="video", label="a.mp4", source="a.mp4", source_key="sha256:a",
                   start_s=4.0 * i, end_s=4.0 * i + 4, mime_type="video/mp4", blob_sha=SHA)
            for i in range(n)]  # fmt: skip
    vectors = np.random.default_rng(0).normal(size=(n, 1408)).astype(np.float32)
    store.add(info.id, rows, vectors)
    return store, info.id, vectors


def test_rows_of_a_source_are_replaced_not_duplicated(open_collections, tmp_path):
    store, cid, _ = _filled(open_collections)
    store.add(cid, [NewRow(kind="video", label="a.mp4", source="a.mp4", source_key="sha256:a",
                           start_s=0, end_s=8)], np.ones((1, 1408), np.float32))  # fmt: skip
    collection = store.open(cid)
    assert len(collection.rows) == 1 and collection.rows.end_s.tolist() == [8.0]


def test_wrong_dimension_refused(open_collections, tmp_path):
    store, cid, _ = _filled(open_collections)
    with pytest.raises(EmbeddingError, match="one vector space"):
        store.add(cid, [NewRow(kind="text", label="x", source="x", source_key="x")],
                  np.ones((1, 256), np.float32))  # fmt: skip


def test_rows_read_from_the_database_when_the_arrow_copy_is_gone(open_collections, tmp_path):
    store, cid, _ = _filled(open_collections)
    (store.root / "collections" / cid / "rows.arrow").unlink()
    rows = open_collections().open(cid).rows
    assert rows.start_s.tolist() == [0.0, 4.0, 8.0, 12.0, 16.0]


@pytest.mark.parametrize("fmt", ["parquet", "npy"])
def test_export_import_round_trip(open_collections, tmp_path, fmt, monkeypatch):
    monkeypatch.setattr(transfer, "EXPORT_CHUNK", 2)  # the .npy written in 3 chunks
    store, cid, vectors = _filled(open_collections)
    collection = store.open(cid)
    if fmt == "parquet":
        path = export_parquet(collection, tmp_path / "out.parquet")
    else:
        path, _ = export_npy(collection, tmp_path / "out")
    info = import_file(store, path)
    again = store.open(info.id)
    assert info.model_id == "multimodalembedding@001" and info.dimension == 1408
    assert np.array_equal(np.asarray(again.vectors), vectors.astype(np.float16))  # as kept
    assert again.rows.start_s.tolist() == collection.rows.start_s.tolist()
    assert again.rows.label == collection.rows.label
    assert again.rows.blob_sha == [SHA] * 5, "the kept file: where it is kept, it plays again"


def test_new_collections_keep_their_vectors_as_float16_memory_mapped(open_collections):
    _, cid, vectors = _filled(open_collections)
    collection = open_collections().open(cid)
    assert isinstance(collection.vectors, np.memmap) and collection.vectors.dtype == np.float16
    assert np.array_equal(np.asarray(collection.vectors), vectors.astype(np.float16))
    kept = normalise(collection.vectors)
    assert np.abs((kept * normalise(vectors)).sum(axis=1) - 1).max() < 1e-4, "each direction"
    # what search compares: each row's cosine with the others, within float16's rounding
    exact = normalise(vectors) @ normalise(vectors).T
    assert (
        np.abs(normalise(collection.vectors) @ normalise(collection.vectors).T - exact).max() < 2e-3
    )
    assert nearest_rows(collection, vectors[3], 1)[0].tolist() == [3]


def test_a_float32_collection_from_before_is_read_searched_and_mapped_as_it_is(
    open_collections,
):
    """vectors.npy as every collection was written before float16: opened and used as it is,
    never rewritten by being read; it becomes float16 only when it changes anyway."""
    store, cid, vectors = _filled(open_collections, n=40)
    path = store.root / "collections" / cid / "vectors.npy"
    np.save(path, vectors)  # float32, as the writer kept it before
    before = path.read_bytes()
    collection = open_collections().open(cid)
    assert collection.vectors.dtype == np.float32
    assert np.array_equal(np.asarray(collection.vectors), vectors)
    rows, scores = nearest_rows(collection, vectors[7], 3)
    assert rows[0] == 7 and scores[0] == pytest.approx(1.0, abs=1e-6)
    assert pca_preview(collection.vectors).coords.shape == (40, 2)
    npy, _ = export_npy(collection, store.root.parent / "out")
    assert np.array_equal(np.load(npy), vectors), "an export gives back the float32 values"
    del collection
    assert path.read_bytes() == before, "reading never rewrites it"
    store.add(cid, [NewRow(kind="text", label="x", source="x", source_key="x")],
              np.ones((1, 1408), np.float32))  # fmt: skip
    changed = open_collections().open(cid)
    assert changed.vectors.dtype == np.float16 and len(changed.vectors) == 41
    assert np.array_equal(np.asarray(changed.vectors[:40]), vectors.astype(np.float16))


@pytest.mark.parametrize(
    ("scale", "kept"),
    [(1.0, np.float16), (1e5, np.float32), (1e-5, np.float32)],
    ids=["fits", "beyond float16's range", "so short its subnormals lose digits"],
)
def test_vectors_float16_cannot_hold_are_kept_as_float32(open_collections, scale, kept):
    store = open_collections()
    info = store.create("odd", IMPORTED_MODEL, 8)
    vectors = np.random.default_rng(1).normal(size=(3, 8)).astype(np.float32)
    vectors[1] *= scale
    store.add(info.id, [NewRow(kind="text", label=f"{i}", source="s", source_key=f"{i}")
                        for i in range(3)], vectors)  # fmt: skip
    collection = store.open(info.id)
    assert collection.vectors.dtype == kept
    assert np.abs(normalise(collection.vectors) - normalise(vectors)).max() < 1e-3


def test_any_parquet_of_vectors_with_labels_opens(open_collections, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {"name": ["cat", "dog", "car"], "embedding": [[1.0, 0, 0], [0.9, 0.1, 0], [0, 0, 1]]}
    )
    pq.write_table(table, tmp_path / "mine.parquet")
    store = open_collections()
    info = import_file(store, tmp_path / "mine.parquet")
    assert info.model_id == "imported" and info.dimension == 3 and info.count == 3
    assert store.open(info.id).rows.label == ["cat", "dog", "car"]


def test_npy_with_a_plain_label_list(open_collections, tmp_path):
    np.save(tmp_path / "v.npy", np.eye(4, dtype=np.float32))
    (tmp_path / "v.json").write_text(json.dumps(["a", "b", "c", "d"]))
    info = import_file(open_collections(), tmp_path / "v.npy")
    assert info.count == 4


def test_bad_files_say_what_to_do(open_collections, tmp_path):
    store = open_collections()
    (tmp_path / "x.csv").write_text("a,b")
    with pytest.raises(EmbeddingError, match="parquet"):
        import_file(store, tmp_path / "x.csv")
    np.save(tmp_path / "v.npy", np.eye(3, dtype=np.float32))
    (tmp_path / "v.json").write_text(json.dumps(["a"]))
    with pytest.raises(EmbeddingError, match="1 labels for 3 vectors"):
        import_file(store, tmp_path / "v.npy")


@pytest.mark.parametrize(
    ("name", "taken", "expected"),
    [
        ("Films", [], "Films"),
        ("Films", ["Films"], "Films (2)"),
        ("Films", ["films", "Films (2)"], "Films (3)"),  # case does not make a name new
        ("Films (2)", ["Films", "Films (2)"], "Films (3)"),  # a copy of a copy counts on
        ("Films (2)", ["Films"], "Films (2)"),
        ("(2)", ["(2)"], "(2) (2)"),
        ("Films", ["Films", "Films (3)"], "Films (2)"),  # the first free number
    ],
)
def test_a_taken_name_gets_the_first_free_number(name, taken, expected):
    assert unique_name(name, taken) == expected


def test_collections_are_created_with_unique_one_line_names(open_collections, tmp_path):
    store = open_collections()
    names = [store.create(n, "imported", 4).name for n in ("Films", " Films ", "films\n", "A\n b")]
    assert names == ["Films", "Films (2)", "films (3)", "A b"]
    with pytest.raises(EmbeddingError, match="Give the collection a name"):
        store.create(" \n ", "imported", 4)


def test_an_export_imported_twice_gets_a_new_name_each_time(open_collections, tmp_path):
    store, cid, _ = _filled(open_collections)
    path = export_parquet(store.open(cid), tmp_path / "out.parquet")
    assert [import_file(store, path).name for _ in range(2)] == ["films (2)", "films (3)"]


def test_a_hostile_file_is_read_into_the_types_its_columns_have(open_collections, tmp_path):
    rows = [
        {"kind": "video", "label": 7, "source": ["a", "list"], "start_s": "0; DROP", "end_s": -4,
         "mime_type": "text/html", "uri": "gs://b/v.mp4", "blob_sha": "../../etc/passwd"},
        {"kind": "image", "label": None, "source": {"an": "object"}, "start_s": True,
         "end_s": float("nan"), "mime_type": "image/svg+xml<script>", "text": 12},
        {"kind": "video", "label": "ok", "start_s": 4, "end_s": 8.5, "mime_type": "image/png"},
        "just a label",
    ]  # fmt: skip
    np.save(tmp_path / "v.npy", np.eye(4, dtype=np.float32))
    text = json.dumps({"name": ["not", "text"], "model_id": {"x": 1}, "rows": rows})
    (tmp_path / "v.json").write_text(text.replace("NaN", "null"))
    store = open_collections()
    info = import_file(store, tmp_path / "v.npy")
    assert (info.name, info.model_id) == ("v", "imported")
    got = store.open(info.id).rows
    assert got.label == ["7", "row 1", "ok", "just a label"]
    assert got.source == ["7", "row 1", "ok", "just a label"]
    assert got.text == [None, "12", None, None]
    assert got.mime_type == [None, None, None, None], "only a type of the row's own kind"
    assert got.blob_sha == [None] * 4 and got.uri == ["gs://b/v.mp4", None, None, None]
    assert np.isnan(got.start_s[:2]).all() and np.isnan(got.end_s[:2]).all()
    assert (got.start_s[2], got.end_s[2]) == (4.0, 8.5)


@pytest.mark.parametrize(
    "labels",
    [{"rows": "not a list"}, {"labels": {"a": 1}}],
)
def test_labels_that_are_not_lists_say_so(open_collections, tmp_path, labels):
    np.save(tmp_path / "v.npy", np.eye(2, dtype=np.float32))
    (tmp_path / "v.json").write_text(json.dumps(labels))
    with pytest.raises(EmbeddingError, match="must be lists, one per vector"):
        import_file(open_collections(), tmp_path / "v.npy")


def test_a_parquet_of_odd_vectors_or_metadata_says_what_is_wrong(open_collections, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    store = open_collections()
    table = pa.table({"label": ["a", "b"], "vector": [["1", "<img src=x>"], ["3", "4"]]})
    pq.write_table(table, tmp_path / "words.parquet")
    with pytest.raises(EmbeddingError, match="must hold numbers") as refused:
        import_file(store, tmp_path / "words.parquet")
    assert "<img" not in str(refused.value), "the message does not quote the file's values"
    table = pa.table({"label": ["a"], "vector": [[1.0, 2.0]]})
    pq.write_table(
        table.replace_schema_metadata({"reelscope": b"[not json"}), tmp_path / "m.parquet"
    )
    assert import_file(store, tmp_path / "m.parquet").name == "m"


def _video(**kw) -> Item:
    base = dict(kind=ItemKind.VIDEO, label="v", uri="gs://b/v.mp4", mime_type="video/mp4")
    return Item(**{**base, **kw})


def test_multimodal_windows_tile_whole_intervals():
    windows, notes = video_windows(
        _video(duration_s=250.0, segments=SegmentConfig(interval_s=30)), MULTIMODAL
    )
    assert [(w.start_s, w.end_s) for w in windows] == [(0, 120), (120, 240), (240, 250)]
    assert notes == []


def test_gemini_windows_follow_audio():
    silent, _ = video_windows(_video(duration_s=240.0, has_audio=False,
                                     segments=SegmentConfig(interval_s=120)), GEMINI)  # fmt: skip
    assert [(w.start_s, w.end_s) for w in silent] == [(0, 120), (120, 240)]
    assert check_item(
        _video(duration_s=240.0, has_audio=None, segments=SegmentConfig(interval_s=120)),
        GEMINI,
        3072,
    )


def test_unknown_length_is_noted():
    windows, notes = video_windows(_video(), MULTIMODAL)
    assert len(windows) == 1 and "length unknown" in notes[0]


def test_text_items_one_per_line():
    assert [i.text for i in text_items("a\n\n b \n")] == ["a", "b"]
    assert check_item(text_items("x")[0], GEMINI, 3072) == []


def test_owners_the_vector_cache_and_projections_are_kept_on_both_backends(
    open_collections, tmp_path
):
    store = open_collections()
    mine = store.create("Films", "imported", 3, owner="ann@example.com")
    np.save(tmp_path / "v.npy", np.eye(3, dtype=np.float32))
    imported = import_file(store, tmp_path / "v.npy", owner="bob@example.com")
    again = open_collections()  # a restart
    assert (again.info(mine.id).owner, again.info(imported.id).owner) == (
        "ann@example.com",
        "bob@example.com",
    )
    assert again.db.revision == "0003"

    segments = [Segment(np.arange(4, dtype=np.float32), 0.0, 4.0), Segment(np.ones(4), None, None)]
    store.cache.put("call", 4, segments)
    store.cache.put("call", 4, segments[:1])  # a repeat replaces
    [kept] = again.cache.get("call", 4)
    assert np.array_equal(kept.vector, segments[0].vector) and (kept.start_s, kept.end_s) == (0, 4)
    assert again.cache.get("other", 4) is None

    coords = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]], dtype=np.float32)
    for method in ("pca", "umap"):  # the second replaces the first
        store.save_projection(imported.id, "2d", coords, method, None, "{}")
    loaded, method, note = again.load_projection(imported.id, "2d")
    assert np.array_equal(loaded, coords) and (method, note) == ("umap", None)


def test_an_embeddings_file_from_before_alembic_is_kept(tmp_path):
    from reelscope.embeddings.store import DATABASE_FILE, MIGRATIONS

    old = UserVersionDatabase(tmp_path / "data" / "embeddings" / DATABASE_FILE, MIGRATIONS)
    with old.transaction() as tx:
        tx.execute(
            "INSERT INTO collections (id, name, model_id, dimension, created_at, updated_at) "
            "VALUES ('c1', 'Old', 'imported', 3, '2025-01-01', '2025-01-01')"
        )
    old.close()
    store = EmbeddingStore(tmp_path / "data")
    assert [(c.id, c.name, c.owner) for c in store.collections()] == [("c1", "Old", "local")]
    store.db.close()
