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
from reelscope.embeddings.store import EmbeddingStore, NewRow
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
