"""Benchmark: the Embeddings map's first paint, in Chromium.

One server with two stored collections of 10,000 points (their 2-D maps and search indexes
stored: nothing is computed), and beside it a bare Streamlit page showing one image
(bench/first_paint_baseline.py) of the same size: the picture a cold tab shows of the map
(reelscope/embeddings/picture.py).
Chromium at 1400×1000, a new browser context (an empty cache) for every measurement.

- `first_preview_10k_ratio` (goal ≤ 1.3): a cold tab opened on the map (/embeddings?collection=…),
  from the page load to the first map pixels on screen (the picture, or the chart's points),
  over the bare page's load to its image on screen. Both times are read in the page
  (performance.now() at the first animation frame that has them), medians of ROUNDS, in the
  same run and alternating, so the machine's load weighs on both.
- `map_click_to_points_warm_s` (goal ≤ 0.5): a user already on the page (its prefetcher has
  loaded Plotly's code) picks a 10k collection: from the pointer going down on the option to
  the map's first pixels, which for a map this big are its picture, drawn under the chart
  while Plotly draws (components/embeddings/embedding_map.py). Beside it,
  `map_click_to_chart_warm_s`: to the chart's trace holding all 10,000 points.

Run with `python -m bench.first_paint` (part of `make bench`); about two minutes.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

import numpy as np
from playwright.sync_api import Browser, sync_playwright

from bench.projection import clustered
from reelscope.embeddings.figures import colours
from reelscope.embeddings.picture import render
from reelscope.embeddings.search_index import build_index
from reelscope.embeddings.store import EmbeddingStore, NewRow
from reelscope.projection import ProjectionParams, pca
from tests.app_server import ROOT
from tests.e2e.conftest import CHROMIUM_ARGS, DEBIAN_CHROMIUM, running_app, wait_prefetched
from tests.vertex_emulator import write_static_adc

N = 10_000
ROUNDS = 9
NAMES = ("first ten thousand", "second ten thousand")  # neither contains the other
VIEWPORT = {"width": 1400, "height": 1000}
# performance.now() (ms since the navigation started) once the map is on screen: its picture
# loaded, or its chart holding points; null before.
MAP_PIXELS_JS = """() => {
  const img = document.querySelector('.st-key-emb-map-picture img');
  if (img && img.complete && img.naturalWidth > 0 && img.getBoundingClientRect().height > 0)
    return performance.now();
  const gd = document.querySelector('.st-key-emb-map .js-plotly-plot');
  if (gd && gd._fullData && gd._fullData.length && gd._fullData[0].x.length)
    return performance.now();
  return null;
}"""
IMAGE_PIXELS_JS = """() => {
  const img = document.querySelector('[data-testid="stImage"] img');
  return img && img.complete && img.naturalWidth > 0 && img.getBoundingClientRect().height > 0
    ? performance.now() : null;
}"""
POINTS_JS = """() => {
  const gd = document.querySelector('.st-key-emb-map .js-plotly-plot');
  return gd && gd._fullData ? gd._fullData.reduce((n, t) => n + (t.x ? t.x.length : 0), 0) : 0;
}"""


def seed(data_dir: Path) -> tuple[list[str], np.ndarray]:
    """Two 10k collections with their maps stored; their ids, and the first one's map."""
    store = EmbeddingStore(data_dir)
    ids, first = [], None
    for seed_number, name in enumerate(NAMES):
        vectors, _ = clustered(N, seed=seed_number)
        info = store.create(name, "multimodalembedding@001", vectors.shape[1])
        rows = [
            NewRow(kind="video", label=f"clip{i // 100}.mp4", source=f"clip{i // 100}.mp4",
                   source_key=f"sha256:{seed_number}:{i // 100}", start_s=(i % 100) * 4.0,
                   end_s=(i % 100) * 4.0 + 4, mime_type="video/mp4")
            for i in range(N)
        ]  # fmt: skip
        info = store.add(info.id, rows, vectors)
        coords = pca(vectors, 2)
        store.save_projection(
            info.id, ProjectionParams(dims=2).key(info.content_hash), coords, "umap", None, "{}"
        )
        build_index(store.open(info.id))  # as a collection opened before has it
        ids.append(info.id)
        first = coords if first is None else first
    store.db.close()
    return ids, first


def the_picture(coords: np.ndarray, path: Path) -> Path:
    """The picture a cold tab shows of the map (coloured by kind, as the page opens)."""
    codes, palette, legend = colours(np.full(len(coords), "video"), ["clip"] * len(coords), "kind")
    path.write_bytes(render(coords, codes, palette, tuple(colour for colour, _ in legend)))
    return path


def cold_paint_ms(browser: Browser, url: str, script: str) -> float:
    """Milliseconds from a new tab's page load to what `script` waits for on screen."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(url, wait_until="commit")
        return page.wait_for_function(script, polling="raf", timeout=60_000).json_value()
    finally:
        context.close()


# In a warm tab, once the user's pointer goes down on a collection: the page times (ms since
# the navigation) of the first map pixels and of the chart holding all N points.
WATCH_PICK_JS = """() => {
  window.pick = {};
  document.addEventListener('pointerdown', () => { window.pick.down = performance.now(); },
                            { capture: true, once: true });
}"""
PICKED_JS = f"""() => {{
  const pick = window.pick;
  if (pick.down === undefined) return null;
  if (pick.pixels === undefined && ({MAP_PIXELS_JS})() !== null) pick.pixels = performance.now();
  if (pick.pixels !== undefined && ({POINTS_JS})() === {N}) return [pick.down, pick.pixels,
    performance.now()];
  return null;
}}"""


def warm_click_s(browser: Browser, url: str, name: str) -> tuple[float, float]:
    """Seconds from picking collection `name`, in a tab whose Plotly code has loaded, to the
    map's first pixels (its picture under the chart, or the chart) and to all its points in
    the chart; both read in the page at each animation frame."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(f"{url}/embeddings")
        wait_prefetched(page, "PlotlyChart", "emb-prefetch")  # Plotly's code has loaded
        page.get_by_label("Open a collection").click()
        option = page.get_by_role("option").filter(has_text=name)
        page.evaluate(WATCH_PICK_JS)
        option.click()
        down, pixels, chart = page.wait_for_function(
            PICKED_JS, polling="raf", timeout=60_000
        ).json_value()
        return (pixels - down) / 1000, (chart - down) / 1000
    finally:
        context.close()


def main() -> None:
    timings: dict[str, list[float]] = {"map": [], "bare": [], "warm": [], "chart": []}
    with tempfile.TemporaryDirectory(prefix="reelscope-bench-") as folder:
        root = Path(folder)
        ids, coords = seed(root / "data")
        env = {
            "GOOGLE_CLOUD_PROJECT": "bench",
            "GOOGLE_VERTEX_BASE_URL": "http://127.0.0.1:9",  # never called: nothing is embedded
            "GOOGLE_APPLICATION_CREDENTIALS": str(write_static_adc(root / "adc.json")),
            "CLOUDSDK_CONFIG": str(root / "gcloud"),
            "REELSCOPE_DATA_DIR": str(root / "data"),
        }
        bare_env = {"FIRST_PAINT_IMAGE": str(the_picture(coords, root / "map.png"))}
        executable = str(DEBIAN_CHROMIUM) if DEBIAN_CHROMIUM.exists() else None
        baseline = ROOT / "bench" / "first_paint_baseline.py"
        with (
            running_app(env, root / "server.log") as url,
            running_app(bare_env, root / "bare.log", script=baseline) as bare_url,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            map_url = f"{url}/embeddings?collection={ids[0]}"
            for name in NAMES:  # each collection opened once
                warm_click_s(browser, url, name)
            for round_number in range(ROUNDS + 1):  # the first round warms both servers
                ways = [("map", map_url, MAP_PIXELS_JS), ("bare", bare_url, IMAGE_PIXELS_JS)]
                for way, target, script in ways if round_number % 2 else ways[::-1]:
                    elapsed = cold_paint_ms(browser, target, script) / 1000
                    if round_number:
                        timings[way].append(elapsed)
                warm, chart = warm_click_s(browser, url, NAMES[round_number % 2])
                if round_number:
                    timings["warm"].append(warm)
                    timings["chart"].append(chart)
            browser.close()

    medians = {key: statistics.median(values) for key, values in timings.items()}
    print(f"{ROUNDS} rounds, medians:")
    about = {
        "map": "cold tab, page load to the map's first pixels",
        "bare": "cold tab, bare page load to its one image",
        "warm": "warm tab, pick to the map's first pixels (picture under the chart)",
        "chart": "warm tab, pick to all 10k points in the chart",
    }
    for key, values in timings.items():
        spread = ", ".join(f"{v:.2f}" for v in values)
        print(f"  {key:5s}: {medians[key]:.3f} s  ({spread})  {about[key]}")
    print(f"bench first_preview_10k_s: {medians['map']:.3f}")
    print(f"bench first_preview_bare_image_s: {medians['bare']:.3f}")
    print(f"bench first_preview_10k_ratio: {medians['map'] / medians['bare']:.3f}")
    print(f"bench map_click_to_points_warm_s: {medians['warm']:.3f}")
    print(f"bench map_click_to_chart_warm_s: {medians['chart']:.3f}")


if __name__ == "__main__":
    main()
