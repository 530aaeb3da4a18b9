"""The seekable player in a real Chromium, on the Ask page: an upload's preview is the player.

The video comes from the media route (serve.py) in byte ranges. A click on the timeline seeks in
the browser at once and plays; a one-hour video starts playing within a second of the click and
is never downloaded whole (bytes counted from Chromium's own network events).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import screenshot, wait_idle
from tests.media_files import make_long_video, make_video

pytestmark = pytest.mark.e2e

MEDIA_ROUTE = "/app/static/reelscope/"
HOUR_S = 3600


@pytest.fixture(scope="module")
def twelve_seconds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("player") / "scenes.mp4")


@pytest.fixture(scope="module")
def one_hour(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 14 kbit/s of padded video: 6.6 MB, under the 7 MB inline limit, so it stays a plain upload,
    # and large enough that a whole-file download would show in the byte count.
    return make_long_video(tmp_path_factory.mktemp("player") / "hour.mp4", HOUR_S, video_kbps=14)


def upload(page: Page, path: Path) -> Locator:
    """Upload a file on the Ask page; its preview's <video> once the browser knows its length."""
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    video = page.locator("video.rs-video")  # CSS locators reach into the component's shadow root
    expect(video).to_have_count(1, timeout=20_000)
    wait_idle(page)
    page.wait_for_function(
        "v => v.readyState >= 1 && v.duration > 0", arg=video.element_handle(), timeout=15_000
    )
    return video


def click_timeline(page: Page, fraction: float) -> None:
    timeline = page.locator(".rs-timeline")
    box = timeline.bounding_box()
    assert box is not None
    timeline.click(position={"x": box["width"] * fraction, "y": box["height"] / 2})


def playback(video: Locator) -> dict:
    return video.evaluate(
        "v => ({time: v.currentTime, paused: v.paused, src: v.currentSrc, error: v.error})"
    )


def wait_playing_near(page: Page, video: Locator, target: float, tolerance: float = 0.6) -> dict:
    page.wait_for_function(
        "([v, t, tol]) => !v.paused && Math.abs(v.currentTime - t) < tol",
        arg=[video.element_handle(), target, tolerance],
        timeout=5_000,
    )
    return playback(video)


def test_timeline_click_seeks_at_once_plays_and_seeks_again_to_the_same_spot(
    page: Page, twelve_seconds: Path
):
    video = upload(page, twelve_seconds)
    state = playback(video)
    assert MEDIA_ROUTE in state["src"], "the preview loads from the media route, not /media/"
    assert state["paused"] and state["time"] == 0
    duration = video.evaluate("v => v.duration")
    assert duration == pytest.approx(12, abs=0.2)

    clicked = time.monotonic()
    click_timeline(page, 0.75)
    state = wait_playing_near(page, video, 0.75 * duration)
    assert time.monotonic() - clicked < 2
    screenshot(page, "player-seeked")

    click_timeline(page, 0.25)  # somewhere else
    wait_playing_near(page, video, 0.25 * duration)
    click_timeline(page, 0.75)  # the same spot again: it seeks again
    state = wait_playing_near(page, video, 0.75 * duration)
    assert state["error"] is None


def test_one_hour_video_plays_within_a_second_of_a_seek_without_loading_the_whole_file(
    page: Page, one_hour: Path
):
    requests = watch_media_requests(page)
    video = upload(page, one_hour)
    assert video.evaluate("v => v.duration") == pytest.approx(HOUR_S, abs=2)
    before_click = len(requests)

    # The click and the first `playing` event, timed by the page's own clock.
    video.evaluate(
        """v => {
            const timeline = v.getRootNode().querySelector('.rs-timeline');
            timeline.addEventListener('click', () => { v.dataset.clickedAt = performance.now(); },
                                      {capture: true, once: true});
            v.addEventListener('playing', () => { v.dataset.playingAt = performance.now(); },
                               {once: true});
        }"""
    )
    target = 0.25  # 15:00: the rest of the file is larger than what Chromium buffers ahead
    click_timeline(page, target)
    wait_playing_near(page, video, target * HOUR_S, tolerance=2)
    page.wait_for_function("v => v.dataset.playingAt", arg=video.element_handle())
    seek_ms = video.evaluate("v => v.dataset.playingAt - v.dataset.clickedAt")
    page.wait_for_timeout(1500)  # and let it buffer ahead as it would
    size = one_hour.stat().st_size
    after = requests[before_click:]
    fetched_after = sum(r["received"] for r in after)
    first_offset = min(r["offset"] for r in after)
    print(
        f"\nbench player_seek_to_playing_ms: {seek_ms:.0f}"
        f"\nbench player_1h_bytes_after_seek: {fetched_after}"
        f"\nbench player_1h_file_bytes: {size}"
        f"\nmedia requests: {[(r['range'], r['status'], r['received']) for r in requests]}"
    )
    assert seek_ms < 1000, f"playing {seek_ms:.0f} ms after the click"
    assert requests and all(r["status"] == 206 for r in requests), "every answer is a range"
    # Decoding 15:00 starts at the keyframe before it, 10:00 (one every 600 frames), 1/6 in.
    assert first_offset > 0.15 * size, "after the seek Chromium asks for bytes from 10:00 on"
    assert fetched_after < size - first_offset, "it fetched only part of the rest of the file"


def watch_media_requests(page: Page) -> list[dict]:
    """Each media-route request: its Range start, status and bytes received, from DevTools.

    Chromium reports no received bytes for a request it aborts (the metadata read it stops
    when the user seeks), so `received` counts what completed or streamed, not all sent.
    """
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    requests: list[dict] = []
    by_id: dict[str, dict] = {}

    def on_request(event: dict) -> None:
        request = event["request"]
        if MEDIA_ROUTE in request["url"]:
            header = request["headers"].get("Range", "")
            offset = header.removeprefix("bytes=").split("-")[0]
            entry = {"range": header, "offset": int(offset or 0), "status": None, "received": 0}
            by_id[event["requestId"]] = entry
            requests.append(entry)

    def on_response(event: dict) -> None:
        if event["requestId"] in by_id:
            by_id[event["requestId"]]["status"] = event["response"]["status"]

    def on_data(event: dict) -> None:
        if event["requestId"] in by_id:
            by_id[event["requestId"]]["received"] += event["encodedDataLength"]

    session.on("Network.requestWillBeSent", on_request)
    session.on("Network.responseReceived", on_response)
    session.on("Network.dataReceived", on_data)
    return requests
