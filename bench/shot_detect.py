"""Benchmark: shot-cut detection speed on a generated 10-minute 720p video.

`bench shot_detect_speed_x` is seconds of video per second of wall time for
`reelscope.chapters.shots.detect_cuts` (FFmpeg's scene filter on frames shrunk to 160 px RGB);
beside it, in the same run, `bench shot_detect_decode_only_speed_x`: the same FFmpeg decoding
the same file to null with no filter, the floor detection cannot beat. Goal: >= 30.
The video (H.264 720p 25 fps, a hue jump every 7 s) is made once and kept in the temp folder.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

import imageio_ffmpeg

from reelscope.chapters.shots import detect_cuts

SECONDS = 600
CUT_EVERY_S = 7
ROUNDS = 2


def make_720p(path: Path) -> Path:
    if path.exists():
        return path
    partial = path.with_suffix(".part.mp4")
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error",
        "-f", "lavfi", "-i", f"testsrc2=s=1280x720:r=25:d={SECONDS}",
        "-vf", f"hue=H='2*floor(t/{CUT_EVERY_S})'",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "23", "-pix_fmt", "yuv420p",
        str(partial),
    ]  # fmt: skip
    subprocess.run(command, check=True)
    partial.rename(path)
    return path


def decode_only(path: Path) -> None:
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostats", "-nostdin", "-an",
        "-i", str(path), "-f", "null", "-",
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    folder = Path(tempfile.gettempdir()) / "reelscope-bench"
    folder.mkdir(exist_ok=True)
    video = make_720p(folder / f"hue-cuts-720p-{SECONDS}s.mp4")
    cuts: list[float] = []
    detect, decode = [], []
    for _ in range(ROUNDS):  # alternate, so load from other work hits both alike
        detect.append(timed(lambda: cuts.extend(detect_cuts(video))))
        decode.append(timed(lambda: decode_only(video)))
    expected = SECONDS // CUT_EVERY_S
    found = len(set(cuts))
    print(f"{SECONDS} s of 720p, {ROUNDS} rounds; {found} cuts found, {expected} made")
    print(f"  detect_cuts   best {min(detect):.2f} s  ({', '.join(f'{t:.2f}' for t in detect)})")
    print(f"  decode only   best {min(decode):.2f} s  ({', '.join(f'{t:.2f}' for t in decode)})")
    print(f"bench shot_detect_speed_x: {SECONDS / min(detect):.1f}")
    print(f"bench shot_detect_decode_only_speed_x: {SECONDS / min(decode):.1f}")


if __name__ == "__main__":
    main()
