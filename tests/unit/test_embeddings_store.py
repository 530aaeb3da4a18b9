"""Collections: persistence, replacement by source, export/import round trips, windows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from reelscope.embeddings.items import (
    EmbeddingError,
    Item,
    ItemKind,
    SegmentConfig,
    check_item,
    text_items,
    video_windows,
)
from reelscope.embeddings.models import GEMINI, MULTIMODAL
from reelscope.embeddings.store import EmbeddingStore, NewRow, unique_name
from reelscope.embeddings.transfer import export_npy, export_parquet, import_file

SHA = "5e" * 32


def _filled(tmp_path: Path, n: int = 5, model: str = "multimodalembedding@001"):
    store = EmbeddingStore(tmp_path / "data")
    info = store.create("films", model, 1408)
    rows = [NewRow(kind="video", label="a.mp4", source="a.mp4", source_key="sha256:a",
                   start_s=4.0 * i, end_s=4.0 * i + 4, mime_type="video/mp4", blob_sha=SHA)
            for i in range(n)]  # fmt: skip
    vectors = np.random.default_rng(0).normal(size=(n, 1408)).astype(np.float32)
    store.add(info.id, rows, vectors)
    return store, info.id, vectors


def test_rows_of_a_source_are_replaced_not_duplicated(tmp_path):
    store, cid, _ = _filled(tmp_path)
    store.add(cid, [NewRow(kind="video", label="a.mp4", source="a.mp4", source_key="sha256:a",
                           start_s=0, end_s=8)], np.ones((1, 1408), np.float32))  # fmt: skip
    collection = store.open(cid)
    assert len(collection.rows) == 1 and collection.rows.end_s.tolist() == [8.0]


def test_wrong_dimension_refused(tmp_path):
    store, cid, _ = _filled(tmp_path)
    with pytest.raises(EmbeddingError, match="one vector space"):
        store.add(cid, [NewRow(kind="text", label="x", source="x", source_key="x")],
                  np.ones((1, 256), np.float32))  # fmt: skip


def test_rows_read_from_sqlite_when_the_arrow_copy_is_gone(tmp_path):
    store, cid, _ = _filled(tmp_path)
    (store.root / "collections" / cid / "rows.arrow").unlink()
    rows = EmbeddingStore(tmp_path / "data").open(cid).rows
    assert rows.start_s.tolist() == [0.0, 4.0, 8.0, 12.0, 16.0]


@pytest.mark.parametrize("fmt", ["parquet", "npy"])
def test_export_import_round_trip(tmp_path, fmt):
    store, cid, vectors = _filled(tmp_path)
    collection = store.open(cid)
    if fmt == "parquet":
        path = export_parquet(collection, tmp_path / "out.parquet")
    else:
        path, _ = export_npy(collection, tmp_path / "out")
    info = import_file(store, path)
    again = store.open(info.id)
    assert info.model_id == "multimodalembedding@001" and info.dimension == 1408
    assert np.array_equal(np.asarray(again.vectors), vectors)
    assert again.rows.start_s.tolist() == collection.rows.start_s.tolist()
    assert again.rows.label == collection.rows.label
    assert again.rows.blob_sha == [SHA] * 5, "the kept file: where it is kept, it plays again"


def test_any_parquet_of_vectors_with_labels_opens(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {"name": ["cat", "dog", "car"], "embedding": [[1.0, 0, 0], [0.9, 0.1, 0], [0, 0, 1]]}
    )
    pq.write_table(table, tmp_path / "mine.parquet")
    store = EmbeddingStore(tmp_path / "data")
    info = import_file(store, tmp_path / "mine.parquet")
    assert info.model_id == "imported" and info.dimension == 3 and info.count == 3
    assert store.open(info.id).rows.label == ["cat", "dog", "car"]


def test_npy_with_a_plain_label_list(tmp_path):
    np.save(tmp_path / "v.npy", np.eye(4, dtype=np.float32))
    (tmp_path / "v.json").write_text(json.dumps(["a", "b", "c", "d"]))
    info = import_file(EmbeddingStore(tmp_path / "data"), tmp_path / "v.npy")
    assert info.count == 4


def test_bad_files_say_what_to_do(tmp_path):
    store = EmbeddingStore(tmp_path / "data")
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


def test_collections_are_created_with_unique_one_line_names(tmp_path):
    store = EmbeddingStore(tmp_path / "data")
    names = [store.create(n, "imported", 4).name for n in ("Films", " Films ", "films\n", "A\n b")]
    assert names == ["Films", "Films (2)", "films (3)", "A b"]
    with pytest.raises(EmbeddingError, match="Give the collection a name"):
        store.create(" \n ", "imported", 4)


def test_an_export_imported_twice_gets_a_new_name_each_time(tmp_path):
    store, cid, _ = _filled(tmp_path)
    path = export_parquet(store.open(cid), tmp_path / "out.parquet")
    assert [import_file(store, path).name for _ in range(2)] == ["films (2)", "films (3)"]


def test_a_hostile_file_is_read_into_the_types_its_columns_have(tmp_path):
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
    store = EmbeddingStore(tmp_path / "data")
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
def test_labels_that_are_not_lists_say_so(tmp_path, labels):
    np.save(tmp_path / "v.npy", np.eye(2, dtype=np.float32))
    (tmp_path / "v.json").write_text(json.dumps(labels))
    with pytest.raises(EmbeddingError, match="must be lists, one per vector"):
        import_file(EmbeddingStore(tmp_path / "data"), tmp_path / "v.npy")


def test_a_parquet_of_odd_vectors_or_metadata_says_what_is_wrong(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    store = EmbeddingStore(tmp_path / "data")
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
