"""The media library: everything a user gives the studio, kept once, by content hash.

Uploads are stored under `<data_dir>/media/<sha256>` (streamed in, hashed as they are written,
renamed into place: reelscope/spool.py), probed once, and listed with what the probe found in
`media/library.sqlite` (or, with REELSCOPE_DATABASE_URL, in the shared PostgreSQL); links are
kept by URI. With REELSCOPE_BUCKET every upload is also written to the bucket, content-addressed
(reelscope/bucket_copies.py), and this folder is a cache of it: an instance that lacks a file
fetches it again when a page asks for it, and the cap then only drops local copies the bucket
holds. Every page that takes media offers
the library, so a video uploaded on Ask is one click away on Chapters, Side by side and
Embeddings, after a reload and after a restart. Runs and collections refer to items by hash or
URI (their stores say how often: `References`). A size cap evicts the least recently used
uploads that nothing refers to, and says which; what is referred to is never evicted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from reelscope.bucket_copies import BucketCopies, Progress
from reelscope.catalog import MediaFacts
from reelscope.database import SharedDatabase, sqlite_url
from reelscope.media import (
    Clip,
    MediaProbe,
    MediaSource,
    SourceError,
    SourceKind,
    source_from_file,
    source_from_link,
)
from reelscope.owners import NotYours
from reelscope.probe import ImageProbe, ProbeError, VideoProbe, probe_media
from reelscope.spool import Spool, SpoolFull, is_content_hash
from reelscope.storage import StagingError, object_name
from reelscope.tasks import LOCAL_OWNER

LIBRARY_DIRNAME = "media"
LIBRARY_DB = "library.sqlite"
SCHEMA = "library"  # its migrations: reelscope/migrations/library
DEFAULT_MAX_BYTES = 20_000_000_000  # 20 GB of uploads before the least used go


class SourceLike(Protocol):
    """What a kept run records of a source (reelscope.runs.SourceRef)."""

    label: str
    uri: str | None
    sha256: str | None
    start_s: float | None
    end_s: float | None
    fps: float | None
    resolution: str | None


References = Callable[[], Mapping[str, int]]
"""Where items are used by one store: library key ("sha256:<hex>" or a link's URI) -> how many
of its records (runs, collections) refer to it."""

# The user_version steps of a library.sqlite from before Alembic; migration 0001 finishes them.
MIGRATIONS = (
    """
    CREATE TABLE items (
        key TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        mime_type TEXT NOT NULL,
        owner TEXT NOT NULL,
        added_at TEXT NOT NULL,
        used_at TEXT NOT NULL,
        sha256 TEXT,
        size INTEGER,
        uri TEXT,
        staged_uri TEXT,
        probe TEXT,
        cuts TEXT
    );
    CREATE INDEX items_used ON items(owner, used_at DESC)
    """,
)


def library_dir(data_dir: Path) -> Path:
    """Where the library keeps its files and its index: `<data_dir>/media`."""
    return Path(data_dir) / LIBRARY_DIRNAME


@dataclass(frozen=True)
class LibraryItem:
    """One kept upload or link, with what its probe found."""

    key: str  # MediaSource.key: "sha256:<hex>" for an upload, the URI for a link
    kind: SourceKind
    name: str
    mime_type: str
    owner: str
    added_at: dt.datetime
    used_at: dt.datetime
    sha256: str | None = None
    size: int | None = None
    uri: str | None = None
    staged_uri: str | None = None  # the gs:// copy of an upload above the inline limit
    probe: MediaProbe | None = None
    cuts: tuple[float, ...] | None = None  # shot cuts, once detected

    @property
    def is_upload(self) -> bool:
        return self.sha256 is not None

    @property
    def duration_s(self) -> float | None:
        return self.probe.duration_s if isinstance(self.probe, VideoProbe) else None


@dataclass(frozen=True)
class Added:
    """What adding an upload did: the source, and what was evicted to make room."""

    source: MediaSource
    evicted: tuple[str, ...] = ()


class MediaLibrary:
    """A data folder's library. Thread-safe."""

    def __init__(
        self,
        root: Path,
        max_bytes: int = DEFAULT_MAX_BYTES,
        database_url: str | None = None,
        copies: BucketCopies | None = None,
    ) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.copies = copies  # the bucket holding every upload; None: this folder only
        self._in_bucket: set[str] = set()  # hashes this process saw in the bucket
        self._files = Spool(self.root, max_bytes=max_bytes)
        self.db = SharedDatabase(database_url or sqlite_url(self.root / LIBRARY_DB), SCHEMA)
        self._references: dict[str, References] = {}
        self._lock = threading.Lock()  # eviction and adding: one at a time

    def add_references(self, name: str, references: References) -> None:
        """Count a store's uses ("runs", "collections") before evicting anything."""
        self._references[name] = references

    # -- adding --

    def add_upload(
        self,
        name: str,
        data: bytes | BinaryIO,
        media: MediaFacts,
        *,
        owner: str = LOCAL_OWNER,
        size_hint: int | None = None,
        in_bucket: str | None = None,
        progress: Progress | None = None,
    ) -> Added:
        """Keep an upload (once per content) and judge it by its bytes (probed once per file).

        Raises SourceError (the file named, and what to do) for refused files, whose bytes are
        not kept, and when the bucket cannot take them. To make room, evicts the least recently
        used uploads nothing refers to. `in_bucket`: a gs:// object of the library's bucket that
        holds these bytes already (a direct upload), copied there instead of sent again;
        `progress(sent, total)` hears the bytes going to the bucket.
        """
        with self._lock:
            known_size = len(data) if isinstance(data, bytes | bytearray) else 0
            evicted = self._make_room(size_hint or known_size)
            try:
                spooled = self._files.put(data, name)
            except SpoolFull as full:
                raise SourceError(self._full_message(name)) from full
        known = self.get(f"sha256:{spooled.sha256}")
        if known is not None and known.probe is not None:
            self._keep_in_bucket(known.name, spooled.sha256, known.mime_type, in_bucket, progress)
            self.touch(known.key)
            source = self._source_of(known)
            assert source is not None  # its bytes were just written
            return Added(source, evicted)
        try:
            probe = probe_media(spooled.path, name)
            source = source_from_file(name, spooled.sha256, spooled.path, probe, media)
        except (ProbeError, SourceError) as problem:
            self._files.discard(spooled.sha256)
            raise SourceError(str(problem)) from problem
        try:  # in the bucket before it is listed: every instance can then read what it lists
            self._keep_in_bucket(name, spooled.sha256, source.mime_type, in_bucket, progress)
        except SourceError:
            self._files.discard(spooled.sha256)
            raise
        self._remember(source, owner)
        return Added(source, evicted)

    def add_link(self, source: MediaSource, *, owner: str = LOCAL_OWNER) -> MediaSource:
        """Keep a link (a gs://, https or YouTube source) so every page offers it again."""
        self._remember(source, owner)
        return source

    # -- reading --

    def items(self, owner: str | None = None, limit: int = 500) -> list[LibraryItem]:
        """The kept items, most recently used first."""
        where, args = ("WHERE owner = :owner", {"owner": owner}) if owner is not None else ("", {})
        rows = self.db.fetchall(
            f"SELECT * FROM items {where} ORDER BY used_at DESC LIMIT :limit",
            {**args, "limit": limit},
        )
        return [_item(row) for row in rows]

    def get(self, key: str) -> LibraryItem | None:
        row = self.db.fetchone("SELECT * FROM items WHERE key = :key", {"key": key})
        return _item(row) if row else None

    def source(self, key: str, progress: Progress | None = None) -> MediaSource | None:
        """The item as a source a page can send (None when it is gone).

        With a bucket, an upload this instance does not hold is fetched first (`progress(read,
        total)`; `must_fetch` says whether it will be); SourceError when that fails.
        """
        item = self.get(key)
        if item is None:
            return None
        if item.sha256 is not None and self.copies is not None:
            self._fetch(item, progress)
            self._confirm_in_bucket(item, progress)
        return self._source_of(item)

    def must_fetch(self, key: str) -> bool:
        """Whether `source(key)` reads the item's bytes from the bucket first (a page says so)."""
        sha256 = key.removeprefix("sha256:")
        return self.copies is not None and key != sha256 and sha256 not in self._files

    def sources_again(
        self, refs: Sequence[SourceLike], *, owner: str = LOCAL_OWNER
    ) -> tuple[list[tuple[MediaSource, Clip | None]], list[str]]:
        """The sources a kept run used, each with the clip it was sent with, as far as the
        library still has them; and, for each it cannot give back, why (to say to the user).

        A link not kept yet (a run imported from elsewhere) is vetted again and kept.
        """
        found: list[tuple[MediaSource, Clip | None]] = []
        missing: list[str] = []
        for ref in refs:
            key = f"sha256:{ref.sha256}" if ref.sha256 else ref.uri
            try:
                source = self.source(key) if key else None
            except SourceError as problem:
                missing.append(f"{ref.label}: {problem}")
                continue
            if source is None and ref.uri and not ref.sha256:
                try:
                    source = self.add_link(source_from_link(ref.uri), owner=owner)
                except SourceError as problem:
                    missing.append(f"{ref.label}: {problem}")
                    continue
            if source is None:
                missing.append(f"{ref.label} is no longer in the library: add it again.")
                continue
            clip = Clip(ref.start_s, ref.end_s, ref.fps, ref.resolution)
            found.append((source, None if clip.is_default else clip))
        return found, missing

    def path(self, sha256: str) -> Path:
        """Where an upload's bytes are (whether or not they are still there)."""
        return self.root / sha256

    def bucket_uri(self, item: LibraryItem) -> str | None:
        """The gs:// copy of an upload in the library's bucket (None without a bucket)."""
        if self.copies is None or item.sha256 is None:
            return None
        return self.copies.uri(object_name(item.sha256, item.mime_type))

    def used_bytes(self) -> int:
        return self._files.total_bytes

    def usage(self) -> dict[str, dict[str, int]]:
        """Library key -> {store name: how many of its records refer to it}."""
        counts: dict[str, dict[str, int]] = {}
        for name, references in self._references.items():
            for key, count in references().items():
                if count:
                    counts.setdefault(key, {})[name] = count
        return counts

    # -- changing --

    def touch(self, key: str) -> None:
        """Mark an item used now (the least recently used go first under the cap)."""
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE items SET used_at = :now WHERE key = :key", {"now": _now(), "key": key}
            )

    def set_staged(self, sha256: str, uri: str) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE items SET staged_uri = :uri WHERE sha256 = :sha256",
                {"uri": uri, "sha256": sha256},
            )

    def set_cuts(self, sha256: str, cuts: Sequence[float]) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE items SET cuts = :cuts WHERE sha256 = :sha256",
                {"cuts": json.dumps(list(cuts)), "sha256": sha256},
            )

    def delete(self, key: str, *, owner: str) -> bool:
        """Forget `owner`'s item and remove its bytes; runs and collections keep their records.
        False when it is gone already; NotYours (nothing removed) when it is someone else's:
        the team shares the library, read-only, and only who added an item deletes it.
        The bucket keeps its copy while a run or collection refers to it; SourceError when the
        bucket refuses: then nothing is deleted."""
        item = self.get(key)
        if item is None:
            return False
        if item.owner != owner:
            raise NotYours(f"“{item.name}”")
        if item.sha256 and self.copies is not None and not self.usage().get(key):
            try:
                self.copies.delete(object_name(item.sha256, item.mime_type))
            except StagingError as problem:
                raise SourceError(f"{item.name} was not deleted: {problem}") from problem
        with self.db.transaction() as tx:
            deleted = tx.execute(
                "DELETE FROM items WHERE key = :key AND owner = :owner",
                {"key": key, "owner": owner},
            ).rowcount
        if not deleted:
            return False
        if item.sha256:
            self._files.discard(item.sha256)
        return True

    # -- inside --

    def _remember(self, source: MediaSource, owner: str) -> None:
        now = _now()
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO items (key, kind, name, mime_type, owner, added_at, used_at, sha256,"
                " size, uri, probe) VALUES (:key, :kind, :name, :mime_type, :owner, :now, :now,"
                " :sha256, :size, :uri, :probe)"
                " ON CONFLICT (key) DO UPDATE SET used_at = excluded.used_at",
                {
                    "key": source.key,
                    "kind": str(source.kind if source.sha256 is None else SourceKind.UPLOAD),
                    "name": source.label,
                    "mime_type": source.mime_type,
                    "owner": owner,
                    "now": now,
                    "sha256": source.sha256,
                    "size": source.size,
                    "uri": source.uri if source.sha256 is None else None,
                    "probe": _probe_json(source.probe),
                },
            )

    def _source_of(self, item: LibraryItem) -> MediaSource | None:
        if not item.is_upload:
            return MediaSource(
                item.kind,
                item.mime_type,
                item.name,
                uri=item.uri,
                previewable=item.kind is SourceKind.YOUTUBE,
            )
        sha = item.sha256 or ""
        path = self.path(sha)
        if sha not in self._files:
            return None  # its bytes are gone (deleted by hand): the page says to add it again
        source = MediaSource(
            SourceKind.UPLOAD,
            item.mime_type,
            item.name,
            sha256=sha,
            path=path,
            size=item.size,
            previewable=True,
            probe=item.probe,
        )
        if item.staged_uri:
            source = dataclasses.replace(source, kind=SourceKind.GCS, uri=item.staged_uri)
        return source

    def _make_room(self, incoming: int) -> tuple[str, ...]:
        """Evict least recently used, unreferenced uploads until `incoming` bytes would fit.

        With a bucket nothing is evicted from the library: local copies the bucket holds are
        dropped (fetched again when asked for), and a file the bucket lacks is never dropped.
        """
        if self._files.total_bytes + incoming <= self.max_bytes:
            return ()
        rows = self.db.fetchall(
            "SELECT key, name, sha256, mime_type FROM items WHERE sha256 IS NOT NULL "
            "ORDER BY used_at"
        )
        if self.copies is not None:
            self._drop_local_copies(incoming, [(sha, mime) for _, _, sha, mime in rows])
            return ()
        used = self.usage()
        evicted: list[str] = []
        for key, name, sha256, _ in rows:
            if self._files.total_bytes + incoming <= self.max_bytes:
                break
            # Only what this folder holds frees room in it: with a shared index (PostgreSQL),
            # another instance's uploads are not this one's to evict.
            if used.get(key) or sha256 not in self._files:
                continue
            with self.db.transaction() as tx:
                tx.execute("DELETE FROM items WHERE key = :key", {"key": key})
            self._files.discard(sha256)
            evicted.append(name)
        return tuple(evicted)

    def _drop_local_copies(self, incoming: int, uploads: Sequence[tuple[str, str]]) -> None:
        """Least recently used first, drop local files whose bucket copy is whole."""
        assert self.copies is not None
        for sha256, mime_type in uploads:
            if self._files.total_bytes + incoming <= self.max_bytes:
                return
            if sha256 not in self._files:
                continue
            try:
                in_bucket = self.copies.size(object_name(sha256, mime_type))
            except StagingError:
                continue  # the bucket cannot say: this may be the only copy
            try:
                held = self._files.path(sha256).stat().st_size
            except (KeyError, OSError):
                continue  # gone meanwhile
            if in_bucket == held:
                self._files.discard(sha256)

    def _keep_in_bucket(
        self,
        name: str,
        sha256: str,
        mime_type: str,
        in_bucket: str | None = None,
        progress: Progress | None = None,
    ) -> None:
        """Make sure the bucket holds these bytes (one metadata request when it does)."""
        if self.copies is None:
            return
        target = object_name(sha256, mime_type)
        self._in_bucket.discard(sha256)
        try:
            if in_bucket and in_bucket.startswith(f"gs://{self.copies.bucket}/"):
                self.copies.copy_from(in_bucket, target)
            else:
                self.copies.put_file(self._files.path(sha256), target, mime_type, progress)
        except StagingError as problem:
            raise SourceError(f"{name} could not be kept in the bucket: {problem}") from problem
        self._in_bucket.add(sha256)

    def _confirm_in_bucket(self, item: LibraryItem, progress: Progress | None) -> None:
        """An upload kept before there was a bucket goes there the first time it is used."""
        assert item.sha256 is not None
        if item.sha256 in self._in_bucket:
            return
        try:
            self._keep_in_bucket(item.name, item.sha256, item.mime_type, progress=progress)
        except SourceError:
            return  # this folder holds the bytes, and eviction keeps what the bucket lacks
        self._in_bucket.add(item.sha256)

    def _fetch(self, item: LibraryItem, progress: Progress | None) -> None:
        """Bring an upload's bytes from the bucket into this folder, checked by their hash."""
        assert self.copies is not None and item.sha256 is not None
        if item.sha256 in self._files:
            return
        with self._lock:
            self._make_room(item.size or 0)
        try:
            with self.copies.reader(object_name(item.sha256, item.mime_type), progress) as reader:
                fetched = self._files.put(reader, item.name)
        except SpoolFull as full:
            raise SourceError(self._full_message(item.name)) from full
        except StagingError as problem:
            message = f"{item.name} could not be read from the bucket: {problem}"
            raise SourceError(message) from problem
        if fetched.sha256 != item.sha256:
            if self.get(f"sha256:{fetched.sha256}") is None:
                self._files.discard(fetched.sha256)
            raise SourceError(
                f"{item.name}: the bucket's copy is not the file that was added (its content "
                "hash differs). Delete it from the library and add it again."
            )

    def _full_message(self, name: str) -> str:
        return (
            f"{name} does not fit in the library: it keeps at most "
            f"{self.max_bytes / 1e9:.1f} GB, and what it holds is used by runs or collections. "
            "Delete files you no longer need on the Library page, or raise "
            "REELSCOPE_LIBRARY_MAX_GB."
        )


def move_old_files(data_dir: Path, library: MediaLibrary) -> int:
    """Bring files an older Reelscope kept elsewhere into the library's folder (once).

    Collections kept their videos in `embeddings/blobs/<sha256>` (moved here: the media route
    and the collections find them by hash); per-session upload spools in `spool/` died with
    their sessions (removed). Returns how many files moved.
    """
    moved = 0
    old_blobs = Path(data_dir) / "embeddings" / "blobs"
    if old_blobs.is_dir():
        library.root.mkdir(parents=True, exist_ok=True)
        for entry in old_blobs.iterdir():
            target = library.root / entry.name
            if is_content_hash(entry.name) and entry.is_file() and not target.exists():
                os.replace(entry, target)
                moved += 1
        shutil.rmtree(old_blobs, ignore_errors=True)
    shutil.rmtree(Path(data_dir) / "spool", ignore_errors=True)
    return moved


def _probe_json(probe: MediaProbe | None) -> str | None:
    if probe is None:
        return None
    record: dict[str, Any] = dataclasses.asdict(probe)
    record["type"] = "video" if isinstance(probe, VideoProbe) else "image"
    return json.dumps(record)


def _probe_from(text: str | None) -> MediaProbe | None:
    if not text:
        return None
    record = json.loads(text)
    kind = record.pop("type", "video")
    record["notes"] = tuple(record.get("notes") or ())
    return VideoProbe(**record) if kind == "video" else ImageProbe(**record)


def _item(row) -> LibraryItem:
    row = row._mapping
    cuts = json.loads(row["cuts"]) if row["cuts"] else None
    return LibraryItem(
        key=row["key"],
        kind=SourceKind(row["kind"]),
        name=row["name"],
        mime_type=row["mime_type"],
        owner=row["owner"],
        added_at=dt.datetime.fromisoformat(row["added_at"]),
        used_at=dt.datetime.fromisoformat(row["used_at"]),
        sha256=row["sha256"],
        size=row["size"],
        uri=row["uri"],
        staged_uri=row["staged_uri"],
        probe=_probe_from(row["probe"]),
        cuts=tuple(cuts) if cuts is not None else None,
    )


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
