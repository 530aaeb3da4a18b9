"""A 200k-point map in a real Chromium: a density image of every point under the axes, 20k of
them drawn; a box over an area selects every row inside it and zooms there, where all its
points are drawn; a click then selects one video segment, which plays from its start; a lasso
selects five; "Whole map" goes back; a query lights up its neighbours. The collection, its
video and its map are written into the server's data folder, as a past build and fit leave
them.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from reelscope.embeddings.density import POINTS_MAX
from reelscope.embeddings.models import GEMINI_EMBEDDING_2
from reelscope.projection import ProjectionParams
from tests.e2e.conftest import wait_idle
from tests.e2e.test_embeddings_in_browser import PLAY_JS, lasso, open_collection, place_of, search
from tests.media_files import make_video

pytestmark = pytest.mark.e2e

CROWD, GRID = 200_000, 7  # a blob of 200k points, and a 7 x 7 grid of points far from it
FAR = GRID * GRID
TOTAL = CROWD + FAR

TRACE_JS = """
() => {
  const gd = document.querySelector('.st-key-emb-map .js-plotly-plot');
  const trace = gd._fullData[0];
  const images = Array.from(gd.querySelectorAll('.main-svg image'));
  const opacity = Array.from(trace.marker.opacity || []);
  return {
    traces: gd._fullData.length, points: trace.x.length,
    images: images.map((i) => (i.getAttribute('href') || '').slice(0, 22)),
    lit: opacity.filter((o) => o === 1).length,
  };
}
"""

SCREEN_JS = """
([x, y]) => {
  const gd = document.querySelector('.st-key-emb-map .js-plotly-plot');
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const box = gd.getBoundingClientRect();
  return { x: box.left + xa._offset + xa.l2p(x), y: box.top + ya._offset + ya.l2p(y) };
}
"""


def big_collection(data_dir: Path, name: str, video: Path) -> None:
    """200k texts in a blob around the origin, and a grid of 49 video segments of files named
    "far r c.mp4" around (10, 10): the 4 s segments of `video` (12 s) in turn, the file kept as
    a build keeps it."""
    from reelscope.embeddings.store import EmbeddingStore, NewRow

    rng = np.random.default_rng(16)
    far = [(r, c) for r in range(GRID) for c in range(GRID)]
    store = EmbeddingStore(data_dir)
    sha = hashlib.sha256(video.read_bytes()).hexdigest()
    store.blobs.put_file(video, sha)
    rows = [NewRow("text", f"crowd {i}", f"crowd {i}", f"row:{i}", text=f"crowd {i}")
            for i in range(CROWD)]  # fmt: skip
    for i, (r, c) in enumerate(far):
        start = 4.0 * (i % 3)
        file_name = f"far {r} {c}.mp4"  # one file under 49 names: a library's copies
        rows.append(NewRow("video", file_name, file_name, f"sha256:{sha}", start_s=start, end_s=start + 4,
                           mime_type="video/mp4", blob_sha=sha))  # fmt: skip
    info = store.create(name, GEMINI_EMBEDDING_2, 128)
    info = store.add(info.id, rows, rng.normal(size=(TOTAL, 128)).astype(np.float32))
    grid = np.array([(10 + 0.3 * c, 10 + 0.3 * r) for r, c in far], dtype=np.float32)
    coords = np.concatenate([rng.normal(size=(CROWD, 2)).astype(np.float32), grid])
    key = ProjectionParams(dims=2).key(info.content_hash)
    store.save_projection(info.id, key, coords, "umap", None, "{}")
    store.db.close()


def drawn(page: Page) -> dict:
    return page.evaluate(TRACE_JS)


def drag_box(page: Page, corner: tuple[float, float], other: tuple[float, float]) -> None:
    page.locator(".st-key-emb-map .js-plotly-plot").first.hover()
    page.locator(".st-key-emb-map .modebar").locator('[data-title="Box Select"]').click()
    start = page.evaluate(SCREEN_JS, list(corner))
    end = page.evaluate(SCREEN_JS, list(other))
    page.mouse.move(start["x"], start["y"])
    page.mouse.down()
    page.mouse.move(end["x"], end["y"], steps=8)
    page.mouse.up()
    wait_idle(page)


@pytest.mark.timeout(600)
def test_a_200k_map_opens_as_a_density_zooms_by_box_selects_plays_and_lights_a_query(
    page: Page, app_url, app_env, vertex, tmp_path
):
    video = make_video(tmp_path / "library.mp4")
    big_collection(Path(app_env["REELSCOPE_DATA_DIR"]), "Library 200k", video)
    open_collection(page, app_url, "Library 200k")
    expect(page.get_by_text(f"{TOTAL:,} points as a density image")).to_be_visible()
    page.wait_for_function(f"() => ({TRACE_JS})().points === {POINTS_MAX}", timeout=30_000)
    opened = drawn(page)
    assert opened["traces"] == 1 and opened["points"] == POINTS_MAX, opened
    assert opened["images"] == ["data:image/png;base64,"], opened

    drag_box(page, (9.8, 9.8), (12.0, 12.0))  # around the far grid, away from the blob
    expect(page.get_by_text(f"{FAR} selected", exact=True)).to_be_visible()
    expect(page.get_by_text(f"All {FAR} points in view are drawn")).to_be_visible()
    page.wait_for_function(f"() => ({TRACE_JS})().points === {FAR}", timeout=15_000)

    point = place_of(page, "far 3 4.mp4")  # the map pans again: a click selects one point
    page.mouse.click(point["x"], point["y"])
    wait_idle(page)
    expect(page.get_by_text("1 selected", exact=True)).to_be_visible()
    selected = page.locator(f".st-key-emb-selection-row-{point['id']}")
    expect(selected).to_contain_text("far 3 4.mp4 · 4.0–8.0 s")  # the grid's 26th: the 2nd segment
    video = selected.locator("video")
    expect(video).to_have_count(1)  # the player's first render has no source yet
    expect(video).to_have_attribute("src", re.compile("/app/static/reelscope/"))
    played = video.evaluate(PLAY_JS)
    assert "error" not in played, played
    assert 4.0 - 0.05 <= played["before"] < 4.5, played  # placed at the segment's start
    assert 4.0 <= played["after"] <= 8.0 + 0.05, played  # playing inside the segment
    expect(page.get_by_text(f"All {FAR} points in view are drawn")).to_be_visible()  # kept

    centre = page.evaluate(SCREEN_JS, [11.2, 10.9])  # "far 3 4" and its four nearest, 0.3 away
    edge = page.evaluate(SCREEN_JS, [11.2 + 0.35, 10.9])
    page.locator(".st-key-emb-map .js-plotly-plot").first.hover()
    page.locator(".st-key-emb-map .modebar").locator('[data-title="Lasso Select"]').click()
    lasso(page, centre["x"], centre["y"], radius=edge["x"] - centre["x"])
    wait_idle(page)
    expect(page.get_by_text("5 selected", exact=True)).to_be_visible()

    page.get_by_role("button", name="Whole map").click()
    wait_idle(page)
    expect(page.get_by_text(re.compile(f"{POINTS_MAX:,} of the {TOTAL:,} in view"))).to_be_visible()

    search(page, "a lighthouse")
    expect(page.get_by_text("Nearest rows")).to_be_visible()
    # The chart is redrawn a moment after the text drawn before it in the same script run:
    # wait until it lights the default ten neighbours, drawn wherever they are.
    page.wait_for_function(f"() => ({TRACE_JS})().lit === 10", timeout=15_000)
