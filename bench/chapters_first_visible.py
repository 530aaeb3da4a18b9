"""Benchmark: from the answer's first chunk to the first chapter on screen, in Chromium.

The emulator streams a chapter JSON answer (CHAPTERS chapters in CHUNKS chunks, one every
CHUNK_DELAY_S) and stamps each chunk's send time (time.time()). In the page, a MutationObserver
stamps (Date.now(), the same clock) when each chapter title first shows in the live list. The
first chapter's JSON object is complete only some chunks in, so that wait is part of the figure.
Baseline in the same run: from the first chunk to the last one (what a page that parses only
the complete answer must wait, at the least), and to the last chapter on screen.
Goal: chapters_first_visible_s <= 0.5.
"""

from __future__ import annotations

import json
import statistics
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tests.e2e.conftest import CHROMIUM_ARGS, DEBIAN_CHROMIUM, running_app, wait_idle
from tests.media_files import make_video
from tests.vertex_emulator import VertexEmulator, write_static_adc

CHAPTERS = 20
CHUNKS = 80
CHUNK_DELAY_S = 0.05  # 4 s in all
ROUNDS = 5
SPAN_S = 0.6  # 20 chapters inside the 12-s fixture, timed as MM:SS.sss
ANSWER = json.dumps(
    {
        "chapters": [
            {
                "start": f"00:{i * SPAN_S:06.3f}",
                "end": f"00:{(i + 1) * SPAN_S:06.3f}",
                "title": f"T{i:02d}",
                "summary": f"What happens in part {i}.",
                "speech": "Someone speaks.",
            }
            for i in range(CHAPTERS)
        ]
    }
)

OBSERVE = """() => {
  window.__seen = {};
  const options = {subtree: true, childList: true, characterData: true};
  const watched = new WeakSet();
  const look = () => {
    const now = Date.now();
    // the live list while the answer streams, then the checked list once it is done: in the
    // player's shadow root (watched too, as it appears), or as text where there is no player
    const boxes = [...document.querySelectorAll('.st-key-chapters-live, .st-key-chapters-list')];
    for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
      const root = host.shadowRoot;
      if (!root) continue;
      if (!watched.has(root)) {
        watched.add(root);
        observer.observe(root, options);
      }
      boxes.push(...root.querySelectorAll('.rs-list'));
    }
    for (const box of boxes) {
      for (const word of box.textContent.matchAll(/T(\\d{2})/g)) {
        if (!(word[1] in window.__seen)) window.__seen[word[1]] = now;
      }
    }
  };
  const observer = new MutationObserver(look);
  observer.observe(document.body, options);
}"""


def measure(
    page: Page, url: str, emulator: VertexEmulator, video: Path
) -> tuple[float, float, float]:
    """(first chapter on screen, last chunk sent, last chapter on screen), seconds after the
    first chunk was sent."""
    emulator.reset()
    emulator.set_reply(ANSWER, chunks=CHUNKS, chunk_delay=CHUNK_DELAY_S)
    page.goto(f"{url}/chapters")
    wait_idle(page)
    # An upload, as a user would: its shot cuts are detected meanwhile, as they would be.
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(video))
    wait_idle(page)
    page.evaluate(OBSERVE)
    page.get_by_role("button", name="Get chapters").click()
    try:
        page.wait_for_function(f"Object.keys(window.__seen).length >= {CHAPTERS}", timeout=60_000)
    except Exception:
        page.screenshot(path="test-output/chapters-first-visible-timeout.png", full_page=True)
        print("seen:", page.evaluate("window.__seen"))
        raise
    seen = page.evaluate("window.__seen")
    sent = emulator.last_request("streamGenerateContent").answer.chunk_times
    first = sent[0] * 1000
    return (
        (seen["00"] - first) / 1000,
        (sent[-1] * 1000 - first) / 1000,
        (seen[f"{CHAPTERS - 1:02d}"] - first) / 1000,
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, VertexEmulator() as emulator:
        env = {
            "GOOGLE_CLOUD_PROJECT": "bench",
            "GOOGLE_VERTEX_BASE_URL": emulator.base_url,
            "GOOGLE_APPLICATION_CREDENTIALS": str(write_static_adc(Path(folder) / "adc.json")),
            "CLOUDSDK_CONFIG": folder,
            "REELSCOPE_DATA_DIR": str(Path(folder) / "data"),
        }
        with (
            running_app(env, Path(folder) / "app.log") as url,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(
                executable_path=str(DEBIAN_CHROMIUM), args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            video = make_video(Path(folder) / "scenes.mp4")
            rounds = [measure(page, url, emulator, video) for _ in range(ROUNDS)]
            browser.close()
            report(rounds)  # before the server is stopped


def report(rounds: list[tuple[float, float, float]]) -> None:
    first, whole, last = (statistics.median(values) for values in zip(*rounds, strict=True))
    print(f"{CHAPTERS} chapters in {CHUNKS} chunks at {1 / CHUNK_DELAY_S:.0f}/s, {ROUNDS} rounds:")
    for index, (a, b, c) in enumerate(rounds):
        print(f"  round {index + 1}: first chapter {a:.3f} s, last chunk {b:.3f} s, ", end="")
        print(f"last chapter {c:.3f} s")
    print(f"bench chapters_first_visible_s: {first:.3f}")
    print(f"bench chapters_complete_answer_s: {whole:.3f}")
    print(f"bench chapters_last_visible_s: {last:.3f}")


if __name__ == "__main__":
    main()
