"""The Embeddings map's first paint through AppTest: a tab where Plotly's code has not loaded
yet shows a picture of the stored map (a Markdown image, styled by rules drawn first on the
page) and no chart; a tab whose prefetcher has
loaded it shows the chart, over the picture for a map big enough for Plotly to take a while.
The open collection is in the address (?collection=…).
"""

from __future__ import annotations

import numpy as np
import pytest

from components.common import prefetch
from components.embeddings.embedding_map import UNDER_CHART_FROM
from reelscope.embeddings.store import EmbeddingStore, NewRow
from reelscope.projection import ProjectionParams
from reelscope.untrusted import renders_unsafe
from tests.app.conftest import start_app, texts

PAGE = "pages/embeddings.py"
HOSTILE = "<img src=x onerror=alert(1)>.mp4"


def stored_collection(data_dir, count: int) -> str:
    """A collection of `count` rows from two sources (one named hostilely), its 2-D map
    stored."""
    store = EmbeddingStore(data_dir)
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(count, 128)).astype(np.float32)
    info = store.create("Stored", "multimodalembedding@001", 128)
    sources = ["films/a.mp4" if i % 3 else HOSTILE for i in range(count)]
    rows = [
        NewRow(kind="video", label=source, source=source, source_key=f"sha256:{source}",
               start_s=i * 4.0, end_s=i * 4.0 + 4, mime_type="video/mp4")
        for i, source in enumerate(sources)
    ]  # fmt: skip
    info = store.add(info.id, rows, vectors)
    coords = rng.normal(size=(count, 2)).astype(np.float32)
    store.save_projection(info.id, ProjectionParams().key(info.content_hash), coords, "umap",
                          None, "{}")  # fmt: skip
    store.db.close()
    return info.id


@pytest.fixture
def stored(connected) -> str:
    return stored_collection(connected.data_dir, 300)


def open_linked(collection_id: str, *, plotly_loaded: bool, color_by: str = "kind"):
    app = start_app()
    app.session_state["emb.color_by"] = color_by
    if plotly_loaded:
        app.session_state[prefetch.loaded_key("emb-prefetch")] = True
    app.query_params["collection"] = collection_id
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def map_charts(app) -> list:
    return [c for c in app.get("plotly_chart") if "emb.map" in c.proto.id]


def pictures(app) -> list[str]:
    """The map pictures on the page: Markdown images of the app's own PNGs."""
    return [m.value for m in app.markdown if "![The map](data:image/png;" in m.value]


def test_a_cold_tab_shows_the_maps_picture_and_no_chart(stored):
    app = open_linked(stored, plotly_loaded=False, color_by="source")
    # the link opened its collection, named in the picker's place (the picker comes with the
    # chart), and the map's controls are left for then too
    assert "Stored · multimodalembedding@001 · 128-d" in texts(app.markdown)
    assert not app.get("selectbox") and not app.get("button_group")
    assert not map_charts(app), "no chart before Plotly's code has loaded"
    assert len(pictures(app)) == 1
    # one element with its style rules, so it is never drawn without them (the browser test
    # checks its size at its first frame)
    assert ".st-key-emb-map-picture img" in pictures(app)[0]
    # the legend is text over the picture, escaped: the hostile name is shown as written
    legend = [m.value for m in app.markdown if "films/a.mp4" in m.value]
    assert len(legend) == 1 and "(200)" in legend[0] and "(100)" in legend[0]
    assert "\\<img src=x" in legend[0] and not renders_unsafe(legend[0])


def test_a_tab_with_plotlys_code_loaded_shows_the_chart_at_once(stored):
    app = open_linked(stored, plotly_loaded=True)
    assert app.selectbox(key="emb.open").value == stored
    assert len(map_charts(app)) == 1
    assert not pictures(app)


def test_a_big_map_in_a_tab_with_plotlys_code_has_its_picture_under_the_chart(connected):
    app = open_linked(stored_collection(connected.data_dir, UNDER_CHART_FROM), plotly_loaded=True)
    assert len(map_charts(app)) == 1
    assert len(pictures(app)) == 1, "the picture shows while Plotly draws"
    assert ".st-key-emb-map-box .st-key-emb-map { position: absolute" in pictures(app)[0]
    # one set of view controls (the chart's), not the picture's as well
    assert sum("points as a density image" in c.value for c in app.caption) <= 1


def test_the_address_follows_the_open_collection_and_a_stale_link_says_so(stored):
    app = open_linked("gone-collection", plotly_loaded=True)
    assert "not here (gone-collection)" in texts(app.warning)
    assert app.selectbox(key="emb.open").value != stored
    assert "collection" not in app.query_params

    app.selectbox(key="emb.open").set_value(stored).run()
    assert not app.exception, app.exception
    assert app.query_params["collection"] == stored
    assert "not here" not in texts(app.warning), "the warning is for the link, once"
