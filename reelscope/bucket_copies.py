"""The bucket's copy of what the app keeps: with REELSCOPE_BUCKET, the data folder is a cache.

The library's uploads, the collections' vectors and their stored maps are written to Cloud
Storage as well as to the local folder, so every instance reads the same bytes and an instance
that is recycled (a new, empty disk) loses nothing: what it lacks it fetches again, on demand.
Media objects are content-addressed and named as staging names them
(`reelscope/<sha256>.<ext>`, reelscope/storage.py), so an upload above the inline limit is
already staged and its bytes are never held twice in the bucket. A collection's files are
named by its id and content hash (`reelscope/collections/<id>/<hash>/...`): a version is
never overwritten, so a reader never sees half of one.

Writes are create-only (`if_generation_match=0`): the same name always holds the same bytes,
so a concurrent write of them ends in 412, which is success. A fetch is written to a temporary
file beside its target and renamed into place. Every failure becomes a StagingError that says
what to do.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from google.api_core import exceptions as api_exceptions
from google.cloud.storage.retry import DEFAULT_RETRY

from reelscope.storage import CHUNK_SIZE, StagingError, explained
from reelscope.vertex import NotConnected

if TYPE_CHECKING:
    from google.cloud import storage

COLLECTIONS_PREFIX = "reelscope/collections/"
RETRY = DEFAULT_RETRY.with_timeout(60)

Progress = Callable[[int, int], None]


class BucketCopies:
    """Objects in one bucket by name; the client is built on first use (it needs credentials)."""

    def __init__(self, client: Callable[[], storage.Client], bucket: str) -> None:
        self.bucket = bucket
        self._make_client = client
        self._client: storage.Client | None = None

    def uri(self, name: str) -> str:
        return f"gs://{self.bucket}/{name}"

    def size(self, name: str) -> int | None:
        """The object's size, or None when there is no such object."""
        with self._explained(name, writing=False):
            blob = self._bucket().get_blob(name, retry=RETRY)
        return None if blob is None else int(blob.size or 0)

    def put_file(
        self,
        path: Path,
        name: str,
        content_type: str | None = None,
        progress: Progress | None = None,
    ) -> bool:
        """Write the file as `name` unless an object of that name and size is there; True when
        bytes were sent. `progress(sent, total)` hears each chunk as it is read."""
        size = path.stat().st_size
        if self.size(name) == size:
            return False
        blob = self._bucket().blob(name, chunk_size=CHUNK_SIZE)
        with self._explained(name, writing=True), path.open("rb") as handle:
            try:
                blob.upload_from_file(
                    _Reporting(handle, size, progress),
                    size=size,
                    content_type=content_type,
                    if_generation_match=0,  # create only: the name's bytes never change
                    retry=RETRY,
                )
            except api_exceptions.PreconditionFailed:
                return False  # written meanwhile by another instance: the same bytes
        return True

    def copy_from(self, uri: str, name: str) -> None:
        """Copy an object of this bucket (`gs://bucket/...`) to `name`, inside Cloud Storage."""
        source_name = uri.removeprefix(f"gs://{self.bucket}/")
        if self.size(name) is not None:
            return
        bucket = self._bucket()
        target = bucket.blob(name)
        with self._explained(name, writing=True):
            token, _, _ = target.rewrite(bucket.blob(source_name), retry=RETRY)
            while token is not None:  # large objects are rewritten in several calls
                token, _, _ = target.rewrite(bucket.blob(source_name), token=token, retry=RETRY)

    def fetch(self, name: str, target: Path, progress: Progress | None = None) -> None:
        """Write the object to `target`, atomically (a temporary file renamed into place)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=target.parent, prefix=".fetch-", delete=False
        ) as handle:
            temp = Path(handle.name)
            try:
                with self.reader(name, progress) as reader:
                    while chunk := reader.read(CHUNK_SIZE):
                        handle.write(chunk)
            except BaseException:
                temp.unlink(missing_ok=True)
                raise
        os.replace(temp, target)

    def reader(self, name: str, progress: Progress | None = None) -> _Reader:
        """The object's bytes as a file to read in chunks (ranged reads of one generation)."""
        with self._explained(name, writing=False):
            blob = self._bucket().get_blob(name, retry=RETRY)
        if blob is None:
            raise StagingError(
                f"{self.uri(name)} is missing from the bucket: it was deleted there, or never "
                "written. Add the file again."
            )
        with self._explained(name, writing=False):
            handle = blob.open("rb", chunk_size=CHUNK_SIZE, if_generation_match=blob.generation)
        return _Reader(self, name, handle, int(blob.size or 0), progress)

    def delete(self, name: str) -> None:
        """Remove the object; one already gone is fine."""
        with self._explained(name, writing=True), contextlib.suppress(api_exceptions.NotFound):
            self._bucket().delete_blob(name, retry=RETRY)

    def delete_prefix(self, prefix: str) -> None:
        """Remove every object whose name starts with `prefix` (a collection's versions)."""
        with self._explained(prefix, writing=True):
            for blob in self._client_().list_blobs(self.bucket, prefix=prefix, retry=RETRY):
                with contextlib.suppress(api_exceptions.NotFound):  # removed meanwhile
                    blob.delete(retry=RETRY)

    def _bucket(self) -> storage.Bucket:
        return self._client_().bucket(self.bucket)

    def _client_(self) -> storage.Client:
        if self._client is None:
            try:
                self._client = self._make_client()
            except NotConnected as problem:
                raise StagingError(
                    f"Cloud Storage is not set up for gs://{self.bucket}: {problem} "
                    + " ".join(problem.fixes)
                ) from problem
        return self._client

    def _explained(self, name: str, *, writing: bool):
        return explained(self._client_(), self.bucket, self.uri(name), writing=writing)


class _Reporting:
    """A file as an upload reads it, telling `progress` how far the reading got."""

    def __init__(self, handle: BinaryIO, size: int, progress: Progress | None) -> None:
        self._handle = handle
        self._size = size
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        if self._progress is not None:
            self._progress(self._handle.tell(), self._size)
        return data

    def tell(self) -> int:
        return self._handle.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._handle.seek(offset, whence)


class _Reader:
    """An object opened for reading: read(n), reporting progress, errors explained."""

    def __init__(
        self,
        copies: BucketCopies,
        name: str,
        handle: BinaryIO,
        size: int,
        progress: Progress | None,
    ) -> None:
        self._copies = copies
        self._name = name
        self._handle = handle
        self.size = size
        self._progress = progress
        self._read = 0

    def read(self, size: int = -1) -> bytes:
        with self._copies._explained(self._name, writing=False):
            data = self._handle.read(size)
        self._read += len(data)
        if self._progress is not None:
            self._progress(self._read, self.size)
        return data

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
