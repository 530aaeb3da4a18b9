"""Collections in the data folder: metadata and the vector cache in SQLite (or, with
REELSCOPE_DATABASE_URL, in the shared PostgreSQL), vectors in .npy.

Layout under `<data_dir>/embeddings/`:
- `embeddings.sqlite` (reelscope.database.SharedDatabase, Alembic migrations in
  reelscope/migrations/embeddings): collections with their owner, their rows (what each vector
  is: kind, label, source, segment times), the vector cache and stored projections;
- `collections/<id>/vectors.npy`: the collection's (n, d) matrix, memory-mapped on open, so a
  collection of 50k × 1408 reopens in milliseconds (see bench/map_open.py); float16 (half the
  disk, page cache and bucket of float32; see `stored_dtype`), or float32 as collections were
  written before, or whose values float16 cannot hold: read either, never forced to change;
- `collections/<id>/projection-<key>.npy`: stored map coordinates;
- `collections/<id>/search-<content hash>-<params>.usearch`: its search index
  (reelscope/embeddings/search_index.py; with a bucket, also beside that version there);
- `blobs/<sha256>`: uploaded bytes the collections refer to.

Why .npy for collections and blobs for the cache: a map needs the whole matrix at once (one
file read, or none with mmap), while the cache is looked up call by call, by key.

With REELSCOPE_BUCKET (reelscope/bucket_copies.py) the folder is a cache of the bucket: each
version of a collection's vectors and rows is written to
`reelscope/collections/<id>/<content_hash>/` before the database names that version, and stored
maps (their key holds the content hash) to `reelscope/collections/<id>/projection-<key>.npy`.
An instance whose copy is missing or of another version (`version` beside it says which)
fetches the current one when it opens the collection.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reelscope.bucket_copies import COLLECTIONS_PREFIX, BucketCopies
from reelscope.database import SharedDatabase, sqlite_url
from reelscope.embeddings.items import (
    EMBEDDINGS_DIRNAME,
    BlobStore,
    EmbeddingError,
    ItemKind,
    blobs_dir,
)
from reelscope.embeddings.job_book import JobBook
from reelscope.embeddings.models import EMBEDDING_MODELS, Segment, check_dimension
from reelscope.owners import NotYours
from reelscope.storage import StagingError
from reelscope.tasks import LOCAL_OWNER

ROWS_FILE = "rows.arrow"  # a columnar copy of the rows table: what a map opens
ROW_COLUMNS = (
    "kind", "label", "source", "source_key", "start_s", "end_s", "text", "mime_type",
    "blob_sha", "uri",
)  # fmt: skip
IMPORTED_MODEL = "imported"  # a collection of vectors from a file: searchable by its own rows
DATABASE_FILE = "embeddings.sqlite"
VECTORS_FILE = "vectors.npy"
# Vectors kept as float16: at a million rows of 1408-d, 2.8 GB instead of 5.6 (on disk, in the
# page cache, in the bucket). Its cost on search quality, bench/query_1m.py (1M rows, 500
# queries, half text-like): brute force over the float16 rows finds the float32 rows' top 10
# (recall@10 1.000), a cosine the app returns is within 1.8e-5 of the float32 one, and the
# index over float16 rows recalls 0.999 of the float32 rows' top 10.
STORED_DTYPE = np.float16
# float16's range: its largest finite value, and a row norm below which its subnormals (absolute
# step 6e-8) would cost more precision than its rounding does (relative 5e-4).
F16_MAX = float(np.finfo(np.float16).max)
F16_MIN_NORM = 0.01
FIT_CHUNK = 16_384  # rows checked at once: a million are never all float32 in memory
VERSION_FILE = "version"  # the content hash of the vectors and rows beside it (with a bucket)
SCHEMA = "embeddings"  # its migrations: reelscope/migrations/embeddings

# The user_version steps of an embeddings.sqlite from before Alembic; migration 0001 finishes them.
MIGRATIONS = (
    """
    CREATE TABLE collections (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, model_id TEXT NOT NULL,
        dimension INTEGER NOT NULL, count INTEGER NOT NULL DEFAULT 0,
        content_hash TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL, imported INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE rows (
        collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
        row INTEGER NOT NULL, kind TEXT NOT NULL, label TEXT NOT NULL, source TEXT NOT NULL,
        source_key TEXT NOT NULL, start_s REAL, end_s REAL, text TEXT, mime_type TEXT,
        blob_sha TEXT, uri TEXT, PRIMARY KEY (collection_id, row)
    );
    CREATE TABLE cache (
        key TEXT PRIMARY KEY, dimension INTEGER NOT NULL, count INTEGER NOT NULL,
        spans BLOB NOT NULL, vectors BLOB NOT NULL, created_at TEXT NOT NULL
    );
    CREATE TABLE projections (
        collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
        key TEXT NOT NULL, method TEXT NOT NULL, note TEXT, params TEXT NOT NULL,
        PRIMARY KEY (collection_id, key)
    )
    """,
)


@dataclass(frozen=True)
class CollectionInfo:
    id: str
    name: str
    model_id: str
    dimension: int
    count: int
    content_hash: str
    created_at: str
    updated_at: str
    imported: bool
    owner: str = LOCAL_OWNER

    @property
    def model_label(self) -> str:
        model = EMBEDDING_MODELS.get(self.model_id)
        return model.label if model else self.model_id


@dataclass(frozen=True)
class NewRow:
    """A row to add: what one vector is."""

    kind: ItemKind | str
    label: str
    source: str  # a file name or a URI, as the user knows it
    source_key: str  # the item's content key: rows of one source are replaced together
    start_s: float | None = None
    end_s: float | None = None
    text: str | None = None
    mime_type: str | None = None
    blob_sha: str | None = None
    uri: str | None = None


@dataclass
class RowTable:
    """What each vector is, by row id (the map's customdata). Columnar for fast figures."""

    kind: np.ndarray  # str
    label: list[str]
    source: list[str]
    source_key: list[str]
    start_s: np.ndarray  # float64, nan when not a video segment
    end_s: np.ndarray
    text: list[str | None]
    mime_type: list[str | None]
    blob_sha: list[str | None]
    uri: list[str | None]

    def __len__(self) -> int:
        return len(self.label)

    def hover(self, i: int) -> str:
        return _hover(
            str(self.kind[i]), self.label[i], self.source[i], self.start_s[i], self.end_s[i]
        )

    def hovers(self) -> np.ndarray:
        """Every row's hover text, as a numpy string array (Plotly copies it without a loop)."""
        starts, ends = self.start_s.tolist(), self.end_s.tolist()
        kinds = self.kind.tolist()
        texts = [
            _hover(k, label, source, a, b)
            for k, label, source, a, b in zip(
                kinds, self.label, self.source, starts, ends, strict=True
            )
        ]
        return np.array(texts, dtype=str)


def _hover(kind: str, label: str, source: str, start: float, end: float) -> str:
    if kind == ItemKind.VIDEO and start == start:  # not NaN
        return f"{source} · {start:.1f}–{end:.1f} s"
    if kind == ItemKind.TEXT:
        return f"text · {label}"
    return f"{kind} · {source}" if kind else label


@dataclass
class Collection:
    info: CollectionInfo
    rows: RowTable
    vectors: np.ndarray  # (n, d) float16 or float32, read-only (memory-mapped): read it as
    # float32 a chunk at a time (numpy's float16 arithmetic is slow and promotes copies)
    blobs: BlobStore
    folder: Path | None = None  # where its files are (its search index goes beside them)
    _unit: np.ndarray | None = field(default=None, repr=False)

    def unit_vectors(self) -> np.ndarray:
        """L2-normalised rows, computed once: cosine similarity is then a dot product."""
        if self._unit is None:
            self._unit = normalise(np.asarray(self.vectors))
        return self._unit

    def blob_path(self, row: int) -> Path | None:
        sha = self.rows.blob_sha[row]
        return self.blobs.path(sha) if sha else None


def unique_name(name: str, taken: Iterable[str]) -> str:
    """`name`, or the first free "name (2)", "name (3)", … as a file manager names a copy.
    Names differing only in case count as taken; a name that already ends in " (n)" counts on
    from its base, so a copy of "Films (2)" is "Films (3)"."""
    taken = {t.casefold() for t in taken}
    if name.casefold() not in taken:
        return name
    numbered = _NUMBERED.match(name)
    base = numbered.group(1) if numbered else name
    number = 2
    while f"{base} ({number})".casefold() in taken:
        number += 1
    return f"{base} ({number})"


_NUMBERED = re.compile(r"^(.*\S) \((\d+)\)$")


def stored_dtype(*matrices: np.ndarray) -> type[np.floating]:
    """How these vectors are kept: STORED_DTYPE (float16) when it holds every row's direction
    as well as it rounds (no value beyond its range, no row so short that its subnormals lose
    digits), else float32. Cosine is all a collection is used for, so that is the test."""
    for matrix in matrices:
        for start in range(0, len(matrix), FIT_CHUNK):
            chunk = np.asarray(matrix[start : start + FIT_CHUNK], dtype=np.float32)
            norms = np.sqrt(np.einsum("ij,ij->i", chunk, chunk))
            short = (norms > 0) & (norms < F16_MIN_NORM)  # a zero row is zero in either
            if np.abs(chunk).max(initial=0) > F16_MAX or short.any():
                return np.float32
    return STORED_DTYPE


def normalise(vectors: np.ndarray) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


class VectorCache:
    """Vectors by (model, content, segment window, dimension): a repeat makes no call."""

    def __init__(self, database: SharedDatabase) -> None:
        self._db = database

    @staticmethod
    def key(call_key: str, dimension: int) -> str:
        return f"{dimension}|{call_key}"

    def get(self, call_key: str, dimension: int) -> list[Segment] | None:
        row = self._db.fetchone(
            "SELECT count, dimension, spans, vectors FROM cache WHERE key = :key",
            {"key": self.key(call_key, dimension)},
        )
        if row is None:
            return None
        row = row._mapping
        vectors = np.frombuffer(row["vectors"], dtype=np.float32).reshape(row["count"], -1)
        spans = np.frombuffer(row["spans"], dtype=np.float64).reshape(row["count"], 2)
        return [
            Segment(vectors[i].copy(), *(None if np.isnan(s) else float(s) for s in spans[i]))
            for i in range(row["count"])
        ]

    def put(self, call_key: str, dimension: int, segments: Sequence[Segment]) -> None:
        vectors = np.stack([s.vector for s in segments]).astype(np.float32)
        spans = np.array([[_nan(s.start_s), _nan(s.end_s)] for s in segments], dtype=np.float64)
        with self._db.transaction() as tx:
            tx.execute(
                "INSERT INTO cache (key, dimension, count, spans, vectors, created_at) "
                "VALUES (:key, :dimension, :count, :spans, :vectors, :now) "
                "ON CONFLICT (key) DO UPDATE SET dimension = excluded.dimension, "
                "count = excluded.count, spans = excluded.spans, vectors = excluded.vectors, "
                "created_at = excluded.created_at",
                {
                    "key": self.key(call_key, dimension),
                    "dimension": vectors.shape[1],
                    "count": len(segments),
                    "spans": spans.tobytes(),
                    "vectors": vectors.tobytes(),
                    "now": _now(),
                },
            )


class EmbeddingStore:
    """Every collection of one data folder. Thread-safe (jobs write from worker threads)."""

    def __init__(
        self, data_dir: Path, database_url: str | None = None, copies: BucketCopies | None = None
    ) -> None:
        self.root = data_dir / EMBEDDINGS_DIRNAME
        # With a shared database the metadata is shared; with a bucket the files are too.
        self.db = SharedDatabase(database_url or sqlite_url(self.root / DATABASE_FILE), SCHEMA)
        self.copies = copies
        self.blobs = BlobStore(blobs_dir(data_dir))
        self.cache = VectorCache(self.db)
        self.jobs = JobBook(self.db)  # embedding jobs a restart resumes

    # -- collections --

    def create(
        self, name: str, model_id: str, dimension: int, *, owner: str = LOCAL_OWNER
    ) -> CollectionInfo:
        """A new, empty collection of `owner`'s, named `name`, or "name (2)" when that name is
        taken."""
        name = " ".join(name.split())  # one line: it names the collection in a picker
        if not name:
            raise EmbeddingError("Give the collection a name.")
        if model_id != IMPORTED_MODEL:
            model = EMBEDDING_MODELS.get(model_id)
            if model is None:
                raise EmbeddingError(f"Unknown embedding model {model_id!r}.")
            check_dimension(model, dimension)
        collection_id = uuid.uuid4().hex[:12]
        now = _now()
        with self.db.transaction() as tx:  # names read and written in one write lock
            taken = {row[0] for row in tx.execute("SELECT name FROM collections")}
            tx.execute(
                "INSERT INTO collections (id, name, model_id, dimension, created_at, updated_at,"
                " imported, owner) VALUES (:id, :name, :model_id, :dimension, :now, :now,"
                " :imported, :owner)",
                {
                    "id": collection_id,
                    "name": unique_name(name, taken),
                    "model_id": model_id,
                    "dimension": dimension,
                    "now": now,
                    "imported": int(model_id == IMPORTED_MODEL),
                    "owner": owner,
                },
            )
        return self.info(collection_id)

    def collections(self) -> list[CollectionInfo]:
        rows = self.db.fetchall("SELECT * FROM collections ORDER BY updated_at DESC")
        return [_info(r) for r in rows]

    def info(self, collection_id: str) -> CollectionInfo | None:
        row = self.db.fetchone("SELECT * FROM collections WHERE id = :id", {"id": collection_id})
        return _info(row) if row else None

    def rename(self, collection_id: str, name: str) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE collections SET name = :name WHERE id = :id",
                {"name": name.strip(), "id": collection_id},
            )

    def delete(self, collection_id: str, *, owner: str) -> bool:
        """Delete `owner`'s collection and its files; False when it is gone already, NotYours
        (nothing removed) when it is someone else's: the team sees it, its owner deletes it."""
        info = self.info(collection_id)
        if info is None:
            return False
        if info.owner != owner:
            raise NotYours(f"The collection “{info.name}”")
        if self.copies is not None:  # first: a refusal leaves the collection whole
            with _explained("could not be deleted from the bucket"):
                self.copies.delete_prefix(_object_prefix(collection_id))
        with self.db.transaction() as tx:
            deleted = tx.execute(
                "DELETE FROM collections WHERE id = :id AND owner = :owner",
                {"id": collection_id, "owner": owner},
            ).rowcount
        if not deleted:
            return False
        folder = self._folder(collection_id)
        if folder.exists():
            for child in folder.iterdir():
                child.unlink()
            folder.rmdir()
        return True

    def media_references(self) -> dict[str, int]:
        """Media library key ("sha256:<hex>", or a gs:// URI) -> how many collections use it."""
        rows = self.db.fetchall(
            "SELECT CASE WHEN blob_sha IS NOT NULL THEN 'sha256:' || blob_sha ELSE uri END, "
            "count(DISTINCT collection_id) FROM rows "
            "WHERE blob_sha IS NOT NULL OR uri IS NOT NULL GROUP BY 1"
        )
        return {key: count for key, count in rows if key}

    def open(self, collection_id: str) -> Collection:
        info = self.info(collection_id)
        if info is None:
            raise EmbeddingError("That collection no longer exists; pick another.")
        vectors_path = self._folder(collection_id) / VECTORS_FILE
        if info.count and self.copies is not None:
            self._fetch_version(info)
        if info.count and vectors_path.exists():
            vectors = np.load(vectors_path, mmap_mode="r")
        else:
            vectors = np.zeros((0, info.dimension), dtype=np.float32)
        folder = self._folder(collection_id)
        return Collection(info, self._rows(collection_id), vectors, self.blobs, folder)

    def _rows(self, collection_id: str) -> RowTable:
        """The rows from their Arrow copy (~20 ms at 50k), else from SQLite (the record)."""
        path = self._folder(collection_id) / ROWS_FILE
        if path.exists():
            try:
                return _read_rows_file(path)
            except (OSError, ValueError):
                pass  # a damaged copy: SQLite has the rows
        return self._rows_from_db(collection_id)

    def add(
        self, collection_id: str, rows: Sequence[NewRow], vectors: np.ndarray
    ) -> CollectionInfo:
        """Add rows; rows of a source already in the collection are replaced (no duplicates)."""
        vectors = np.asarray(vectors).reshape(len(rows), -1)
        if not np.issubdtype(vectors.dtype, np.floating) or vectors.dtype == np.float64:
            vectors = vectors.astype(np.float32)
        current = self.open(collection_id)
        if len(rows) and vectors.shape[1] != current.info.dimension:
            raise EmbeddingError(
                f"These vectors have {vectors.shape[1]} dimensions; the collection has "
                f"{current.info.dimension}. A collection holds one vector space."
            )
        replaced = {r.source_key for r in rows}
        keep = np.array([k not in replaced for k in current.rows.source_key], dtype=bool)
        kept_rows = [_row_of(current.rows, i) for i in np.flatnonzero(keep)]
        kept = current.vectors[keep]  # in the stored dtype: no float32 copy of a float16 file
        del current  # drop the mmap before the file is replaced
        dtype = stored_dtype(kept, vectors)
        if len(kept):
            matrix = np.concatenate([kept, vectors], dtype=dtype)
        else:  # a first fill (of a million rows, maybe memory-mapped): no copy when it is kept
            matrix = vectors.astype(dtype, copy=False)
        del kept
        return self._write(collection_id, kept_rows + list(rows), matrix)

    def _write(
        self, collection_id: str, rows: Sequence[NewRow], matrix: np.ndarray
    ) -> CollectionInfo:
        folder = self._folder(collection_id)
        folder.mkdir(parents=True, exist_ok=True)
        temp = folder / f".vectors-{uuid.uuid4().hex}.npy"
        stored = np.ascontiguousarray(matrix)  # in the dtype `add` chose for it
        np.save(temp, stored)
        digest = hashlib.sha256(stored.dtype.str.encode())  # the same values in f16 or f32 differ
        digest.update(memoryview(stored.reshape(-1)).cast("B"))
        digest.update(json.dumps([r.source_key for r in rows]).encode())
        del stored
        version = digest.hexdigest()[:32]
        os.replace(temp, folder / VECTORS_FILE)
        _write_rows_file(folder / ROWS_FILE, rows)
        previous = self.info(collection_id)
        if self.copies is not None:  # in the bucket before the database names this version
            self._put_version(collection_id, version)
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM rows WHERE collection_id = :id", {"id": collection_id})
            if rows:  # one executemany for every row
                tx.execute(
                    "INSERT INTO rows (collection_id, row, kind, label, source, source_key, "
                    "start_s, end_s, text, mime_type, blob_sha, uri) VALUES (:collection_id, "
                    ":row, :kind, :label, :source, :source_key, :start_s, :end_s, :text, "
                    ":mime_type, :blob_sha, :uri)",
                    [
                        {
                            "collection_id": collection_id,
                            "row": i,
                            "kind": str(r.kind),
                            "label": r.label,
                            "source": r.source,
                            "source_key": r.source_key,
                            "start_s": r.start_s,
                            "end_s": r.end_s,
                            "text": r.text,
                            "mime_type": r.mime_type,
                            "blob_sha": r.blob_sha,
                            "uri": r.uri,
                        }
                        for i, r in enumerate(rows)
                    ],
                )
            tx.execute(
                "UPDATE collections SET count = :count, content_hash = :hash, updated_at = :now "
                "WHERE id = :id",
                {
                    "count": len(rows),
                    "hash": version,
                    "now": _now(),
                    "id": collection_id,
                },
            )
        if self.copies is not None and previous and previous.content_hash not in ("", version):
            # The version no one names any more; if the bucket refuses, it only takes room.
            with contextlib.suppress(StagingError):
                self.copies.delete_prefix(_object_prefix(collection_id, previous.content_hash))
        return self.info(collection_id)

    def _put_version(self, collection_id: str, version: str) -> None:
        """Write this folder's vectors and rows to the bucket as `version`, then mark them so."""
        assert self.copies is not None
        folder = self._folder(collection_id)
        with _explained("could not be written to the bucket"):
            for name in (VECTORS_FILE, ROWS_FILE):
                target = _object_prefix(collection_id, version) + name
                self.copies.put_file(folder / name, target)
        _write_atomically(folder / VERSION_FILE, version.encode())

    def _fetch_version(self, info: CollectionInfo) -> None:
        """Bring the collection's current vectors and rows from the bucket, unless held here."""
        assert self.copies is not None
        folder = self._folder(info.id)
        marker = folder / VERSION_FILE
        held = marker.read_text().strip() if marker.exists() else None
        if held == info.content_hash:
            return
        if held is None and (folder / VECTORS_FILE).exists():
            self._put_version(info.id, info.content_hash)  # kept before there was a bucket
            return
        prefix = _object_prefix(info.id, info.content_hash)
        with _explained("could not be read from the bucket"):
            for name in (VECTORS_FILE, ROWS_FILE):
                self.copies.fetch(prefix + name, folder / name)
        _write_atomically(marker, info.content_hash.encode())

    def put_version_file(self, collection_id: str, version: str, path: Path) -> None:
        """With a bucket, a file made from one version of the collection (its search index)
        goes beside that version's vectors there, and is deleted with them."""
        if self.copies is not None:
            with _explained("could not be written to the bucket"):
                self.copies.put_file(path, _object_prefix(collection_id, version) + path.name)

    def fetch_version_file(self, collection_id: str, version: str, target: Path) -> bool:
        """With a bucket, that file as an instance stored it, written to `target`; False when
        there is none (or no bucket, or the bucket refuses): then it is made here."""
        if self.copies is None:
            return False
        name = _object_prefix(collection_id, version) + target.name
        try:
            if self.copies.size(name) is None:
                return False
            self.copies.fetch(name, target)
        except StagingError:
            return False
        return True

    # -- projections --

    def load_projection(
        self, collection_id: str, key: str
    ) -> tuple[np.ndarray, str, str | None] | None:
        row = self.db.fetchone(
            "SELECT method, note FROM projections WHERE collection_id = :id AND key = :key",
            {"id": collection_id, "key": key},
        )
        path = self._folder(collection_id) / f"projection-{key}.npy"
        if row is not None and not path.exists() and self.copies is not None:
            try:
                self.copies.fetch(_object_prefix(collection_id) + path.name, path)
            except StagingError:
                return None  # no stored map to reuse: it is computed again, nothing is lost
        if row is None or not path.exists():
            return None
        return np.load(path), row.method, row.note

    def save_projection(
        self,
        collection_id: str,
        key: str,
        coords: np.ndarray,
        method: str,
        note: str | None,
        params: str,
    ) -> None:
        folder = self._folder(collection_id)
        folder.mkdir(parents=True, exist_ok=True)
        temp = folder / f".projection-{uuid.uuid4().hex}.npy"
        np.save(temp, np.asarray(coords, dtype=np.float32))
        path = folder / f"projection-{key}.npy"
        os.replace(temp, path)
        if self.copies is not None:
            with _explained("could not be written to the bucket"):
                self.copies.put_file(path, _object_prefix(collection_id) + path.name)
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO projections (collection_id, key, method, note, params) "
                "VALUES (:id, :key, :method, :note, :params) "
                "ON CONFLICT (collection_id, key) DO UPDATE SET method = excluded.method, "
                "note = excluded.note, params = excluded.params",
                {"id": collection_id, "key": key, "method": method, "note": note,
                 "params": params},
            )  # fmt: skip

    # -- helpers --

    def _folder(self, collection_id: str) -> Path:
        return self.root / "collections" / collection_id

    def _rows_from_db(self, collection_id: str) -> RowTable:
        records = self.db.fetchall(
            "SELECT kind, label, source, source_key, start_s, end_s, text, mime_type, blob_sha,"
            " uri FROM rows WHERE collection_id = :id ORDER BY row",
            {"id": collection_id},
        )
        columns = list(zip(*records, strict=True)) if records else [()] * 10
        return RowTable(
            kind=np.array(columns[0], dtype=object),
            label=list(columns[1]),
            source=list(columns[2]),
            source_key=list(columns[3]),
            start_s=np.array([_nan(v) for v in columns[4]], dtype=np.float64),
            end_s=np.array([_nan(v) for v in columns[5]], dtype=np.float64),
            text=list(columns[6]),
            mime_type=list(columns[7]),
            blob_sha=list(columns[8]),
            uri=list(columns[9]),
        )


def _row_of(rows: RowTable, i: int) -> NewRow:
    return NewRow(
        kind=str(rows.kind[i]),
        label=rows.label[i],
        source=rows.source[i],
        source_key=rows.source_key[i],
        start_s=None if np.isnan(rows.start_s[i]) else float(rows.start_s[i]),
        end_s=None if np.isnan(rows.end_s[i]) else float(rows.end_s[i]),
        text=rows.text[i],
        mime_type=rows.mime_type[i],
        blob_sha=rows.blob_sha[i],
        uri=rows.uri[i],
    )


def rows_of(rows: RowTable, indices: Iterable[int]) -> list[NewRow]:
    return [_row_of(rows, int(i)) for i in indices]


def _info(row: Any) -> CollectionInfo:
    row = row._mapping
    return CollectionInfo(
        id=row["id"],
        name=row["name"],
        model_id=row["model_id"],
        dimension=row["dimension"],
        count=row["count"],
        content_hash=row["content_hash"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        imported=bool(row["imported"]),
        owner=row["owner"],
    )


def _object_prefix(collection_id: str, version: str | None = None) -> str:
    """Where a collection's files are in the bucket: one folder per version of its vectors."""
    base = f"{COLLECTIONS_PREFIX}{collection_id}/"
    return f"{base}{version}/" if version else base


@contextlib.contextmanager
def _explained(what: str) -> Iterator[None]:
    """A bucket's refusal (StagingError, saying what to do) as the EmbeddingError pages show."""
    try:
        yield
    except StagingError as problem:
        raise EmbeddingError(f"The collection's files {what}: {problem}") from problem


def _write_atomically(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}-{uuid.uuid4().hex}")
    temp.write_bytes(data)
    os.replace(temp, path)


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _write_rows_file(path: Path, rows: Sequence[NewRow]) -> None:
    import pyarrow as pa
    import pyarrow.feather as feather

    columns = {name: [getattr(r, name) for r in rows] for name in ROW_COLUMNS}
    columns["kind"] = [str(k) for k in columns["kind"]]
    for name in ("start_s", "end_s"):
        columns[name] = pa.array([_nan(v) for v in columns[name]], type=pa.float64())
    temp = path.with_name(f".{path.name}-{uuid.uuid4().hex}")
    feather.write_feather(pa.table(columns), temp, compression="uncompressed")
    os.replace(temp, path)


def _read_rows_file(path: Path) -> RowTable:
    import pyarrow.feather as feather

    table = feather.read_table(path, memory_map=True)
    column = {name: table.column(name) for name in ROW_COLUMNS}
    return RowTable(
        kind=np.array(column["kind"].to_pylist(), dtype=object),
        label=column["label"].to_pylist(),
        source=column["source"].to_pylist(),
        source_key=column["source_key"].to_pylist(),
        start_s=column["start_s"].to_numpy(),
        end_s=column["end_s"].to_numpy(),
        text=column["text"].to_pylist(),
        mime_type=column["mime_type"].to_pylist(),
        blob_sha=column["blob_sha"].to_pylist(),
        uri=column["uri"].to_pylist(),
    )
