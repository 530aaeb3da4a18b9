"""The map's first paint in a real Chromium. A cold tab opened on a stored map (a link with
?collection=…) shows a picture of the map at once, in the chart's box and over its axes
extent; the chart replaces it, in the same place, once Plotly's code has loaded; a click on a
point then selects it as before. A warm tab (Plotly's code loaded) draws the chart of a small
map straight away, never the picture; a big map's picture shows first, under its chart, which
covers it once drawn and is the one clicked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect

from components.embeddings.embedding_map import UNDER_CHART_FROM
from reelscope.embeddings import density
from reelscope.embeddings.figures import HEIGHT, MARGIN
from reelscope.embeddings.models import GEMINI_EMBEDDING_2
from reelscope.projection import ProjectionParams
from tests.e2e.conftest import wait_idle
from tests.e2e.test_embeddings_in_browser import only_selected, open_page, place_of

pytestmark = pytest.mark.e2e

COUNT = 400
PICTURE = ".st-key-emb-map-picture"
CHART = ".st-key-emb-map .js-plotly-plot"
# Whether a picture of the map was ever added to the page since this was installed.
WATCH_PICTURE_JS = """() => {
  window.sawPicture = false;
  new MutationObserver(() => {
    if (document.querySelector('.st-key-emb-map-picture')) window.sawPicture = true;
  }).observe(document.body, { childList: true, subtree: true });
}"""


# The picture's height, and its frame's, at the first animation frame that paints it.
FIRST_PICTURE_JS = """(() => {
  const look = () => {
    const img = document.querySelector('.st-key-emb-map-picture img');
    if (img && img.complete && img.naturalWidth > 0) {
      const frame = img.closest('.st-key-emb-map-picture');
      window.firstPicture = [img.getBoundingClientRect().height,
                             frame.getBoundingClientRect().height];
    } else requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
})()"""


def label(row: int) -> str:
    return f"row {row:04d}."


def stored_map(data_dir: Path, name: str, seed: int, count: int = COUNT) -> tuple[str, np.ndarray]:
    """A collection of `count` labelled texts with its 2-D map stored; its id and coordinates."""
    from reelscope.embeddings.store import EmbeddingStore, NewRow

    rng = np.random.default_rng(seed)
    rows = [NewRow("text", label(i), label(i), f"row:{seed}:{i}", text=label(i))
            for i in range(count)]  # fmt: skip
    store = EmbeddingStore(data_dir)
    info = store.create(name, GEMINI_EMBEDDING_2, 128)
    info = store.add(info.id, rows, rng.normal(size=(count, 128)).astype(np.float32))
    coords = rng.normal(size=(count, 2)).astype(np.float32)
    store.save_projection(
        info.id, ProjectionParams(dims=2).key(info.content_hash), coords, "umap", None, "{}"
    )
    store.db.close()
    return info.id, coords


def on_picture(box: dict, coords: np.ndarray, row: int) -> tuple[float, float]:
    """Where row `row` is drawn in the picture shown in `box` (its <img>)."""
    view = density.whole(coords)
    x, y = coords[row]
    return (
        box["x"] + (x - view.x0) / (view.x1 - view.x0) * box["width"],
        box["y"] + (view.y1 - y) / (view.y1 - view.y0) * box["height"],
    )


def test_a_cold_tab_shows_the_picture_then_the_chart_in_its_place(
    browser: Browser, app_url, app_env
):
    collection, coords = stored_map(Path(app_env["REELSCOPE_DATA_DIR"]), "Linked map", 1)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.add_init_script(FIRST_PICTURE_JS)
    try:
        page.goto(f"{app_url}/embeddings?collection={collection}")
        picture = page.locator(f"{PICTURE} img")
        expect(picture).to_be_visible(timeout=15_000)
        expect(page.locator(CHART)).to_have_count(0)  # no chart before Plotly's code loaded
        # nor the other elements, whose code would load beside the picture's: they come with it
        expect(page.get_by_text("Search comes in a moment")).to_be_visible()
        expect(page.get_by_text("Linked map ·")).to_be_visible()  # named, in the picker's place
        expect(page.get_by_label("Open a collection")).to_have_count(0)
        expect(page.get_by_text("Colour by")).to_have_count(0)
        expect(page.get_by_label("Search with a text")).to_have_count(0)
        expect(page.get_by_text("Export", exact=True)).to_have_count(0)
        page.wait_for_function(
            f"() => {{ const i = document.querySelector('{PICTURE} img');"
            " return i && i.complete && i.naturalWidth > 0; }"
        )
        # in the chart's box, at the chart's size, from its first frame
        assert page.evaluate("window.firstPicture") == [HEIGHT - 2 * MARGIN, HEIGHT]
        page.locator(PICTURE).scroll_into_view_if_needed()  # as place_of scrolls to the chart
        frame = page.locator(PICTURE).bounding_box()
        image = picture.bounding_box()
        target = 7
        drawn_at = on_picture(image, coords, target)

        expect(page.locator(CHART)).to_be_visible(timeout=20_000)
        expect(page.locator(PICTURE)).to_have_count(0)
        expect(page.get_by_label("Search with a text")).to_be_visible()
        expect(page.get_by_label("Open a collection")).to_be_visible()
        expect(page.get_by_text("Colour by")).to_be_visible()
        expect(page.get_by_text("Export", exact=True)).to_be_visible()
        chart = page.locator(".st-key-emb-map").bounding_box()
        for side in ("x", "y", "width", "height"):  # the chart took the picture's box
            assert abs(chart[side] - frame[side]) <= 1.5, (side, chart, frame)
        point = place_of(page, label(target))
        assert abs(point["x"] - drawn_at[0]) <= 2 and abs(point["y"] - drawn_at[1]) <= 2, (
            point, drawn_at,
        )  # fmt: skip

        page.mouse.click(point["x"], point["y"])  # the chart works as before
        wait_idle(page)
        only_selected(page, point)
        expect(page.locator(f".st-key-emb-selection-row-{point['id']}")).to_contain_text(
            label(target)
        )
        assert f"collection={collection}" in page.url
    finally:
        context.close()


def test_a_warm_tab_draws_the_chart_straight_away(page: Page, app_url, app_env):
    stored_map(Path(app_env["REELSCOPE_DATA_DIR"]), "Warm map", 2)
    open_page(page, app_url)  # the prefetcher has loaded Plotly's code
    page.evaluate(WATCH_PICTURE_JS)
    page.get_by_label("Open a collection").click()
    page.get_by_role("option").filter(has_text="Warm map").click()
    wait_idle(page)
    expect(page.locator(CHART)).to_be_visible()
    page.wait_for_function(
        f"() => {{ const gd = document.querySelector('{CHART}');"
        f" return gd && gd._fullData && gd._fullData[0].x.length === {COUNT}; }}"
    )
    assert page.evaluate("window.sawPicture") is False


PAPER_JS = f"() => document.querySelector('{CHART}')._fullLayout.paper_bgcolor"


def test_a_warm_tab_shows_a_big_maps_picture_under_its_chart(page: Page, app_url, app_env):
    _, coords = stored_map(Path(app_env["REELSCOPE_DATA_DIR"]), "Big warm map", 3, UNDER_CHART_FROM)
    open_page(page, app_url)  # the prefetcher has loaded Plotly's code
    page.get_by_label("Open a collection").click()
    page.get_by_role("option").filter(has_text="Big warm map").click()
    page.wait_for_function(
        f"() => {{ const i = document.querySelector('{PICTURE} img');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    page.wait_for_function(
        f"() => {{ const gd = document.querySelector('{CHART}');"
        f" return gd && gd._fullData && gd._fullData[0].x.length === {UNDER_CHART_FROM}; }}"
    )
    wait_idle(page)
    page.locator(".st-key-emb-map").scroll_into_view_if_needed()
    frame = page.locator(PICTURE).bounding_box()
    chart = page.locator(".st-key-emb-map").bounding_box()
    for side in ("x", "y", "width", "height"):  # the chart lies exactly over the picture
        assert abs(chart[side] - frame[side]) <= 1.5, (side, chart, frame)
    paper = page.evaluate(PAPER_JS)  # an opaque background: the drawn chart hides the picture
    assert paper.startswith("rgb(") or paper.startswith("#"), paper

    target = 11
    drawn_at = on_picture(page.locator(f"{PICTURE} img").bounding_box(), coords, target)
    point = place_of(page, label(target))
    assert abs(point["x"] - drawn_at[0]) <= 2 and abs(point["y"] - drawn_at[1]) <= 2, (
        point, drawn_at,
    )  # fmt: skip
    page.mouse.click(point["x"], point["y"])  # the chart, on top, takes the click
    wait_idle(page)
    only_selected(page, point)
