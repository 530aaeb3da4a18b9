"""Benchmark: the first map a tab draws, with Plotly's code fetched while the user reads the page.

With no collection open, the Embeddings page draws an empty Plotly chart hidden after its own
content (components/common/prefetch.py), so the browser loads Plotly's code (4.7 MB) before
a map is asked for. One server, two collections of ~2,000 points with their maps stored
(nothing is computed), Chromium at 1400×1000; each round opens /embeddings in a new browser
context (an empty cache, as a first visit) and picks a collection. The clock runs from the
pick to the map on screen.

- `map_first_after_dwell_s`: picked 3 s after the page showed (the time to read it and reach
  for the picker): Plotly's code is loaded by then.
- `map_first_at_once_s`: picked the moment the page showed, before the prefetch can have
  finished: what the first map costs without it (the baseline).
- `map_second_s`: the other collection, opened next in the same tab: the code is loaded and
  compiled, so this is the page's own floor.

The prefetch helps when after_dwell sits near the floor and below at_once.
Run with `python -m bench.map_prefetch` (part of `make bench`); about two minutes.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from bench.projection import clustered
from reelscope.embeddings.store import EmbeddingStore, NewRow
from reelscope.projection import ProjectionParams, pca
from tests.e2e.conftest import CHROMIUM_ARGS, DEBIAN_CHROMIUM, running_app, wait_idle
from tests.vertex_emulator import write_static_adc

SIZES = {"first collection": 2_000, "second collection": 2_400}  # told apart on screen
ROUNDS = 5
DWELL_S = 3.0
NAMES = tuple(SIZES)
# Points drawn by the map now on screen (its traces' x arrays), or 0 before it is drawn.
POINTS_JS = """() => {
  const gd = document.querySelector('.st-key-emb-map .js-plotly-plot');
  return gd && gd._fullData ? gd._fullData.reduce((n, t) => n + (t.x ? t.x.length : 0), 0) : 0;
}"""


def seed(data_dir: Path) -> None:
    """Two collections of clustered vectors, each with its 2-D map stored."""
    store = EmbeddingStore(data_dir)
    for name, size in SIZES.items():
        vectors, _ = clustered(size)
        info = store.create(name, "multimodalembedding@001", vectors.shape[1])
        rows = [
            NewRow(kind="video", label=f"clip{i // 100}.mp4", source=f"clip{i // 100}.mp4",
                   source_key=f"sha256:{i // 100}", start_s=(i % 100) * 4.0,
                   end_s=(i % 100) * 4.0 + 4, mime_type="video/mp4")
            for i in range(size)
        ]  # fmt: skip
        info = store.add(info.id, rows, vectors)
        key = ProjectionParams().key(info.content_hash)
        store.save_projection(info.id, key, pca(vectors, 2), "umap", None, "{}")
    store.db.close()


def open_map(page: Page, name: str) -> float:
    """Seconds from picking collection `name` to its map, all its points, on screen."""
    picker = page.get_by_label("Open a collection")
    picker.click()
    started = time.perf_counter()
    page.get_by_role("option").filter(has_text=name).click()
    page.wait_for_function(f"() => ({POINTS_JS})() === {SIZES[name]}", timeout=60_000)
    elapsed = time.perf_counter() - started
    wait_idle(page)
    return elapsed


def first_map(browser, url: str, dwell_s: float) -> tuple[float, float]:
    """The first map of a fresh tab after `dwell_s` on the page, then a second map in it."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"{url}/embeddings")
        wait_idle(page)
        time.sleep(dwell_s)
        first = open_map(page, NAMES[0])
        second = open_map(page, NAMES[1])
    finally:
        context.close()
    return first, second


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="reelscope-bench-") as folder:
        root = Path(folder)
        seed(root / "data")
        env = {
            "GOOGLE_CLOUD_PROJECT": "bench",
            "GOOGLE_VERTEX_BASE_URL": "http://127.0.0.1:9",  # never called: nothing is embedded
            "GOOGLE_APPLICATION_CREDENTIALS": str(write_static_adc(root / "adc.json")),
            "CLOUDSDK_CONFIG": str(root / "gcloud"),
            "REELSCOPE_DATA_DIR": str(root / "data"),
        }
        executable = str(DEBIAN_CHROMIUM) if DEBIAN_CHROMIUM.exists() else None
        timings: dict[str, list[float]] = {}
        with running_app(env, root / "server.log") as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            for round_number in range(ROUNDS + 1):  # the first round warms the server
                ways = [("after_dwell", DWELL_S), ("at_once", 0.0)]
                for way, dwell in ways if round_number % 2 else ways[::-1]:
                    first, second = first_map(browser, url, dwell)
                    if round_number:
                        timings.setdefault(way, []).append(first)
                        timings.setdefault("second", []).append(second)
            browser.close()

    medians = {key: statistics.median(values) for key, values in timings.items()}
    print(f"{ROUNDS} rounds, medians (pick to map on screen):")
    for key, values in timings.items():
        print(f"  {key:12s}: {medians[key]:.3f} s  ({', '.join(f'{v:.2f}' for v in values)})")
    print(f"bench map_second_s: {medians['second']:.3f}")
    print(f"bench map_first_at_once_s: {medians['at_once']:.3f}")
    print(f"bench map_first_after_dwell_s: {medians['after_dwell']:.3f}")


if __name__ == "__main__":
    main()
