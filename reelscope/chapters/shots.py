"""Shot cuts, found locally with FFmpeg's scene filter, and chapter starts snapped onto them.

`ffmpeg -i video -vf "select='gt(scene,0.3)',showinfo" -f null -` decodes every frame and logs
one `showinfo` line per frame whose scene-change score passes the threshold; its `pts_time` is
the cut. On YUV frames FFmpeg scores the luma plane only, so a cut between two colours of the
same brightness (red to green: the test fixture's first cut) scores 0; each frame is therefore
shrunk to 160 px wide RGB first, which makes colour count and costs nothing measurable (the
shrink is cheaper than scoring a 720p plane). Decoding is the cost (~35x real time on 720p
here), so detection runs in the background as a task (`CutTask`), one video at a time, and the
page draws the cuts when they are in.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
import subprocess
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import imageio_ffmpeg

from reelscope.chapters.parse import Segment
from reelscope.tasks import LOCAL_OWNER, Progress, Task, TaskState, start_thread

SCENE_THRESHOLD = 0.3
SPEED_X = 30  # seconds of video per second of detection, as measured (bench/shot_detect.py)
SNAP_WITHIN_S = 2.0
_SMALL_RGB = "scale=160:-2:flags=fast_bilinear,format=rgb24"
_PTS_TIME = re.compile(r"pts_time:\s*(\d+(?:\.\d+)?)")


class CutError(RuntimeError):
    """FFmpeg could not read the video; the message says what it said."""


def detect_cuts(
    path: Path,
    threshold: float = SCENE_THRESHOLD,
    started: Callable[[subprocess.Popen], None] | None = None,
) -> list[float]:
    """Times (s) of the shot cuts in the video at `path`, in order.

    `started` gets the FFmpeg process as soon as it runs (so a cancel can end it).
    """
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
        if started is not None:
            started(process)
        for line in process.stderr:
            if "showinfo" in line and (match := _PTS_TIME.search(line)):
                cuts.append(float(match[1]))
            else:
                tail = [*tail[-4:], line.strip()]
    if process.returncode != 0:
        raise CutError(f"FFmpeg could not read the video: {' '.join(tail)[-300:]}")
    return sorted(set(cuts))


class CutTask(Task):
    """Detects one video's cuts in the background; `key` is its content hash.

    One FFmpeg at a time on this machine (decoding takes both cores): a second detection waits
    its turn, and says so. Cancel ends FFmpeg at once. The cuts are handed to `keep` (the
    media library stores them), so a video is decoded once, not once per page or session.
    """

    kind = "shot-cuts"
    _turn = threading.Semaphore(1)

    def __init__(
        self,
        path: Path,
        *,
        sha256: str,
        label: str,
        keep: Callable[[list[float]], None],
        duration_s: float | None = None,
        owner: str = LOCAL_OWNER,
        origin: str | None = None,
    ) -> None:
        super().__init__(owner=owner, label=label, key=sha256, origin=origin)
        self._path = path
        self._keep = keep
        self._duration_s = duration_s
        self._process: subprocess.Popen | None = None
        self._waiting = True
        self.cuts: tuple[float, ...] = ()
        self.error: str | None = None

    def start(self) -> CutTask:
        start_thread(self, self._work)
        return self

    def progress(self) -> Progress:
        status = self.status
        if status is TaskState.DONE:
            return Progress(status, f"{len(self.cuts)} shot cuts detected.", 1.0)
        if status is TaskState.FAILED:
            return Progress(status, f"Shot cuts could not be detected: {self.error}")
        if status is TaskState.CANCELLED:
            return Progress(status, "Shot-cut detection stopped.")
        if self._waiting:
            return Progress(status, "Shot cuts: waiting for another video's detection…")
        about = (self._duration_s or 0) / SPEED_X
        estimate = f" (about {about:.0f} s)" if about >= 2 else ""
        return Progress(status, f"Detecting shot cuts{estimate}… {self.elapsed():.0f} s")

    def cancel(self) -> bool:
        ended = self.finish(TaskState.CANCELLED)
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
        return ended

    def _work(self) -> None:
        with self._turn:
            if self.done:
                return  # cancelled while it waited
            self._waiting = False
            self.changed()
            try:
                cuts = detect_cuts(self._path, started=self._started_process)
            except (CutError, OSError) as problem:
                self.error = str(problem)
                self.finish(TaskState.FAILED)
                return
            finally:
                self._process = None
        if self.done:
            return
        self.cuts = tuple(cuts)
        self._keep(cuts)
        self.finish(TaskState.DONE)

    def _started_process(self, process: subprocess.Popen) -> None:
        self._process = process
        if self.done:
            process.kill()


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
