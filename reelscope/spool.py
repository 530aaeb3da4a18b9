"""A folder of files named by their content hash: the media library's bytes (reelscope/library.py).

A source refers to its bytes by SHA-256, so they survive reruns, page visits and restarts and
are never held twice. Bytes are streamed in chunks: hashed while written to a temporary file in
the same folder, then renamed atomically to `<sha256>`, so a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK_BYTES = 1 << 20
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def is_content_hash(text: object) -> bool:
    """Whether `text` is a SHA-256 hex digest as the app names content by (lowercase)."""
    return isinstance(text, str) and _SHA256.match(text) is not None


_TEMP_PREFIX = ".put-"


class SpoolFull(Exception):
    """Storing these bytes would take the spool over its limit; the message says what to do."""


@dataclass(frozen=True)
class SpooledFile:
    sha256: str
    path: Path
    size: int
    name: str  # the name it was put under (the same bytes may come back under another)


class Spool:
    """One folder of files by content hash, bounded by `max_bytes`. Thread-safe."""

    def __init__(self, root: Path, max_bytes: int, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._chunk_bytes = chunk_bytes
        self._lock = threading.Lock()
        self._sizes: dict[str, int] = {}
        self._adopt_existing()

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return sum(self._sizes.values())

    def __contains__(self, sha256: object) -> bool:
        with self._lock:
            return sha256 in self._sizes or self._adopt(sha256)

    def put(self, data: bytes | BinaryIO, name: str) -> SpooledFile:
        """Store bytes (or a binary file object, read in chunks) and return where they are."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        written = 0
        with tempfile.NamedTemporaryFile(
            dir=self.root, prefix=_TEMP_PREFIX, delete=False
        ) as handle:
            temp = Path(handle.name)
            try:
                for chunk in _chunks(data, self._chunk_bytes):
                    digest.update(chunk)
                    if written >= 0:  # once over the limit, only hash: it may be a duplicate
                        written = self._write_within_limit(handle, chunk, written)
            except BaseException:
                temp.unlink(missing_ok=True)
                raise
        try:
            return self._commit(temp, digest.hexdigest(), written, name)
        finally:
            temp.unlink(missing_ok=True)  # gone already when it became <sha256>

    def path(self, sha256: str) -> Path:
        """The file holding these bytes. KeyError when the spool does not hold them."""
        with self._lock:
            if sha256 not in self._sizes and not self._adopt(sha256):
                raise KeyError(f"{sha256} is not in the spool")
        return self.root / sha256

    def _adopt(self, sha256: object) -> bool:
        """A file another writer put in the folder under its hash (a collection's copy)."""
        if not is_content_hash(sha256):
            return False
        try:
            self._sizes[str(sha256)] = (self.root / str(sha256)).stat().st_size
        except OSError:
            return False
        return True

    def open(self, sha256: str) -> BinaryIO:
        """The bytes for reading. A reader keeps its bytes even if they are discarded meanwhile."""
        handle = self.path(sha256).open("rb")
        _touch(self.root)
        return handle

    def discard(self, sha256: str) -> None:
        with self._lock:
            if self._sizes.pop(sha256, None) is not None:
                (self.root / sha256).unlink(missing_ok=True)

    def clear(self) -> None:
        """Remove the whole folder."""
        with self._lock:
            self._sizes.clear()
            shutil.rmtree(self.root, ignore_errors=True)

    def _write_within_limit(self, handle: BinaryIO, chunk: bytes, written: int) -> int:
        """Write a chunk while the bytes could still fit; -1 (no more writing) once they can't.

        Nothing is reserved while writing, so concurrent puts never starve each other; the
        limit is enforced when a put commits, under the lock.
        """
        if self.total_bytes + written + len(chunk) > self.max_bytes:
            return -1
        handle.write(chunk)
        return written + len(chunk)

    def _commit(self, temp: Path, sha256: str, written: int, name: str) -> SpooledFile:
        final = self.root / sha256
        with self._lock:
            if sha256 in self._sizes:  # the same bytes again: keep the file we have
                size = self._sizes[sha256]
            elif written < 0 or sum(self._sizes.values()) + written > self.max_bytes:
                raise SpoolFull(self._full_message(name))
            else:
                os.replace(temp, final)
                self._sizes[sha256] = size = written
        _touch(self.root)
        return SpooledFile(sha256=sha256, path=final, size=size, name=name)

    def _full_message(self, name: str) -> str:
        held = sum(self._sizes.values())
        return (
            f"{name} does not fit: this folder keeps at most {_mb(self.max_bytes)} of uploads "
            f"and already holds {_mb(held)}. Remove a source you no longer need, or use a "
            "shorter clip of the video."
        )

    def _adopt_existing(self) -> None:
        """Files kept before this process started stay usable."""
        if not self.root.is_dir():
            return
        for entry in self.root.iterdir():
            if _SHA256.match(entry.name) and entry.is_file():
                self._sizes[entry.name] = entry.stat().st_size
            elif entry.name.startswith(_TEMP_PREFIX):
                entry.unlink(missing_ok=True)  # a put that never finished


def _chunks(data: bytes | BinaryIO, size: int) -> Iterator[bytes]:
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data)
        for start in range(0, len(view), size):
            yield bytes(view[start : start + size])
        return
    while chunk := data.read(size):
        yield chunk


def _touch(folder: Path) -> None:
    with contextlib.suppress(FileNotFoundError):  # cleared meanwhile
        os.utime(folder)


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"
