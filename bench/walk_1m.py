"""Walk: a collection of a million video segments, opened, mapped, searched and selected in
Chromium on this machine (issue 16's "done when"). Kept out of `make test`: its vectors are
2.8 GB and its map takes minutes.

What it does, as a user would, each step timed from the user's action:
1. Writes 1,000,000 segments (10,000 videos x 100 segments of 4 s) of 1408-d vectors
   (tests/manifold_vectors.py: overlapping clusters on a curved manifold) straight into a
   float16 memory-mapped file, and adds them as one collection: no map, no index (untimed).
2. Starts Reelscope as `make run` does (the Vertex emulator embeds the query text) and opens
   the collection's link in a cold tab: `walk_1m_preview_s` until the PCA preview is on screen
   (computed on this first open: PCA fitted on a sample, applied in chunks), then
   `walk_1m_umap_s` until the page shows the UMAP map (fitted in the background: PCA then UMAP
   on a 10k sample, the rest placed by their neighbours) and `walk_1m_chart_s` until the
   interactive chart draws its density image and its 20k points.
3. A second cold tab on the same link: `walk_1m_reopen_first_pixels_s` (the map's picture) and
   `walk_1m_reopen_chart_s` (the chart), now that the map is stored.
4. A text query: `walk_1m_query_s` from the click to its 10 neighbours lit on the map. The
   search index takes about an hour to build at this size on one thread, so this is the
   answer while it builds (usearch's exact scan of the stored rows, re-ranked).
5. A box around a few thousand points: `walk_1m_box_s` to "N selected" and every point of the
   box drawn; then a click on one of them: `walk_1m_click_s` to "1 selected".
Beside them, `walk_1m_stored_map_load_s`: the stored map's coordinates and the rows loaded in
this process (the floor of an open).

Run with `.venv/bin/python -m bench.walk_1m` (not part of `make bench`: ~10 min and 6 GB of
disk in a temporary folder, removed at the end).
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

import numpy as np
from numpy.lib.format import open_memmap
from playwright.sync_api import Browser, Page, expect, sync_playwright

from reelscope.embeddings.density import POINTS_MAX
from reelscope.embeddings.models import MULTIMODAL_001
from reelscope.embeddings.store import EmbeddingStore, NewRow
from reelscope.projection import ProjectionParams
from tests.app_server import running_app
from tests.e2e.conftest import CHROMIUM_ARGS, DEBIAN_CHROMIUM, wait_idle
from tests.manifold_vectors import DIM, manifold_data
from tests.vertex_emulator import VertexEmulator, write_static_adc

N, SEGMENTS, SEGMENT_S = 1_000_000, 100, 4.0
FIT_WAIT_MS = 1_800_000  # the UMAP map of a million rows on two shared cores: minutes
CHART = ".st-key-emb-map .js-plotly-plot"
PICTURE = ".st-key-emb-map-picture img"
TRACE_JS = """() => {
  const gd = document.querySelector('.st-key-emb-map .js-plotly-plot');
  if (!gd || !gd._fullData || !gd._fullData.length) return null;
  const trace = gd._fullData[0];
  const opacity = Array.from(trace.marker.opacity || []);
  return { points: trace.x.length, lit: opacity.filter((o) => o === 1).length,
           images: gd.querySelectorAll('.main-svg image').length };
}"""
SCREEN_JS = """([x, y]) => {
  const gd = document.querySelector('.st-key-emb-map .js-plotly-plot');
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const box = gd.getBoundingClientRect();
  return { x: box.left + xa._offset + xa.l2p(x), y: box.top + ya._offset + ya.l2p(y) };
}"""


def seed(data_dir: Path, scratch: Path) -> str:
    """The million-segment collection, written as a past embedding job leaves it; its id."""
    vectors = open_memmap(scratch, mode="w+", dtype=np.float16, shape=(N, DIM))
    manifold_data(N, seed=16, out=vectors)  # float32 chunks, stored as float16 as they come
    rows = [
        NewRow(kind="video", label=f"clip{i // SEGMENTS:05d}.mp4",
               source=f"gs://library/clip{i // SEGMENTS:05d}.mp4",
               source_key=f"sha256:{i // SEGMENTS:05d}", start_s=(i % SEGMENTS) * SEGMENT_S,
               end_s=(i % SEGMENTS + 1) * SEGMENT_S, mime_type="video/mp4")
        for i in range(N)
    ]  # fmt: skip
    store = EmbeddingStore(data_dir)
    info = store.create("Library 1M", MULTIMODAL_001, DIM)
    info = store.add(info.id, rows, vectors)
    store.db.close()
    del vectors
    scratch.unlink()
    return info.id


def timed(step) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def drawn(page: Page) -> dict:
    return page.evaluate(TRACE_JS) or {}


def new_tab(browser: Browser, link: str, timeout_ms: float) -> tuple[Page, float]:
    """A new tab (an empty cache) opened on `link`, once the map's picture or chart shows; and
    when its opening started (time.perf_counter())."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    started = time.perf_counter()
    page.goto(link)
    expect(page.locator(PICTURE).or_(page.locator(CHART)).first).to_be_visible(timeout=timeout_ms)
    return page, started


def wait_points(page: Page, test: str, timeout: float = 60_000) -> None:
    """Until the chart's first trace satisfies `test` (JS over {points, lit, images})."""
    page.wait_for_function(f"() => {{ const t = ({TRACE_JS})(); return t && ({test}); }}",
                           timeout=timeout)  # fmt: skip


def a_box_of_a_few_thousand(coords: np.ndarray) -> tuple[tuple[float, float], ...]:
    """A square around the map's densest spot holding 2k-15k points (all drawn once in view)."""
    centre = np.median(coords, axis=0)
    for half in np.geomspace(0.02, 5, 40) * coords.std(axis=0).mean():
        inside = np.all(np.abs(coords - centre) <= half, axis=1).sum()
        if 2_000 <= inside <= 15_000:
            return (tuple(centre - half), tuple(centre + half))
    raise RuntimeError("no box of a few thousand points around the middle of the map")


def drag_box(page: Page, corner, other) -> None:
    page.locator(CHART).first.hover()
    page.locator(".st-key-emb-map .modebar").locator('[data-title="Box Select"]').click()
    start = page.evaluate(SCREEN_JS, [float(v) for v in corner])
    end = page.evaluate(SCREEN_JS, [float(v) for v in other])
    page.mouse.move(start["x"], start["y"])
    page.mouse.down()
    page.mouse.move(end["x"], end["y"], steps=8)
    page.mouse.up()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="reelscope-walk-") as folder:
        root = Path(folder)
        started = time.perf_counter()
        collection_id = seed(root / "data", root / "vectors.npy")
        print(f"1M x {DIM} float16 collection written in {time.perf_counter() - started:.0f} s")
        figures = walk(root, collection_id)
        figures["stored_map_load_s"] = load_floor(root / "data", collection_id)
    for name, value in figures.items():
        print(f"bench walk_1m_{name}: {value:.2f}")


class Figures(dict):
    """The walk's figures, each printed as it is measured (a walk that stops part-way still
    says how far it got)."""

    def __setitem__(self, name: str, value: float) -> None:
        print(f"{name}: {value:.2f}", flush=True)
        super().__setitem__(name, value)


def walk(root: Path, collection_id: str) -> dict[str, float]:
    figures = Figures()
    with VertexEmulator() as vertex:
        env = {
            "GOOGLE_CLOUD_PROJECT": "walk",
            "GOOGLE_CLOUD_LOCATION": "global",
            "GOOGLE_VERTEX_BASE_URL": vertex.base_url,
            "GOOGLE_APPLICATION_CREDENTIALS": str(write_static_adc(root / "adc.json")),
            "CLOUDSDK_CONFIG": str(root / "gcloud"),
            "REELSCOPE_DATA_DIR": str(root / "data"),
        }
        executable = str(DEBIAN_CHROMIUM) if DEBIAN_CHROMIUM.exists() else None
        with running_app(env, root / "server.log") as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            link = f"{url}/embeddings?collection={collection_id}"
            first, started = new_tab(browser, link, 300_000)
            figures["preview_s"] = time.perf_counter() - started
            expect(first.get_by_text(f"UMAP map of {N:,} rows")).to_be_visible(timeout=FIT_WAIT_MS)
            figures["umap_s"] = time.perf_counter() - started
            wait_points(first, f"t.points === {POINTS_MAX} && t.images === 1", 120_000)
            figures["chart_s"] = time.perf_counter() - started
            first.context.close()

            page, started = new_tab(browser, link, 60_000)
            figures["reopen_first_pixels_s"] = time.perf_counter() - started
            wait_points(page, f"t.points === {POINTS_MAX} && t.images === 1")
            figures["reopen_chart_s"] = time.perf_counter() - started
            wait_idle(page)

            page.get_by_label("Search with a text").fill("a lighthouse at night")
            figures["query_s"] = timed(lambda: (
                page.get_by_role("button", name="Search").click(),
                wait_points(page, "t.lit === 10", 120_000),
            ))  # fmt: skip
            wait_idle(page)

            corner, other = a_box_of_a_few_thousand(stored_coords(root / "data", collection_id))
            selected = {}

            def box() -> None:  # the box's rows: its edges fall on pixels, so read the count
                drag_box(page, corner, other)
                said = page.get_by_text(re.compile(r"^[\d,]+ selected$"))
                expect(said).to_be_visible(timeout=120_000)
                selected["rows"] = int(said.inner_text().split()[0].replace(",", ""))
                rows = selected["rows"]
                expect(page.get_by_text(f"All {rows:,} points in view are drawn")).to_be_visible(
                    timeout=60_000
                )
                # every row of the view, and the query's neighbours lit wherever they are
                wait_points(page, f"t.points >= {rows} && t.points <= {rows} + 10")

            figures["box_s"] = timed(box)
            print(f"the box selected {selected['rows']:,} rows, all drawn")
            wait_idle(page)
            place = page.evaluate(
                f"""() => {{
                  const gd = document.querySelector('{CHART}');
                  const t = gd._fullData[0];
                  return ({SCREEN_JS})([t.x[0], t.y[0]]);
                }}"""
            )

            def click() -> None:
                page.mouse.click(place["x"], place["y"])
                expect(page.get_by_text("1 selected", exact=True)).to_be_visible(timeout=60_000)

            figures["click_s"] = timed(click)
            expect(page.get_by_text(re.compile(r"clip\d{5}\.mp4")).first).to_be_visible()
            browser.close()
    return figures


def stored_coords(data_dir: Path, collection_id: str) -> np.ndarray:
    store = EmbeddingStore(data_dir)
    try:
        info = store.info(collection_id)
        found = store.load_projection(collection_id, ProjectionParams().key(info.content_hash))
        assert found is not None, "the UMAP map was not stored"
        return found[0]
    finally:
        store.db.close()


def load_floor(data_dir: Path, collection_id: str) -> float:
    started = time.perf_counter()
    store = EmbeddingStore(data_dir)
    collection = store.open(collection_id)
    store.load_projection(collection_id, ProjectionParams().key(collection.info.content_hash))
    elapsed = time.perf_counter() - started
    store.db.close()
    return elapsed


if __name__ == "__main__":
    main()
