"""Real media fixtures made with the ffmpeg that imageio-ffmpeg ships: nothing is downloaded."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg

SCENE_COLOURS = ("red", "green", "blue", "yellow", "white")


def make_video(
    path: Path, seconds_per_scene: float = 4, scenes: int = 3, audio: bool = True
) -> Path:
    """An H.264 MP4 of `scenes` solid-colour scenes, with a sine tone as audio (AAC)."""
    inputs: list[str] = []
    for colour in SCENE_COLOURS[:scenes]:
        inputs += ["-f", "lavfi", "-i", f"color=c={colour}:s=320x240:r=24:d={seconds_per_scene}"]
    streams = "".join(f"[{i}:v]" for i in range(scenes))
    filters = f"{streams}concat=n={scenes}:v=1:a=0[v]"
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *inputs]
    if audio:
        total = seconds_per_scene * scenes
        command += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={total}"]
    command += ["-filter_complex", filters, "-map", "[v]"]
    if audio:
        command += ["-map", f"{scenes}:a", "-c:a", "aac", "-b:a", "64k"]
    command += ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path)]
    subprocess.run(command, check=True, capture_output=True)
    return path


def make_image(path: Path, colour: str = "orange") -> Path:
    """A small PNG of one colour."""
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error",
        "-f", "lavfi", "-i", f"color=c={colour}:s=64x64:d=1", "-frames:v", "1", str(path),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    return path
