"""Shot cuts, found locally with FFmpeg's scene filter, and chapter starts snapped onto them.

`ffmpeg -i video -vf "select='gt(scene,0.3)',showinfo" -f null -` decodes every frame and logs
one `showinfo` line per frame whose scene-change score passes the threshold; its `pts_time` is
the cut. On YUV frames FFmpeg scores the luma plane only, so a cut between two colours of the
same brightness (red to green: the test fixture's first cut) scores 0; each frame is therefore
shrunk to 160 px wide RGB first, which makes colour count and costs nothing measurable (the
shrink is cheaper than scoring a 720p plane). Decoding is the cost (~35x real time on 720p
here), so detection runs in the background (`CutDetector`), one video at a time, and the page
draws the cuts when they are in.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
import subprocess
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

from reelscope.chapters.parse import Segment

SCENE_THRESHOLD = 0.3
SNAP_WITHIN_S = 2.0
_SMALL_RGB = "scale=160:-2:flags=fast_bilinear,format=rgb24"
_PTS_TIME = re.compile(r"pts_time:\s*(\d+(?:\.\d+)?)")


class CutError(RuntimeError):
    """FFmpeg could not read the video; the message says what it said."""


def detect_cuts(path: Path, threshold: float = SCENE_THRESHOLD) -> list[float]:
    """Times (s) of the shot cuts in the video at `path`, in order."""
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostats", "-nostdin",
        "-an", "-sn", "-dn", "-i", str(path),
        "-vf", f"{_SMALL_RGB},select='gt(scene,{threshold})',showinfo",
        "-f", "null", "-",
    ]  # fmt: skip
    cuts: list[float] = []
    tail: list[str] = []
    with subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace"
    ) as process:
        assert process.stderr is not None
        for line in process.stderr:
            if "showinfo" in line and (match := _PTS_TIME.search(line)):
                cuts.append(float(match[1]))
            else:
                tail = [*tail[-4:], line.strip()]
    if process.returncode != 0:
        raise CutError(f"FFmpeg could not read the video: {' '.join(tail)[-300:]}")
    return sorted(set(cuts))


@dataclass(frozen=True)
class CutJob:
    """Where the detection of one video's cuts is: running, done or failed."""

    state: str  # "running", "done", "failed"
    started_at: float = 0.0  # time.monotonic() when it started
    cuts: tuple[float, ...] = ()
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.state == "done"


class CutDetector:
    """Detects cuts in the background, one video at a time, and remembers the results by key."""

    def __init__(self, workers: int = 1, kept: int = 64) -> None:
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="cuts")
        self._jobs: OrderedDict[str, CutJob] = OrderedDict()
        self._lock = threading.Lock()
        self._kept = kept

    def job(self, key: str, path: Path) -> CutJob:
        """The job for `key` (e.g. a content hash), started now if it is not known yet."""
        with self._lock:
            job = self._jobs.get(key)
            if job is None:
                self._jobs[key] = job = CutJob("running", started_at=time.monotonic())
                self._forget_old()
                self._pool.submit(self._run, key, path)
            return job

    def peek(self, key: str) -> CutJob | None:
        with self._lock:
            return self._jobs.get(key)

    def _run(self, key: str, path: Path) -> None:
        try:
            cuts = detect_cuts(path)
        except (CutError, OSError) as problem:
            self._set(key, CutJob("failed", error=str(problem)))
        else:
            self._set(key, CutJob("done", cuts=tuple(cuts)))

    def _set(self, key: str, job: CutJob) -> None:
        with self._lock:
            if key in self._jobs:
                self._jobs[key] = job

    def _forget_old(self) -> None:
        while len(self._jobs) > self._kept:
            oldest = next(iter(self._jobs))
            if self._jobs[oldest].state == "running":
                break
            del self._jobs[oldest]


def nearest_cut(time_s: float, cuts: Sequence[float]) -> float | None:
    """The cut closest to `time_s` (cuts in order), or None when there is none."""
    if not cuts:
        return None
    index = bisect.bisect_left(cuts, time_s)
    near = [cuts[i] for i in (index - 1, index) if 0 <= i < len(cuts)]
    return min(near, key=lambda cut: abs(cut - time_s))


def snap_to_cuts(
    segments: Sequence[Segment], cuts: Sequence[float], within_s: float = SNAP_WITHIN_S
) -> tuple[list[Segment], int]:
    """Starts within `within_s` of a cut moved onto it (the previous end follows); how many."""
    snapped: list[Segment] = []
    moved = 0
    for segment in segments:
        cut = nearest_cut(segment.start_s, cuts)
        if cut is not None and 0 < abs(cut - segment.start_s) <= within_s:
            if snapped and snapped[-1].end_s is not None and snapped[-1].end_s == segment.start_s:
                snapped[-1] = dataclasses.replace(snapped[-1], end_s=cut)
            segment = dataclasses.replace(segment, start_s=cut)
            moved += 1
        snapped.append(segment)
    return snapped, moved
