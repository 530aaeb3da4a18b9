"""The Chapters page in a real Chromium: chapters stream in, a click seeks, exports download.

Generate chapters for a fixture (the emulator answers with chapter JSON), click the second
chapter: the player is at its start and playing; seek elsewhere, click it again: it seeks again;
the highlighted chapter follows playback. A one-hour video's chapters past 60:00 render, seek
and export.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import OUTPUT_DIR, wait_idle
from tests.media_files import make_long_video, make_video

pytestmark = pytest.mark.e2e

CHAPTERS = [
    {"start": "00:00", "end": "00:04", "title": "Red", "summary": "A red screen.", "speech": ""},
    {"start": "00:04", "end": "00:08", "title": "Green", "summary": "Green.", "speech": "Hi"},
    {"start": "00:08", "end": "00:12", "title": "Blue", "summary": "Blue.", "speech": "Bye"},
]
HOUR_CHAPTERS = [
    {"start": "0:00", "end": "25:00", "title": "Opening", "summary": "Intro.", "speech": ""},
    {"start": "25:00", "end": "61:00", "title": "Talk", "summary": "Talk.", "speech": ""},
    {"start": "61:00", "end": "75:10", "title": "Questions", "summary": "Q&A.", "speech": ""},
]


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("chapters") / "scenes.mp4")


@pytest.fixture(scope="module")
def one_hour_and_a_quarter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("chapters")
    return make_long_video(folder / "talk.mp4", 4600, video_kbps=8)


def open_chapters(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/chapters")
    wait_idle(page)


def get_chapters(page: Page, path: Path, count: int) -> Locator:
    """Upload, press Get chapters, wait for the list; the player's <video> once it has loaded."""
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    wait_idle(page)
    page.get_by_role("button", name="Get chapters").click()
    player = page.locator(".rs-player", has=page.locator(".rs-chapter"))
    expect(player.locator(".rs-chapter")).to_have_count(count, timeout=30_000)
    wait_idle(page)
    video = player.locator("video.rs-video")
    page.wait_for_function(
        "v => v.readyState >= 1 && v.duration > 0", arg=video.element_handle(), timeout=15_000
    )
    return player


def playing_near(page: Page, video: Locator, target: float, tolerance: float = 0.6) -> None:
    page.wait_for_function(
        "([v, t, tol]) => !v.paused && Math.abs(v.currentTime - t) < tol",
        arg=[video.element_handle(), target, tolerance],
        timeout=15_000,  # a seek, then play, in Chromium under a full test run's load
    )


def test_click_a_chapter_it_seeks_and_plays_again_and_again(page: Page, app_url, vertex, scenes):
    vertex.set_reply(json.dumps({"chapters": CHAPTERS}), chunks=6, chunk_delay=0.05)
    open_chapters(page, app_url)
    player = get_chapters(page, scenes, 3)
    video = player.locator("video.rs-video")
    chapters = player.locator(".rs-chapter")
    assert chapters.all_text_contents() == ["Red", "Green", "Blue"]

    chapters.nth(1).click()
    playing_near(page, video, 4.0)
    expect(chapters.nth(1)).to_have_class("rs-chapter rs-current")

    video.evaluate("v => { v.currentTime = 10; }")  # seek elsewhere
    page.wait_for_function("v => v.currentTime > 9.5", arg=video.element_handle())
    expect(chapters.nth(2)).to_have_class("rs-chapter rs-current")
    chapters.nth(1).click()  # the same chapter again: it seeks again
    playing_near(page, video, 4.0)

    # the highlight follows playback: from Green into Blue at 8 s
    video.evaluate("v => { v.currentTime = 7.5; v.play(); }")
    expect(chapters.nth(2)).to_have_class("rs-chapter rs-current", timeout=5_000)
    expect(chapters.nth(1)).to_have_class("rs-chapter")

    # the list's time buttons seek too (through the page)
    page.get_by_role("button", name="0:04", exact=True).click()
    playing_near(page, video, 4.0, tolerance=1.5)
    cuts = player.locator(".rs-cut")
    expect(cuts).to_have_count(2, timeout=20_000)  # detected in the background: 4 s and 8 s
    page.get_by_text("on a cut").first.wait_for(timeout=5_000)
    video.evaluate("v => v.pause()")
    page.get_by_text("At 0:0").first.wait_for(timeout=5_000)  # the page heard where it is
    wait_idle(page)
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / "chapters.png"), full_page=True)
    OUTPUT_DIR.mkdir(exist_ok=True)  # docs/chapters.png, the README's picture, is one of these
    page.screenshot(path=str(OUTPUT_DIR / "chapters.png"), full_page=False)


def test_one_hour_chapters_past_sixty_minutes_render_seek_and_export(
    page: Page, app_url, vertex, one_hour_and_a_quarter
):
    vertex.set_reply(json.dumps({"chapters": HOUR_CHAPTERS}), chunks=4)
    open_chapters(page, app_url)
    player = get_chapters(page, one_hour_and_a_quarter, 3)
    video = player.locator("video.rs-video")
    assert player.locator(".rs-chapter").nth(2).get_attribute("title") == "1:01:00 Questions"
    page.get_by_text("1:01:00–1:15:10").wait_for()

    player.locator(".rs-chapter").nth(2).click()
    playing_near(page, video, 3660, tolerance=2)

    with page.expect_download() as download:
        page.get_by_role("button", name="WebVTT").click()
    vtt = Path(download.value.path()).read_text()
    assert vtt.startswith("WEBVTT")
    assert "01:01:00.000 --> 01:15:10.000\nQuestions" in vtt
    with page.expect_download() as download:
        page.get_by_role("button", name="YouTube").click()
    assert (
        Path(download.value.path()).read_text() == "0:00 Opening\n25:00 Talk\n1:01:00 Questions\n"
    )
