"""Probing real files made by ffmpeg: the verdict for each of the issue's bad-input matrix."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest

from reelscope.probe import (
    ImageProbe,
    ProbeError,
    VideoProbe,
    probe_image,
    probe_media,
    probe_video,
)
from tests.media_files import (
    make_corrupt_mp4,
    make_empty_file,
    make_image_pair,
    make_long_video,
    make_mov,
    make_text_file,
    make_video,
    make_webm,
)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("probe")
    png, jpeg = make_image_pair(folder)
    return {
        "mp4": make_video(folder / "scenes.mp4", seconds_per_scene=1, scenes=3),
        "webm": make_webm(folder / "clip.webm", seconds=2),
        "mov": make_mov(folder / "clip.mov", seconds=2),
        "silent": make_video(folder / "silent.mp4", seconds_per_scene=1, scenes=2, audio=False),
        "three_minutes": make_long_video(folder / "three-minutes.mp4", 180),
        "fifty_minutes": make_long_video(folder / "fifty-minutes.mp4", 3000),
        "png": png,
        "jpeg": jpeg,
        "corrupt": make_corrupt_mp4(folder / "corrupt.mp4"),
        "empty": make_empty_file(folder / "empty.mp4"),
        "text": make_text_file(folder / "notes.mov"),
    }


@pytest.mark.parametrize(
    ("key", "mime", "fmt", "video_codec", "audio_codec", "duration", "size"),
    [
        ("mp4", "video/mp4", "mov,mp4,m4a,3gp,3g2,mj2", "h264", "aac", 3.0, (320, 240)),
        ("webm", "video/webm", "matroska,webm", "vp9", "opus", 2.0, (64, 48)),
        ("mov", "video/quicktime", "mov,mp4,m4a,3gp,3g2,mj2", "h264", "aac", 2.0, (64, 48)),
        ("silent", "video/mp4", "mov,mp4,m4a,3gp,3g2,mj2", "h264", None, 2.0, (320, 240)),
        ("three_minutes", "video/mp4", "mov,mp4,m4a,3gp,3g2,mj2", "h264", "aac", 180.0, (64, 36)),
        ("fifty_minutes", "video/mp4", "mov,mp4,m4a,3gp,3g2,mj2", "h264", "aac", 3000.0, (64, 36)),
    ],
)
def test_videos_probe_to_their_real_facts(
    media: dict[str, Path], key, mime, fmt, video_codec, audio_codec, duration, size
) -> None:
    probe = probe_media(media[key])
    assert isinstance(probe, VideoProbe)
    assert (probe.mime_type, probe.format_name) == (mime, fmt)
    assert (probe.video_codec, probe.audio_codec) == (video_codec, audio_codec)
    assert probe.has_audio is (audio_codec is not None)
    assert probe.duration_s == pytest.approx(duration, abs=0.1)
    assert (probe.width, probe.height) == size
    assert probe.size_bytes == media[key].stat().st_size
    assert probe.fps is not None and probe.fps > 0
    assert probe.notes == ()


def test_frame_rate_comes_from_the_stream(media: dict[str, Path]) -> None:
    assert probe_video(media["mp4"]).fps == 24.0
    assert probe_video(media["fifty_minutes"]).fps == 1.0


@pytest.mark.parametrize(
    ("key", "mime", "fmt", "size"),
    [("png", "image/png", "PNG", (64, 64)), ("jpeg", "image/jpeg", "JPEG", (96, 48))],
)
def test_images_probe_to_format_and_size(media: dict[str, Path], key, mime, fmt, size) -> None:
    probe = probe_media(media[key])
    assert isinstance(probe, ImageProbe)
    assert (probe.mime_type, probe.format_name, (probe.width, probe.height)) == (mime, fmt, size)
    assert probe_image(media[key]) == probe


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("corrupt", "is damaged: its header cannot be read"),
        ("empty", "is empty (0 bytes)"),
        ("text", "is not a video or image file"),
    ],
)
def test_bad_files_are_refused_with_their_reason(media: dict[str, Path], key, words) -> None:
    with pytest.raises(ProbeError) as caught:
        probe_media(media[key])
    assert words in caught.value.reason
    assert media[key].name in str(caught.value)


def test_a_renamed_container_is_taken_from_the_bytes_and_named(media: dict[str, Path]) -> None:
    probe = probe_media(media["mov"], claimed_name="holiday.mp4")
    assert probe.mime_type == "video/quicktime"
    assert len(probe.notes) == 1
    assert "holiday.mp4" in probe.notes[0] and "video/quicktime" in probe.notes[0]
    webm_as_mov = probe_media(media["webm"], claimed_name="talk.mov")
    assert webm_as_mov.mime_type == "video/webm" and "talk.mov" in webm_as_mov.notes[0]
    assert probe_media(media["mp4"], claimed_name="same.M4V").notes == ()


@pytest.mark.parametrize("keep", [8, 40, 300, 1_000, 2_000])
def test_an_mp4_cut_anywhere_in_its_header_is_damaged(tmp_path: Path, keep: int) -> None:
    broken = make_corrupt_mp4(tmp_path / f"cut-{keep}.mp4", keep_bytes=keep)
    with pytest.raises(ProbeError, match="damaged"):
        probe_video(broken)


@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.9])
def test_an_mp4_cut_after_its_header_ends_early(
    media: dict[str, Path], tmp_path: Path, fraction: float
) -> None:
    whole = media["mp4"].read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole[: int(len(whole) * fraction)])
    with pytest.raises(ProbeError, match="ends early"):
        probe_video(cut)


def test_audio_only_and_still_images_are_not_videos(media: dict[str, Path], tmp_path: Path) -> None:
    song = tmp_path / "song.m4a"
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi",
               "-i", "sine=duration=1", "-c:a", "aac", str(song)]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    with pytest.raises(ProbeError, match="no video stream"):
        probe_media(song)
    with pytest.raises(ProbeError, match="still image"):
        probe_video(media["png"])
    with pytest.raises(ProbeError, match="not an image"):
        probe_image(media["mp4"])


def test_a_webm_without_duration_in_its_header_is_measured(tmp_path: Path) -> None:
    # How a browser's MediaRecorder writes WebM: a live stream, no duration, no index.
    live = tmp_path / "recorded.webm"
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi",
               "-i", "testsrc=s=64x48:r=10:d=3", "-c:v", "libvpx-vp9", "-deadline", "realtime",
               "-cpu-used", "8", "-f", "webm", "pipe:1"]  # fmt: skip
    live.write_bytes(subprocess.run(command, check=True, capture_output=True).stdout)
    probe = probe_video(live)
    assert probe.mime_type == "video/webm"
    assert probe.duration_s == pytest.approx(3.0, abs=0.15)


def test_a_damaged_image_is_refused(media: dict[str, Path], tmp_path: Path) -> None:
    cut = tmp_path / "cut.png"
    cut.write_bytes(media["png"].read_bytes()[:60])
    with pytest.raises(ProbeError, match="damaged or incomplete image"):
        probe_media(cut)


def test_a_missing_file_is_a_probe_error(tmp_path: Path) -> None:
    with pytest.raises(ProbeError, match="could not be read"):
        probe_media(tmp_path / "gone.mp4")
