"""Benchmark: peak memory of staging a 1 GB file to Cloud Storage, against reading it whole.

A 1 GB file of random bytes is staged with reelscope.storage.stage_file to gcp-storage-emulator
running in its own process (in memory: its copy of the gigabyte is not counted here). The
number is this process's peak RSS above its RSS just before staging (Linux VmHWM, reset through
/proc/self/clear_refs), goal < 300 MB. The baseline is the same measurement around reading the
file whole (`Path.read_bytes()`), what a naive upload would cost at least.
Run with `python -m bench.staging_rss` (Linux; needs ~4 GB free RAM for the emulator's copy).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from reelscope.settings import Settings
from reelscope.storage import stage_file
from reelscope.vertex import make_storage_client
from tests.conftest import run_storage_emulator

FILE_SIZE = 1024 * 1024 * 1024  # 1 GiB
BLOCK = 8 * 1024 * 1024
BUCKET = "bench-staging"


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, run_storage_emulator() as emulator:
        path, digest = _write_random_file(Path(folder) / "big.mp4", FILE_SIZE)
        client = make_storage_client(Settings(project="bench", storage_emulator_host=emulator))
        client.create_bucket(BUCKET)
        reports: list[int] = []

        def stage() -> None:
            staged = stage_file(
                client, BUCKET, path, digest, "video/mp4", progress=lambda s, t: reports.append(s)
            )
            assert staged.uploaded and staged.size == FILE_SIZE, staged

        started = time.perf_counter()
        staging_mb = _peak_rss_above_baseline_mb(stage)
        elapsed = time.perf_counter() - started
        stored = client.bucket(BUCKET).get_blob(f"reelscope/{digest}.mp4")
        assert stored is not None and stored.size == FILE_SIZE, "the object must be complete"
        read_all_mb = _peak_rss_above_baseline_mb(lambda: len(path.read_bytes()))
        print(
            f"staged {FILE_SIZE / 1e9:.2f} GB in {elapsed:.1f} s "
            f"({FILE_SIZE / 1e6 / elapsed:.0f} MB/s, {len(reports)} progress reports)"
        )
        print(f"bench staging_1gb_peak_rss_mb: {staging_mb:.1f}")
        print(f"bench staging_1gb_read_all_rss_mb: {read_all_mb:.1f}")


def _write_random_file(path: Path, size: int) -> tuple[Path, str]:
    """Random bytes (nothing compresses or dedups them), written and hashed block by block."""
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        for _ in range(size // BLOCK):
            block = os.urandom(BLOCK)
            digest.update(block)
            handle.write(block)
    return path, digest.hexdigest()


def _peak_rss_above_baseline_mb(work: Callable[[], object]) -> float:
    """Peak RSS while `work` runs, minus the RSS just before it, in MB (10^6 bytes)."""
    # Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
    Path("/proc/self/clear_refs").write_text("5")
    baseline = _status_kib("VmRSS")
    work()
    return (_status_kib("VmHWM") - baseline) * 1024 / 1e6


def _status_kib(field: str) -> int:
    status = Path("/proc/self/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"/proc/self/status has no {field}: this benchmark needs Linux")
    return int(match.group(1))


if __name__ == "__main__":
    main()
