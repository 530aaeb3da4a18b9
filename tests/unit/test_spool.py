"""The session spool on a real folder: content-hash files, limits, streaming, threads, sweeping."""

from __future__ import annotations

import hashlib
import io
import threading
import tracemalloc
from pathlib import Path

import pytest

from reelscope.spool import Spool, SpoolFull


class CountingReader(io.RawIOBase):
    """A stream of `total` pseudo-random bytes made on the fly, remembering its largest read."""

    def __init__(self, total: int, seed: int = 1) -> None:
        self.left = total
        self.largest_read = 0
        self.digest = hashlib.sha256()
        self._block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KiB pattern

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.largest_read = max(self.largest_read, size)
        n = min(self.left, size if size >= 0 else self.left)
        out = (self._block * (n // len(self._block) + 1))[:n]
        self.left -= n
        self.digest.update(out)
        return out


def test_put_keeps_the_bytes_once_under_their_hash(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s", max_bytes=10_000)
    data = b"video bytes " * 100
    first = spool.put(data, "a.mp4")
    assert first.sha256 == hashlib.sha256(data).hexdigest()
    assert first.path == tmp_path / "s" / first.sha256
    assert first.path.read_bytes() == data and first.size == len(data)
    again = spool.put(io.BytesIO(data), "renamed.mov")
    assert (again.sha256, again.path, again.name) == (first.sha256, first.path, "renamed.mov")
    assert spool.total_bytes == len(data)
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == [first.sha256]
    with spool.open(first.sha256) as handle:
        assert handle.read() == data
    assert spool.path(first.sha256) == first.path and first.sha256 in spool


def test_put_streams_in_chunks_without_holding_the_file(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s", max_bytes=100_000_000, chunk_bytes=256 * 1024)
    reader = CountingReader(30_000_000)
    tracemalloc.start()
    try:
        spooled = spool.put(reader, "big.mp4")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert spooled.size == 30_000_000 and spooled.sha256 == reader.digest.hexdigest()
    assert reader.largest_read == 256 * 1024
    assert peak < 3_000_000, f"peak {peak} bytes: the file was held in memory"


def test_a_full_spool_refuses_with_a_message_and_leaves_nothing_behind(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s", max_bytes=1_000, chunk_bytes=100)
    kept = spool.put(b"a" * 600, "first.mp4")
    with pytest.raises(SpoolFull, match=r"second\.mp4 does not fit.*at most 0\.0 MB"):
        spool.put(b"b" * 600, "second.mp4")
    assert [p.name for p in (tmp_path / "s").iterdir()] == [kept.sha256]
    assert spool.total_bytes == 600
    # The same bytes again need no room: they are already there.
    assert spool.put(io.BytesIO(b"a" * 600), "first-again.mp4").path == kept.path
    spool.discard(kept.sha256)
    assert spool.put(b"b" * 600, "second.mp4").size == 600


def test_discard_and_clear(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s", max_bytes=10_000)
    one, two = spool.put(b"one", "1.png"), spool.put(b"two", "2.png")
    with spool.open(one.sha256) as reader:
        spool.discard(one.sha256)
        assert reader.read() == b"one"  # an open reader keeps its bytes
    assert not one.path.exists() and one.sha256 not in spool
    with pytest.raises(KeyError):
        spool.path(one.sha256)
    assert spool.total_bytes == 3
    spool.clear()
    assert not (tmp_path / "s").exists() and spool.total_bytes == 0 and two.sha256 not in spool
    assert spool.put(b"three", "3.png").path.read_bytes() == b"three"  # usable after clear


def test_a_new_spool_adopts_files_kept_before_and_drops_half_puts(tmp_path: Path) -> None:
    root = tmp_path / "s"
    kept = Spool(root, max_bytes=10_000).put(b"kept", "k.mp4")
    (root / ".put-crashed").write_bytes(b"half")
    again = Spool(root, max_bytes=10_000)
    assert kept.sha256 in again and again.total_bytes == 4
    assert sorted(p.name for p in root.iterdir()) == [kept.sha256]


def test_threads_put_and_read_at_once_within_the_limit(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s", max_bytes=1_000_000, chunk_bytes=4096)
    shared = spool.put(b"s" * 50_000, "shared.mp4")
    payloads = [bytes([i]) * 150_000 for i in range(10)]  # 1.5 MB offered, 1 MB allowed
    results: list[object] = []
    reads: list[bool] = []

    def writer(data: bytes) -> None:
        try:
            results.append(spool.put(io.BytesIO(data), "w.mp4"))
        except SpoolFull as full:
            results.append(full)

    def reader() -> None:
        for _ in range(50):
            with spool.open(shared.sha256) as handle:
                reads.append(handle.read() == b"s" * 50_000)

    threads = [threading.Thread(target=writer, args=(p,)) for p in payloads]
    threads += [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = [r for r in results if not isinstance(r, SpoolFull)]
    assert len(stored) == 6  # 50 kB + 6 x 150 kB fits in 1 MB; a seventh would not
    assert spool.total_bytes == 50_000 + 6 * 150_000 <= spool.max_bytes
    files = sorted(p.name for p in spool.root.iterdir())
    assert files == sorted([shared.sha256, *(s.sha256 for s in stored)])  # no temp files
    assert all(reads) and len(reads) == 150


def test_a_file_another_writer_puts_under_its_hash_is_found(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "media", max_bytes=10_000)
    sha = hashlib.sha256(b"kept by a collection").hexdigest()
    (tmp_path / "media").mkdir(exist_ok=True)
    (tmp_path / "media" / sha).write_bytes(b"kept by a collection")
    assert sha in spool and spool.path(sha).read_bytes() == b"kept by a collection"
    assert "not-a-hash" not in spool
