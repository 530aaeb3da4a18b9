"""Nearest rows of a collection at any size: an approximate index, re-ranked exactly.

`nearest_rows` is the one place that decides how a query is answered:
- below `BRUTE_FORCE_BELOW` rows (5k), or while no index is built yet, by brute force (every
  row's exact cosine; above ~190k rows by usearch's exact scan of the stored rows, re-ranked,
  so memory stays bounded and a million rows take a fraction of a second);
- otherwise by a usearch HNSW index of the unit vectors (inner product, stored as float16):
  it proposes `k * OVERSAMPLE` candidates, whose cosines are then computed exactly from the
  collection's own vectors, so the scores a user sees are exact and only the candidate set is
  approximate; a query far from every row (a text among video segments) is walked wider
  (FAR_BELOW, FAR_WALK), since that is where the graph's walk strays.

The index is a file beside the collection's vectors, named by the collection's content hash
and the index's build parameters: a changed collection (or a change of parameters here) never
opens a stale index; it is answered by brute force until its own index is built. Building
takes minutes at 100k+ rows on two cores, so it is a task (`IndexBuild`, started by
`ensure_index`; usearch releases the GIL while it adds, so the server's sessions go on), never
a page's wait. Saved indexes are opened memory-mapped (usearch's view):
a collection's index costs page cache, not the server's memory. With a bucket, the index goes
beside its version of the vectors there (EmbeddingStore.put_version_file): another instance,
or this one recycled, fetches it instead of building it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from reelscope.embeddings.store import Collection, EmbeddingStore, normalise
from reelscope.projection import nearest, top_k, unit_query
from reelscope.tasks import (
    LOCAL_OWNER,
    Progress,
    Task,
    TaskRegistry,
    TaskState,
    registry,
    start_thread,
)

# Where the index starts to pay, measured on this machine (2 cores, load average ~5 from other
# work; 1408-d, k=10, median of 10 queries). A query as the page runs it (a fresh Collection
# per script run: brute force normalises every row first) took, brute force / index with its
# re-rank: 5k rows 27-42 / 0.8-2.4 ms, 10k 54-98 / 1.0-1.2 ms, 20k 103-117 / 1.4-2.8 ms,
# 50k 261-422 / 2.3-3.4 ms (two runs); at 200k (bench/search_index.py) 35 ms over an already
# normalised matrix against 1.9 ms. The index is faster from the smallest size measured, but
# below 5k rows brute force stays within a few tens of ms, which nobody notices, while an index
# would cost a build (~1 s at 5k) after every change of a collection still being filled.
BRUTE_FORCE_BELOW = 5_000
OVERSAMPLE = 4  # candidates per result asked of the index: the exact re-rank picks among them
# Inside the index, vectors as float16: half the file of float32, and recall@10 after the
# re-rank barely moves (20k rows: f32 0.995, f16 0.990; i8 0.961, or 0.995 with 4x candidates
# but on a quantisation that assumes components far larger than a 1408-d unit vector's).
INDEX_DTYPE = "f16"
CONNECTIVITY = 16  # HNSW's M: usearch's default
EXPANSION_ADD = 64  # efConstruction: half usearch's 128, half the build (100k: 53 s vs 111 s)
# ef: text-like queries, far from every row, need the wider walk: recall@10 at 100k rows went
# 0.934 -> 0.979 from ef 128 to 256 (0.979 at 512), ~0.4 ms more per query.
EXPANSION_SEARCH = 256
# A query far from every row (a text against video segments; tests/manifold_vectors.text_like:
# best cosine ~0.3, where a segment's with its neighbours is ~0.9) is where HNSW's greedy walk
# strays: on a flat landscape it can settle in the wrong region and miss every true neighbour.
# At 200k rows (400 queries, half text-like), ef 256 gave recall@10 0.995 near the rows but
# 0.981 text-like, 3 of 200 text queries at 0.0; ef 512 gave 0.995 for both (none below 0.6),
# ef 1024 the same at 7 ms a query against 2.5. Starting the walk from the sampled rows nearest
# the query did not help (0.985, slower). So a query whose best candidate is below FAR_BELOW
# is asked again with FAR_WALK candidates (usearch walks max(ef, count) wide): the wider walk
# only for the queries that need it. At 1M rows (bench/query_1m.py, 500 queries, half
# text-like; a loaded machine), text-like recall@10 / p95 ms over all queries by FAR_WALK:
# none 0.983 / 3.6, 512 0.995 / 9.4, 1024 0.999 / 14.8, 2048 0.999 / 25.5 (near: 0.999 each).
FAR_BELOW = 0.5
FAR_WALK = 1024
UNIT_MATRIX_MAX_BYTES = 1 << 30  # ~190k rows at 1408-d; a 1M collection's would be 5.6 GB
SCAN_THREADS = 2  # a scan is a user's wait of a fraction of a second: both cores
SCAN_CHUNK = 16_384  # rows brute force normalises at once (90 MB at 1408-d)
BUILD_CHUNK = 8192  # rows normalised and added at once: the cancel check and progress step
BUILD_THREADS = 1  # of two cores: the server keeps the other one for its sessions
# The build's thread (and usearch's, which inherit it) yields the CPU to the server's sessions,
# as UMAP's worker does (nice 19: the same, so a map fit and a build share what is left).
BUILD_NICENESS = 19
INDEX_PREFIX = "search-"
INDEX_SUFFIX = ".usearch"
KEEP_OPEN = 4  # indexes kept open (memory-mapped) across queries, most recently used


def _params_tag() -> str:
    """The build parameters, in the file's name: an index built otherwise is not reused."""
    params = [INDEX_DTYPE, CONNECTIVITY, EXPANSION_ADD]
    return hashlib.sha256(json.dumps(params).encode()).hexdigest()[:8]


def index_path(collection: Collection) -> Path | None:
    """Where this version of the collection's index is (or would be); None without a folder."""
    if collection.folder is None or not collection.info.content_hash:
        return None
    name = f"{INDEX_PREFIX}{collection.info.content_hash}-{_params_tag()}{INDEX_SUFFIX}"
    return collection.folder / name


def wants_index(collection: Collection) -> bool:
    """Whether queries on this collection are answered by an index once it is built."""
    return len(collection.vectors) >= BRUTE_FORCE_BELOW and index_path(collection) is not None


def has_index(collection: Collection) -> bool:
    path = index_path(collection)
    return path is not None and path.exists()


def uses_index(collection: Collection) -> bool:
    """Whether a query on this collection is answered by its index now (else brute force)."""
    return _index_for(collection) is not None


def _index_for(collection: Collection):
    """The one decision: the collection's own saved index when it is large enough, else None."""
    return _open_index(index_path(collection)) if wants_index(collection) else None


def nearest_rows(
    collection: Collection, query: np.ndarray, k: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Row ids and exact cosine similarities of the k nearest rows, best first."""
    n = len(collection.vectors)
    q = unit_query(query)
    index = _index_for(collection)
    if index is None or k <= 0:
        return _brute_force(collection, q, k)
    k = min(k, n)
    wanted = min(n, k * OVERSAMPLE)
    candidates = _candidates(index, q, wanted)
    if len(candidates) < k:  # the graph found too few: never fewer results than asked
        return _brute_force(collection, q, k)
    rows, scores = _rerank(collection, candidates, q, k)
    if scores[0] < FAR_BELOW and wanted < FAR_WALK:  # far from every row: walk wider
        wider = _candidates(index, q, min(n, FAR_WALK), keep=wanted)
        rows, scores = _rerank(collection, np.union1d(candidates, wider), q, k)
    return rows, scores


def _candidates(index, q: np.ndarray, count: int, keep: int | None = None) -> np.ndarray:
    """The index's `count` nearest rows to `q` (its best `keep` of them), in file order."""
    found = np.asarray(index.search(q, count, threads=1).keys, dtype=np.int64)
    return np.sort(found[:keep])  # in file order: the re-rank reads the mmap forwards


def _rerank(
    collection: Collection, candidates: np.ndarray, q: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The k best candidates by their exact cosine (float32 from the stored rows)."""
    rows, scores = top_k(normalise(collection.vectors[candidates]) @ q, k)
    return candidates[rows], scores


def _brute_force(collection: Collection, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Over the collection's unit matrix (made once per opened Collection, reused by its next
    queries) while it is small enough to keep; by usearch's exact scan of the stored rows,
    re-ranked exactly, above."""
    if collection.vectors.size * 4 <= UNIT_MATRIX_MAX_BYTES:
        return nearest(collection.unit_vectors(), q, k)
    return exact_scan(collection, q, k)


def exact_scan(collection: Collection, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Every row's cosine by usearch's exact (SIMD) scan of the memory-mapped rows as stored,
    float16 read natively, no copy; its `k * OVERSAMPLE` best re-ranked exactly in float32.
    The answer while a large collection's index is being built: at 1M x 1408 float16 rows a
    query took 0.19 s on 2 threads (0.50 s on 1), where `brute_force`'s numpy chunks took 17 s
    (the float16 to float32 conversion is numpy's slow part)."""
    from usearch.index import MetricKind, search

    q = unit_query(query)
    n = len(collection.vectors)
    k = min(k, n)
    if k <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    vectors = collection.vectors
    found = search(vectors, q.astype(vectors.dtype), min(n, k * OVERSAMPLE), MetricKind.Cos,
                   exact=True, threads=SCAN_THREADS)  # fmt: skip
    candidates = np.sort(np.asarray(found.keys, dtype=np.int64).reshape(-1))
    return _rerank(collection, candidates, q, k)


def brute_force(vectors: np.ndarray, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Every row's exact cosine, a chunk of rows normalised at a time: memory stays bounded
    at any size (a whole unit matrix is 5.6 GB at a million rows), nothing is cached."""
    q = unit_query(query)
    scores = np.empty(len(vectors), dtype=np.float32)
    for start in range(0, len(vectors), SCAN_CHUNK):
        chunk = vectors[start : start + SCAN_CHUNK]
        scores[start : start + len(chunk)] = normalise(chunk) @ q
    return top_k(scores, k)


# -- building --


class BuildCancelled(Exception):
    """The build was stopped; nothing was written."""


def build_index(
    collection: Collection,
    *,
    threads: int = BUILD_THREADS,
    cancelled: Callable[[], bool] = lambda: False,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Build and save the collection's index (blocking: a task's work). Returns its path.

    Rows are normalised and added a chunk at a time from the memory-mapped vectors, so the
    build holds one chunk beside the index, never a second copy of the whole matrix.
    """
    from usearch.index import Index, MetricKind

    path = index_path(collection)
    if path is None:
        raise ValueError("This collection has no folder or no rows: it has nothing to index.")
    vectors = collection.vectors
    n, dim = vectors.shape
    index = Index(
        ndim=dim, metric=MetricKind.IP, dtype=INDEX_DTYPE,
        connectivity=CONNECTIVITY, expansion_add=EXPANSION_ADD,
    )  # fmt: skip
    for start in range(0, n, BUILD_CHUNK):
        if cancelled():
            raise BuildCancelled
        stop = min(n, start + BUILD_CHUNK)
        index.add(np.arange(start, stop), normalise(vectors[start:stop]), threads=threads)
        if progress is not None:
            progress(stop, n)
    if cancelled():
        raise BuildCancelled
    temp = path.with_name(f".{path.name}-{uuid.uuid4().hex}")
    index.save(os.fspath(temp))
    index.reset()
    os.replace(temp, path)
    return path


def _forget_other_indexes(kept: Path) -> None:
    """Remove the collection's indexes of other versions: nothing would open them again. (Not
    at the end of a build: a build of an earlier version that ends later would remove the
    current one's.)"""
    for other in kept.parent.glob(f"{INDEX_PREFIX}*{INDEX_SUFFIX}"):
        if other != kept:
            _close(other)
            with contextlib.suppress(FileNotFoundError):
                other.unlink()


class IndexBuild(Task):
    """Builds one version of a collection's search index; `key` is (collection, index file)."""

    kind = "search-index"

    def __init__(
        self,
        collection: Collection,
        *,
        store: EmbeddingStore | None = None,
        owner: str = LOCAL_OWNER,
    ) -> None:
        path = index_path(collection)
        assert path is not None
        super().__init__(
            owner=owner,
            label=f"{collection.info.name}: search index",
            key=_task_key(collection),
            origin="embeddings",
        )
        self._collection: Collection | None = collection
        self._store = store  # with a bucket: where another instance's build is fetched from
        self._rows = (0, len(collection.vectors))
        self.error: str | None = None
        self.fetched = False  # the bucket had it: nothing was built here

    def start(self) -> IndexBuild:
        start_thread(self, self._work)
        return self

    def progress(self) -> Progress:
        status = self.status
        if status is TaskState.FAILED:
            return Progress(status, f"The search index failed: {self.error}")
        if status is not TaskState.RUNNING:
            where = "fetched from the bucket" if self.fetched else "stored"
            return Progress(status, f"Search index {where}.")
        done, total = self._rows
        return Progress(
            status,
            f"Building the search index… {done:,} / {total:,} rows · {self.elapsed():.0f} s",
            done / total if total else None,
        )

    def _step(self, done: int, total: int) -> None:
        self._rows = (done, total)
        self.changed()

    def _work(self) -> None:
        with contextlib.suppress(OSError, AttributeError):  # no per-thread nice: the same, unniced
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BUILD_NICENESS)
        try:
            assert self._collection is not None
            self._fetch_or_build(self._collection)
        except BuildCancelled:
            pass  # cancel() has set the state already
        except Exception as exc:
            self.error = str(exc) or type(exc).__name__
            self.finish(TaskState.FAILED)
        else:
            self.finish(TaskState.DONE)
        finally:
            self._collection = None  # the page holds the collection; the task no longer needs it

    def _fetch_or_build(self, collection: Collection) -> None:
        info, path = collection.info, index_path(collection)
        assert path is not None
        if self._store is not None:
            self.fetched = self._store.fetch_version_file(info.id, info.content_hash, path)
            if self.fetched:
                return
        build_index(collection, cancelled=lambda: self.done, progress=self._step)
        if self._store is not None:  # for the other instances, and this one once recycled
            self._store.put_version_file(info.id, info.content_hash, path)


def ensure_index(
    collection: Collection,
    *,
    store: EmbeddingStore | None = None,
    tasks: TaskRegistry | None = None,
    owner: str = LOCAL_OWNER,
    retry: bool = False,
) -> IndexBuild | None:
    """Start building the collection's index in the background when it wants one and has
    none (with `store`'s bucket: fetching it when another instance built it). Once: a running
    or finished build is returned; so is one that failed or was stopped (search goes on by
    brute force), not started again on every rerun unless `retry`. Builds and files of the
    collection's other versions are stopped and removed.
    """
    path = index_path(collection)
    if path is None:
        return None
    tasks = tasks if tasks is not None else registry()  # an empty registry is falsy
    for other in tasks.tasks(kind=IndexBuild.kind, live=True):
        if other.key != _task_key(collection) and other.key.startswith(f"{collection.info.id}:"):
            other.cancel()  # an earlier version's: its index would never be opened
    if not wants_index(collection) or has_index(collection):
        _forget_other_indexes(path)
        return None
    found = tasks.find(IndexBuild.kind, _task_key(collection))
    if isinstance(found, IndexBuild) and found.status in _ENDED and not retry:
        return found
    build = tasks.start_once(
        IndexBuild.kind,
        _task_key(collection),
        lambda: IndexBuild(collection, store=store, owner=owner).start(),
    )
    assert isinstance(build, IndexBuild)
    return build


_ENDED = (TaskState.FAILED, TaskState.CANCELLED)


def _task_key(collection: Collection) -> str:
    path = index_path(collection)
    return f"{collection.info.id}:{path.name if path else ''}"


# -- open indexes --

_open: OrderedDict[Path, object] = OrderedDict()
_open_lock = threading.Lock()


def _open_index(path: Path | None):
    """The saved index at `path`, memory-mapped (kept open for the next query), or None."""
    if path is None:
        return None
    with _open_lock:
        if path in _open:
            _open.move_to_end(path)
            return _open[path]
    if not path.exists():
        return None
    from usearch.index import Index

    try:
        index = Index.restore(os.fspath(path), view=True)
    except (OSError, RuntimeError, ValueError):
        index = None
    if index is None:  # a damaged file: brute force answers, and the next build writes it again
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return None
    index.expansion_search = EXPANSION_SEARCH
    with _open_lock:
        _open[path] = index
        while len(_open) > KEEP_OPEN:
            _open.popitem(last=False)
    return index


def _close(path: Path) -> None:
    with _open_lock:
        _open.pop(path, None)


def open_index_count() -> int:
    """How many indexes are open (tests: the cache stays bounded)."""
    with _open_lock:
        return len(_open)
