"""Shot cuts found by FFmpeg's scene filter on a generated video with known cuts (4 s and 8 s)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from reelscope.chapters.parse import Segment
from reelscope.chapters.shots import CutError, CutTask, detect_cuts, nearest_cut, snap_to_cuts
from reelscope.tasks import TaskState
from tests.media_files import make_empty_file, make_video


def test_cuts_found_within_half_a_second(video_file: Path) -> None:
    cuts = detect_cuts(video_file)
    assert len(cuts) == 2
    assert cuts[0] == pytest.approx(4.0, abs=0.5)
    assert cuts[1] == pytest.approx(8.0, abs=0.5)


def test_a_single_scene_has_no_cut(media_dir: Path) -> None:
    from tests.media_files import make_video

    one = make_video(media_dir / "one-scene.mp4", seconds_per_scene=3, scenes=1, audio=False)
    assert detect_cuts(one) == []


def test_an_unreadable_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(CutError, match="FFmpeg could not read"):
        detect_cuts(make_empty_file(tmp_path / "empty.mp4"))


def test_detection_runs_in_the_background_as_a_task_and_hands_its_cuts_over(
    video_file: Path,
) -> None:
    kept: list[list[float]] = []
    started = time.monotonic()
    task = CutTask(video_file, sha256="k", label="three scenes", keep=kept.append).start()
    assert time.monotonic() - started < 0.1  # the caller never waits for FFmpeg
    assert task.status is TaskState.RUNNING and "shot cuts" in task.progress().text.lower()
    assert task.wait(30)
    assert task.status is TaskState.DONE and len(task.cuts) == 2
    assert kept == [list(task.cuts)]
    assert "2 shot cuts" in task.progress().text


def test_a_failed_detection_is_reported(tmp_path: Path) -> None:
    task = CutTask(make_empty_file(tmp_path / "bad.mp4"), sha256="b", label="bad", keep=print)
    assert task.start().wait(30)
    assert task.status is TaskState.FAILED and "FFmpeg" in (task.error or "")


def test_cancel_ends_ffmpeg_at_once_and_keeps_nothing(media_dir: Path) -> None:
    long_video = make_video(media_dir / "long-scenes.mp4", seconds_per_scene=60, scenes=3)
    kept: list[list[float]] = []
    task = CutTask(long_video, sha256="l", label="long", keep=kept.append).start()
    deadline = time.monotonic() + 10
    while task._process is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process = task._process
    assert process is not None
    task.cancel()
    assert process.wait(timeout=2) is not None  # FFmpeg is gone, not left decoding
    time.sleep(0.2)
    assert task.status is TaskState.CANCELLED and kept == []


def test_nearest_cut() -> None:
    assert nearest_cut(5.0, [4.0, 8.0]) == 4.0
    assert nearest_cut(6.5, [4.0, 8.0]) == 8.0
    assert nearest_cut(100, [4.0, 8.0]) == 8.0
    assert nearest_cut(1, []) is None


def test_snap_moves_starts_within_two_seconds_onto_the_cut() -> None:
    chapters = [Segment(0, 5.5, "A"), Segment(5.5, 12, "B"), Segment(12, 20, "C")]
    snapped, moved = snap_to_cuts(chapters, [4.0, 8.0, 15.0])
    assert moved == 1  # 5.5 is 1.5 s from 4.0; 12 is 3 s from 15.0 and 4 s from 8.0
    assert [(s.start_s, s.end_s) for s in snapped] == [(0, 4.0), (4.0, 12), (12, 20)]


def test_snap_leaves_starts_already_on_a_cut_or_too_far() -> None:
    chapters = [Segment(0, 4, "A"), Segment(4, 10.5, "B")]
    snapped, moved = snap_to_cuts(chapters, [4.0, 8.0])
    assert moved == 0 and snapped == chapters
