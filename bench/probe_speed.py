"""Benchmark: probing a one-hour video reads its headers, not its frames.

Makes a one-hour MP4 shaped like a real recording where it matters to a prober: 24 fps video
and 44.1 kHz AAC audio (86,400 video and ~155,000 audio samples in the `moov` index), padded
to 1 Mbit/s (~450 MB). Then measures, in the same run:
- `probe_1h_s`: `reelscope.probe.probe_video` (median of several probes; goal < 1 s);
- `probe_1h_read_all_s`: reading the whole file once, in 1 MiB chunks (from the page cache:
  a floor for anything that looks at every byte);
- `probe_1h_demux_all_s`: walking every packet with PyAV without decoding (what a prober
  that counts frames would cost).
Run with `.venv/bin/python -m bench.probe_speed` (part of `make bench`).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av

from reelscope.probe import probe_video
from tests.media_files import make_long_video

ONE_HOUR_S = 3_600
ROUNDS = 7


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="reelscope-bench-") as folder:
        path = Path(folder) / "one-hour.mp4"
        started = time.perf_counter()
        make_long_video(
            path, ONE_HOUR_S, size="32x18", fps=24, sample_rate=44_100, video_kbps=1_000
        )
        made_s = time.perf_counter() - started
        probe = probe_video(path)
        assert abs(probe.duration_s - ONE_HOUR_S) < 1, probe
        read_all = _median(lambda: _read_all(path))
        demux_all = _timed(lambda: _demux_all(path))
        probe_s = _median(lambda: probe_video(path))
    shape = f"{probe.width}x{probe.height} at {probe.fps:g} fps"
    print(f"one-hour fixture: {shape}, made in {made_s:.1f} s")
    print(f"bench probe_1h_file_mb: {probe.size_bytes / 1_000_000:.1f}")
    print(f"bench probe_1h_demux_all_s: {demux_all:.4f}")
    print(f"bench probe_1h_read_all_s: {read_all:.4f}")
    print(f"bench probe_1h_s: {probe_s:.4f}")


def _read_all(path: Path) -> None:
    with path.open("rb") as handle:
        while handle.read(1 << 20):
            pass


def _demux_all(path: Path) -> None:
    with av.open(str(path)) as container:
        for _ in container.demux():
            pass


def _median(action: Callable[[], object]) -> float:
    return statistics.median(_timed(action) for _ in range(ROUNDS))


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
