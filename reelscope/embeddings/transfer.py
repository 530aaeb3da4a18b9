"""Export a collection (Parquet, or NPY + JSON) and import vectors with labels as a collection.

A Parquet file has one row per vector: the row's metadata columns and `vector`, a fixed-size
list of float32; the schema metadata names the model and dimension, so an exported collection
comes back in the same space (queries work). Any other file of vectors with labels opens too:
a list column of numbers (`vector`, `embedding`, or the first such column) and a label column
(`label`, `text`, `name`, or the first string column); its model is "imported".

An imported file is untrusted: every value is read into the type its column has here (text,
seconds, a media type, a content hash) or dropped, so a file of odd values opens or says what is
wrong, never fails halfway. Its strings are shown only through reelscope/untrusted.py.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np

from reelscope.embeddings.items import EmbeddingError
from reelscope.embeddings.models import EMBEDDING_MODELS
from reelscope.embeddings.store import (
    IMPORTED_MODEL,
    Collection,
    CollectionInfo,
    EmbeddingStore,
    NewRow,
)
from reelscope.spool import is_content_hash
from reelscope.tasks import LOCAL_OWNER

META_KEY = b"reelscope"
EXPORT_CHUNK = 16_384  # rows converted to float32 at once (90 MB at 1408-d)
COLUMNS = (
    "kind", "label", "source", "source_key", "start_s", "end_s", "text", "mime_type", "uri",
    "blob_sha",
)  # fmt: skip
VECTOR_NAMES = ("vector", "embedding", "embeddings", "vectors")
_MEDIA_TYPE = re.compile(r"^(video|image)/[A-Za-z0-9.+-]{1,60}$")
LABEL_NAMES = ("label", "text", "name", "title", "caption")


def _meta(collection: Collection) -> dict:
    info = collection.info
    return {"name": info.name, "model_id": info.model_id, "dimension": info.dimension}


def _columns(collection: Collection) -> dict[str, list]:
    rows = collection.rows
    return {
        "kind": [str(k) for k in rows.kind],
        "label": rows.label,
        "source": rows.source,
        "source_key": rows.source_key,
        "start_s": [None if np.isnan(v) else float(v) for v in rows.start_s],
        "end_s": [None if np.isnan(v) else float(v) for v in rows.end_s],
        "text": rows.text,
        "mime_type": rows.mime_type,
        "uri": rows.uri,
        # the kept file's content hash: a collection imported where that file is kept plays
        "blob_sha": rows.blob_sha,
    }


def export_parquet(collection: Collection, path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    vectors = np.ascontiguousarray(collection.vectors, dtype=np.float32)
    flat = pa.array(vectors.reshape(-1), type=pa.float32())
    column = pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1])
    table = pa.table({**_columns(collection), "vector": column})
    table = table.replace_schema_metadata({META_KEY: json.dumps(_meta(collection)).encode()})
    pq.write_table(table, path)
    return path


def export_npy(collection: Collection, folder: Path, stem: str = "collection") -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    npy, meta = folder / f"{stem}.npy", folder / f"{stem}.json"
    # float32 (what any reader expects), converted a chunk at a time from the stored float16
    vectors = collection.vectors
    out = np.lib.format.open_memmap(npy, mode="w+", dtype=np.float32, shape=vectors.shape)
    for start in range(0, len(vectors), EXPORT_CHUNK):
        out[start : start + EXPORT_CHUNK] = vectors[start : start + EXPORT_CHUNK]
    out.flush()
    del out
    columns = _columns(collection)
    rows = [
        dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)
    ]
    meta.write_text(json.dumps({**_meta(collection), "rows": rows}, ensure_ascii=False))
    return npy, meta


def import_file(
    store: EmbeddingStore,
    path: Path,
    name: str | None = None,
    labels_path: Path | None = None,
    *,
    owner: str = LOCAL_OWNER,
) -> CollectionInfo:
    """Open a file of vectors as a new collection of `owner`'s. Raises EmbeddingError saying
    what to fix."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        vectors, rows, meta = _read_parquet(path)
    elif suffix == ".npy":
        vectors, rows, meta = _read_npy(path, labels_path or path.with_suffix(".json"))
    else:
        raise EmbeddingError(
            f"{path.name}: open a .parquet file, or a .npy file (with a .json of labels)."
        )
    if vectors.ndim != 2 or len(vectors) == 0:
        raise EmbeddingError(f"{path.name}: no vectors found (expected rows of numbers).")
    if not np.isfinite(vectors).all():
        raise EmbeddingError(f"{path.name}: some vectors hold NaN or infinite numbers.")
    model_id = _text(meta.get("model_id")) or IMPORTED_MODEL
    model = EMBEDDING_MODELS.get(model_id)
    if model is None or vectors.shape[1] not in model.dimensions:
        model_id = IMPORTED_MODEL  # unknown space: searchable by its own points only
    title = name or _text(meta.get("name")) or path.stem
    info = store.create(title, model_id, vectors.shape[1], owner=owner)
    return store.add(info.id, rows, vectors)


def _read_parquet(path: Path) -> tuple[np.ndarray, list[NewRow], dict]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise EmbeddingError(f"{path.name} is not a readable Parquet file: {exc}") from exc
    meta = _meta_of((table.schema.metadata or {}).get(META_KEY))
    vector_name = _pick(table.schema, VECTOR_NAMES, lambda t: pa.types.is_list(t) or
                        pa.types.is_fixed_size_list(t) or pa.types.is_large_list(t))  # fmt: skip
    if vector_name is None:
        raise EmbeddingError(f"{path.name}: no column of vectors (a list of numbers per row).")
    try:
        vectors = np.array(table.column(vector_name).to_pylist(), dtype=np.float32)
    except (ValueError, TypeError) as exc:  # its message may quote the file: not shown
        raise EmbeddingError(
            f"{path.name}: the “{vector_name}” column must hold numbers, as many in every row."
        ) from exc
    columns = {n: table.column(n).to_pylist() for n in table.column_names if n != vector_name}
    if "label" not in columns:
        label_name = _pick(table.schema, LABEL_NAMES, pa.types.is_string)
        fallback = [f"row {i}" for i in range(len(vectors))]
        columns["label"] = table.column(label_name).to_pylist() if label_name else fallback
    return vectors, _rows(columns, len(vectors)), meta


def _read_npy(path: Path, labels_path: Path) -> tuple[np.ndarray, list[NewRow], dict]:
    try:
        vectors = np.load(path, allow_pickle=False).astype(np.float32)
    except (ValueError, OSError) as exc:
        raise EmbeddingError(f"{path.name} is not a readable .npy array: {exc}") from exc
    meta: dict = {}
    columns: dict[str, list] = {"label": [f"row {i}" for i in range(len(vectors))]}
    if labels_path.exists():
        try:
            data = json.loads(labels_path.read_text())
        except (ValueError, OSError) as exc:
            raise EmbeddingError(f"{labels_path.name} is not readable JSON: {exc}") from exc
        if isinstance(data, list):  # a plain list of labels
            columns["label"] = data
        elif isinstance(data, dict):
            meta = {k: data[k] for k in ("name", "model_id", "dimension") if k in data}
            records = _records(data, labels_path.name)
            if records:
                columns = {k: [r.get(k) for r in records] for k in COLUMNS}
        if len(columns["label"]) != len(vectors):
            raise EmbeddingError(
                f"{labels_path.name} has {len(columns['label'])} labels for {len(vectors)} vectors."
            )
    return vectors, _rows(columns, len(vectors)), meta


def _records(data: dict, file_name: str) -> list[dict]:
    """The JSON's rows (objects), or its labels as rows; anything else is refused."""
    records = data.get("rows") or [{"label": x} for x in _list(data.get("labels"), file_name)]
    return [r if isinstance(r, dict) else {"label": r} for r in _list(records, file_name)]


def _list(value: object, file_name: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise EmbeddingError(f"{file_name}: “rows” and “labels” must be lists, one per vector.")
    return value


def _meta_of(raw: bytes | None) -> dict:
    """The file's own description (name, model, size), or none when it is not a JSON object."""
    try:
        meta = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _pick(schema, names: tuple[str, ...], accepts) -> str | None:
    by_name = {f.name.lower(): f for f in schema}
    for name in names:
        if name in by_name and accepts(by_name[name].type):
            return by_name[name].name
    return next((f.name for f in schema if accepts(f.type)), None)


def _rows(columns: dict[str, list], n: int) -> list[NewRow]:
    def col(name: str) -> list:
        return columns.get(name) or [None] * n

    kinds, labels, sources = col("kind"), col("label"), col("source")
    keys, starts, ends = col("source_key"), col("start_s"), col("end_s")
    texts, mimes, uris, shas = col("text"), col("mime_type"), col("uri"), col("blob_sha")
    rows = []
    for i in range(n):
        label = _text(labels[i]) or f"row {i}"
        kind = _text(kinds[i]) or "imported"
        rows.append(
            NewRow(
                kind=kind,
                label=label,
                source=_text(sources[i]) or label,
                # each imported row stands for itself: replacing by source must not merge rows
                source_key=_text(keys[i]) or f"row:{i}",
                start_s=_seconds(starts[i]),
                end_s=_seconds(ends[i]),
                text=_text(texts[i]),
                mime_type=_media_type(mimes[i], kind),
                uri=_text(uris[i]),
                blob_sha=shas[i] if is_content_hash(shas[i]) else None,
            )
        )
    return rows


def _text(value: object) -> str | None:
    """A string column's value: numbers and the like as their text, nothing as None."""
    if value is None or isinstance(value, dict | list):
        return None
    text = value if isinstance(value, str) else str(value)
    return text or None


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


def _media_type(value: object, kind: str) -> str | None:
    """A video's or an image's type, when it names one of that kind: it is served as such."""
    if not isinstance(value, str) or not _MEDIA_TYPE.match(value):
        return None
    return value if value.startswith(f"{kind}/") else None
