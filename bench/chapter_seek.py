"""Benchmark: a click on a chapter in the list under the player to the video's `seeked`, Chromium.

The Chapters page (served by serve.py, chapters from the emulator) has the list inside the
player: a click seeks in the browser. Baseline in the same run: the list as it was, Streamlit
buttons whose callback calls `player.seek`, so the seek reaches the browser only through a
script run (bench/seek_rerun_app.py, served with the same media route by seek_rerun_serve.py).
Both are timed in the page by the same clock: the click event's timeStamp to the `seeked`
event's. Rounds alternate between the two, so drift on the machine hits both alike.
Goal: chapter_list_seek_ms_p50 <= 150.
"""

from __future__ import annotations

import json
import statistics
import tempfile
from pathlib import Path

from playwright.sync_api import Locator, Page, expect, sync_playwright

from reelscope.chapters.timestamps import format_clock
from tests.e2e.conftest import CHROMIUM_ARGS, DEBIAN_CHROMIUM, running_app, wait_idle
from tests.media_files import make_video
from tests.vertex_emulator import VertexEmulator, write_static_adc

ROOT = Path(__file__).resolve().parents[1]
VIDEO_ENV = "CHAPTER_SEEK_VIDEO"  # the baseline app reads the video from here
STARTS = (0.0, 4.0, 8.0)  # the fixture's three scenes
CHAPTERS = [(start, start + 4.0, f"Scene {index + 1}") for index, start in enumerate(STARTS)]
ROUNDS = 15  # clicks on each page
ORDER = (1, 2, 0)  # each click seeks away from where the last one left the video

ARM = """video => {
  window.__seek = {click: null, seeked: null};
  document.addEventListener('click', (e) => { window.__seek.click = e.timeStamp; },
                            {capture: true, once: true});
  video.addEventListener('seeked', (e) => { window.__seek.seeked = e.timeStamp; },
                         {once: true});
}"""


def open_app(page: Page, url: str, emulator: VertexEmulator, video: Path) -> Locator:
    """Chapters for the fixture on the app's Chapters page; its <video> once loaded."""
    answer = [
        {"start": format_clock(s), "end": format_clock(e), "title": t, "summary": "", "speech": ""}
        for s, e, t in CHAPTERS
    ]
    emulator.reset()
    emulator.set_reply(json.dumps({"chapters": answer}), chunks=4)
    page.goto(f"{url}/chapters")
    wait_idle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(video))
    wait_idle(page)
    page.get_by_role("button", name="Get chapters").click()
    expect(page.locator(".rs-item")).to_have_count(len(CHAPTERS), timeout=60_000)
    # shot cuts detected: the fragment that waits for them reruns no more
    expect(page.locator(".rs-cut")).to_have_count(2, timeout=60_000)
    return loaded_video(page)


def open_baseline(page: Page, url: str) -> Locator:
    page.goto(url)
    wait_idle(page)
    return loaded_video(page)


def loaded_video(page: Page) -> Locator:
    wait_idle(page)
    video = page.locator("video.rs-video")
    expect(video).to_have_count(1)
    page.wait_for_function(
        "v => v.readyState >= 1 && v.duration > 0", arg=video.element_handle(), timeout=30_000
    )
    return video


def click_to_seeked_ms(page: Page, video: Locator, index: int) -> float:
    """Click chapter `index`'s time in the list; ms from the click to the video's `seeked`."""
    video.evaluate("v => v.pause()")
    wait_idle(page)  # the baseline reports the pause back: a script run
    page.wait_for_timeout(300)
    video.evaluate(ARM)
    page.get_by_role("button", name=format_clock(STARTS[index]), exact=True).click()
    page.wait_for_function("window.__seek.seeked !== null", timeout=30_000)
    marks = page.evaluate("window.__seek")
    at = video.evaluate("v => v.currentTime")
    assert abs(at - STARTS[index]) < 0.6, f"sought {STARTS[index]} s, at {at:.2f} s"
    return marks["seeked"] - marks["click"]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, VertexEmulator() as emulator:
        video = make_video(Path(folder) / "scenes.mp4")
        env = {
            "GOOGLE_CLOUD_PROJECT": "bench",
            "GOOGLE_VERTEX_BASE_URL": emulator.base_url,
            "GOOGLE_APPLICATION_CREDENTIALS": str(write_static_adc(Path(folder) / "adc.json")),
            "CLOUDSDK_CONFIG": folder,
            "REELSCOPE_DATA_DIR": str(Path(folder) / "data"),
            VIDEO_ENV: str(video),
        }
        times: dict[str, list[float]] = {"app": [], "rerun": []}
        with (
            running_app(env, Path(folder) / "app.log") as app_url,
            running_app(
                env, Path(folder) / "old.log", script=ROOT / "bench/seek_rerun_serve.py"
            ) as old_url,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(
                executable_path=str(DEBIAN_CHROMIUM), args=CHROMIUM_ARGS
            )
            app = browser.new_page(viewport={"width": 1400, "height": 1000})
            old = browser.new_page(viewport={"width": 1400, "height": 1000})
            app_video = open_app(app, app_url, emulator, video)
            old_video = open_baseline(old, old_url)
            for round_ in range(ROUNDS):
                index = ORDER[round_ % len(ORDER)]
                app.bring_to_front()
                times["app"].append(click_to_seeked_ms(app, app_video, index))
                old.bring_to_front()
                times["rerun"].append(click_to_seeked_ms(old, old_video, index))
            browser.close()
    report(times)


def report(times: dict[str, list[float]]) -> None:
    print(f"click on a chapter in the list -> seeked, {ROUNDS} clicks each:")
    for name, values in times.items():
        print(
            f"  {name:6s} p50 {percentile(values, 0.5):7.1f} ms  "
            f"p95 {percentile(values, 0.95):7.1f} ms  mean {statistics.fmean(values):7.1f} ms"
            f"  ({', '.join(f'{v:.0f}' for v in values)})"
        )
    for name, prefix in (("app", "chapter_list_seek"), ("rerun", "chapter_list_seek_rerun")):
        print(f"bench {prefix}_ms_p50: {percentile(times[name], 0.5):.1f}")
        print(f"bench {prefix}_ms_p95: {percentile(times[name], 0.95):.1f}")


if __name__ == "__main__":
    main()
