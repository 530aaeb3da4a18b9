"""Benchmark: from a chunk leaving the emulator to its text being in the page, in Chromium.

The emulator streams CHUNKS chunks at 25 a second, each one marker word; it stamps each chunk's
send time (time.time()). In the page a MutationObserver stamps (Date.now(), the same clock) when
each marker first shows in the answer. The app (a run in the worker, watched by a polling
fragment) is measured against the old in-script pipeline (bench/inscript_app.py) in the same
run. Goals: p50 <= 100 ms, p95 <= 250 ms. Run with `make bench`.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tests.e2e.conftest import CHROMIUM_ARGS, DEBIAN_CHROMIUM, running_app, wait_idle
from tests.vertex_emulator import VertexEmulator, write_static_adc

CHUNKS = 100
CHUNK_DELAY_S = 0.04  # 25 chunks a second
ROUNDS = 3
MARKERS = [f"m{i:04d} " for i in range(CHUNKS)]  # equal lengths: one marker a chunk

OBSERVE = """() => {
  window.__seen = {};
  const look = () => {
    const answer = document.querySelector('.st-key-ask-answer');
    if (!answer) return;
    const now = Date.now();
    for (const word of answer.textContent.matchAll(/m(\\d{4})/g)) {
      if (!(word[1] in window.__seen)) window.__seen[word[1]] = now;
    }
  };
  new MutationObserver(look).observe(document.body,
    {subtree: true, childList: true, characterData: true});
}"""


def measure(page: Page, url: str, emulator: VertexEmulator) -> list[float]:
    """Latencies (ms) of every chunk of one streamed answer."""
    emulator.reset()
    emulator.set_reply("".join(MARKERS), chunks=CHUNKS, chunk_delay=CHUNK_DELAY_S)
    page.goto(url)
    wait_idle(page)
    page.evaluate(OBSERVE)
    page.get_by_label("Prompt", exact=True).fill("Count.")
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function(f"Object.keys(window.__seen).length >= {CHUNKS}", timeout=60_000)
    seen = page.evaluate("window.__seen")
    sent = emulator.last_request("streamGenerateContent").answer.chunk_times
    return [seen[f"{i:04d}"] - sent[i] * 1000 for i in range(CHUNKS)]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as folder, VertexEmulator() as emulator:
        env = {
            "GOOGLE_CLOUD_PROJECT": "bench",
            "GOOGLE_VERTEX_BASE_URL": emulator.base_url,
            "GOOGLE_APPLICATION_CREDENTIALS": str(write_static_adc(Path(folder) / "adc.json")),
            "CLOUDSDK_CONFIG": folder,
            "REELSCOPE_DATA_DIR": str(Path(folder) / "data"),
        }
        latencies: dict[str, list[float]] = {"app": [], "inscript": []}
        with (
            running_app(env, Path(folder) / "app.log") as app_url,
            running_app(
                env, Path(folder) / "old.log", script=root / "bench/inscript_app.py"
            ) as old_url,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(
                executable_path=str(DEBIAN_CHROMIUM), args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for _ in range(ROUNDS):  # alternate, so drift hits both alike
                latencies["app"] += measure(page, app_url, emulator)
                latencies["inscript"] += measure(page, old_url, emulator)
            browser.close()

    print(f"{CHUNKS} chunks at {1 / CHUNK_DELAY_S:.0f}/s, {ROUNDS} rounds each, chunk -> screen:")
    for name, values in latencies.items():
        print(
            f"  {name:9s} p50 {percentile(values, 0.5):6.1f} ms  "
            f"p95 {percentile(values, 0.95):6.1f} ms  mean {statistics.fmean(values):6.1f} ms"
        )
    for name, prefix in (("app", "chunk_to_screen"), ("inscript", "chunk_to_screen_inscript")):
        print(f"bench {prefix}_ms_p50: {percentile(latencies[name], 0.5):.1f}")
        print(f"bench {prefix}_ms_p95: {percentile(latencies[name], 0.95):.1f}")


if __name__ == "__main__":
    main()
