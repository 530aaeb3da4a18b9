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


def _ffmpeg(*args: str) -> None:
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *args]
    subprocess.run(command, check=True, capture_output=True)


def make_webm(path: Path, seconds: float = 2, audio: bool = True) -> Path:
    """A VP9 + Opus WebM (the Matroska family: PyAV's demuxer is "matroska,webm")."""
    args = ["-f", "lavfi", "-i", f"testsrc=s=64x48:r=12:d={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=330:sample_rate=48000:duration={seconds}"]
        args += ["-c:a", "libopus", "-b:a", "24k"]
    # Realtime deadline and speed 8 keep libvpx-vp9 fast on a tiny frame.
    args += ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "50k"]
    _ffmpeg(*args, str(path))
    return path


def make_mov(path: Path, seconds: float = 2, audio: bool = True) -> Path:
    """An H.264 (+ AAC) QuickTime movie: major brand "qt  ", unlike an MP4."""
    args = ["-f", "lavfi", "-i", f"testsrc=s=64x48:r=12:d={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=550:duration={seconds}", "-c:a", "aac"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-f", "mov"]
    _ffmpeg(*args, str(path))
    return path


def make_long_video(
    path: Path,
    seconds: float,
    audio: bool = True,
    size: str = "64x36",
    fps: int = 1,
    sample_rate: int = 8000,
    video_kbps: int | None = None,
) -> Path:
    """A long, cheap MP4: tiny frames, few of them, and a silent mono AAC track.

    Silence keeps the AAC encoder (nearly all the cost) fast: 50 minutes take about a second.
    The track is still a real audio stream, which is what duration limits care about.
    `video_kbps` pads the video to a constant bitrate (filler data, cheap to make) for a file
    as large as a real recording of that length.
    """
    args = ["-f", "lavfi", "-i", f"color=c=navy:s={size}:r={fps}:d={seconds}"]
    if audio:
        silence = f"anullsrc=r={sample_rate}:cl=mono:d={seconds}"
        args += ["-f", "lavfi", "-i", silence, "-c:a", "aac", "-b:a", "8k"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if video_kbps:
        rate = f"{video_kbps}k"
        args += ["-x264-params", "nal-hrd=cbr", "-b:v", rate, "-minrate", rate, "-maxrate", rate]
        args += ["-bufsize", f"{video_kbps // 2}k"]
    args += ["-g", "600", "-shortest", "-movflags", "+faststart"]
    _ffmpeg(*args, str(path))
    return path


def make_image_pair(folder: Path) -> tuple[Path, Path]:
    """Two images of different formats and sizes: a 64x64 PNG and a 96x48 JPEG."""
    png = make_image(folder / "pair-a.png", colour="orange")
    jpeg = folder / "pair-b.jpg"
    _ffmpeg("-f", "lavfi", "-i", "color=c=teal:s=96x48:d=1", "-frames:v", "1", str(jpeg))
    return png, jpeg


def make_corrupt_mp4(path: Path, keep_bytes: int = 300) -> Path:
    """A real MP4 cut inside its header: `ftyp` is intact, `moov` is truncated."""
    whole = make_video(path.with_name(f"whole-{path.name}"), seconds_per_scene=1, scenes=1)
    path.write_bytes(whole.read_bytes()[:keep_bytes])
    whole.unlink()
    return path


def make_empty_file(path: Path) -> Path:
    """A zero-byte file (e.g. an upload that was interrupted)."""
    path.write_bytes(b"")
    return path


def make_text_file(path: Path) -> Path:
    """Plain text under whatever name the caller gives (e.g. notes.mov)."""
    path.write_text("These are meeting notes, not a video.\n" * 20, encoding="utf-8")
    return path
