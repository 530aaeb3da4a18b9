"""The Embeddings page through AppTest, against the Vertex AI emulator (real SDKs, real HTTP).

A collection is built the way a user builds one — texts typed, a generated video uploaded
through the source picker, a model picked — and the page is read back: the job's outcome, the
map's figure (one trace, row ids in customdata), a query's ranked neighbours, a reopened
collection, an import.
"""

from __future__ import annotations

import json
import time
import uuid

import numpy as np
import pytest

from components.common import prefetch
from reelscope.embeddings.models import GEMINI_EMBEDDING_2, MULTIMODAL_001
from reelscope.media import format_size
from reelscope.tasks import registry
from tests.app.conftest import start_app, texts
from tests.vertex_emulator import Fault, FaultKind

PAGE = "pages/embeddings.py"
SNIPPETS = ["a red scene", "a blue sea"]


def open_page():
    app = start_app()
    # a tab whose prefetcher has loaded Plotly's code: the map is a chart, not its picture
    app.session_state[prefetch.loaded_key("emb-prefetch")] = True
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def upload(app, name, data, mime):
    uploader = next(
        u for u in app.get("file_uploader") if u.key.startswith("emb.build.media.uploads")
    )
    uploader.upload(name, data, mime)
    app.run()
    assert not app.exception, app.exception


def build(app, snippets=SNIPPETS, model=GEMINI_EMBEDDING_2, name="Fixtures"):
    app.text_input(key="emb.build.name").input(name)
    if model != GEMINI_EMBEDDING_2:
        app.radio(key="emb.build.model").set_value(model).run()
    app.text_area(key="emb.build.texts").input("\n".join(snippets)).run()
    assert not app.button(key="emb.build.go").disabled, texts(app.warning)
    app.button(key="emb.build.go").click().run()
    assert not app.exception, app.exception
    settle(app)


def settle(app) -> None:
    """What the page's poll of its job does once the job ends: run the page again."""
    from components.embeddings.embedding_resources import JOB_KEY

    job = registry().get(app.session_state[JOB_KEY]) if JOB_KEY in app.session_state else None
    if job is not None:
        assert job.wait(60), job.progress()
        app.run()
        assert not app.exception, app.exception


def map_figure(app) -> dict:
    charts = [c for c in app.get("plotly_chart") if "emb.map" in c.proto.id]
    assert charts, "the map is on the page"
    return json.loads(charts[0].proto.spec)


def trace_values(trace: dict, name: str) -> np.ndarray:
    """A trace array as Plotly serialised it (numpy arrays travel as typed arrays)."""
    value = trace[name]
    if isinstance(value, dict) and "bdata" in value:
        import base64

        raw = base64.b64decode(value["bdata"])
        return np.frombuffer(raw, dtype=np.dtype(value["dtype"]))
    return np.asarray(value)


@pytest.mark.parametrize("model", [GEMINI_EMBEDDING_2, MULTIMODAL_001])
def test_builds_a_collection_from_a_video_and_texts_and_maps_it(
    connected, vertex, video_file, model
):
    app = open_page()
    upload(app, "scenes.mp4", video_file.read_bytes(), "video/mp4")
    build(app, model=model)

    assert "Done: 3 items embedded" in texts(app.success)
    figure = map_figure(app)
    assert len(figure["data"]) == 1, "one trace: selection indices cannot collide"
    trace = figure["data"][0]
    assert trace["type"] == "scattergl"
    rows = trace_values(trace, "customdata")
    video_rows = 1  # 12 s of video: one segment under both models' default interval
    assert sorted(rows.tolist()) == list(range(len(SNIPPETS) + video_rows))
    assert any("scenes.mp4" in hover for hover in trace["hovertext"])
    assert any("a red scene" in hover for hover in trace["hovertext"])

    rpc = "embedContent" if model == GEMINI_EMBEDDING_2 else "predict"
    calls = [r for r in vertex.requests if r.rpc == rpc]
    assert len(calls) == len(SNIPPETS) + video_rows
    assert {r.model for r in calls} == {model}


def test_multimodal_segments_follow_the_interval_and_the_video_plays_from_its_start(
    connected, vertex, video_file
):
    app = open_page()
    upload(app, "scenes.mp4", video_file.read_bytes(), "video/mp4")
    app.radio(key="emb.build.model").set_value(MULTIMODAL_001).run()
    app.number_input(key=f"emb.build.interval.{MULTIMODAL_001}").set_value(6.0).run()
    build(app, snippets=[], model=MULTIMODAL_001)

    predict = vertex.last_request("predict")
    config = predict.body["instances"][0]["video"]["videoSegmentConfig"]
    assert config["intervalSec"] == 6
    trace = map_figure(app)["data"][0]
    assert len(trace_values(trace, "customdata")) == 2  # 12 s in 6 s segments
    assert sorted(h for h in trace["hovertext"] if "scenes.mp4" in h) == [
        "scenes.mp4 · 0.0–6.0 s",
        "scenes.mp4 · 6.0–12.0 s",
    ]


def test_the_model_limits_are_enforced_with_a_clear_message(connected, video_file):
    app = open_page()
    upload(app, "scenes.mp4", video_file.read_bytes(), "video/mp4")
    app.radio(key="emb.build.model").set_value(MULTIMODAL_001).run()
    app.number_input(key=f"emb.build.interval.{MULTIMODAL_001}").set_value(2.0).run()
    assert "segments must be at least 4 s" in texts(app.warning)
    assert app.button(key="emb.build.go").disabled

    app.number_input(key=f"emb.build.interval.{MULTIMODAL_001}").set_value(8.0).run()
    app.selectbox(key=f"emb.build.dimension.{MULTIMODAL_001}").set_value(256).run()
    assert "1408-d video vectors" in texts(app.warning)
    assert app.button(key="emb.build.go").disabled


def test_a_failing_item_is_listed_with_its_reason_and_the_rest_land(connected, vertex):
    def refuse_poison(request):
        if "poison" in json.dumps(request.body):
            return Fault(FaultKind.ERROR, rpc=request.rpc, status=400, message="Bad text.")
        return None

    vertex.on_request(refuse_poison)
    app = open_page()
    build(app, snippets=["fine one", "poison pill", "fine two"])

    assert "poison pill" in texts(app.text) and "Bad text." in texts(app.text)
    assert "could not be embedded" in texts(app.warning)
    trace = map_figure(app)["data"][0]
    assert len(trace_values(trace, "customdata")) == 2


def test_a_text_query_ranks_its_neighbours_and_is_placed_on_the_map(connected, vertex):
    app = open_page()
    build(app, snippets=["a red scene", "a blue sea", "green grass"])
    app.text_input(key="emb.query.text").input("a blue sea")
    app.button(key="emb.query.search").click().run()
    assert not app.exception, app.exception

    table = app.dataframe[0].value
    assert table["what"].iloc[0] == "text · a blue sea"
    assert table["score"].iloc[0] == pytest.approx(1.0, abs=1e-3)  # same input, same vector
    assert list(table["score"]) == sorted(table["score"], reverse=True)
    figure = map_figure(app)
    assert len(figure["data"]) == 1, "the query is an annotation, not a second trace"
    assert any("★ a blue sea" in a.get("text", "") for a in figure["layout"]["annotations"])
    queries = [r for r in vertex.requests if r.rpc == "embedContent"]
    assert len(queries) == 3, "the three snippets; the query is one of them: its stored vector"
    assert "already in this collection: no call" in texts(app.caption)

    app.text_input(key="emb.query.text").input("a green field")
    app.button(key="emb.query.search").click().run()
    queries = [r for r in vertex.requests if r.rpc == "embedContent"]
    assert len(queries) == 4 and "a green field" in json.dumps(queries[-1].body)  # a new text
    assert "no call" not in texts(app.caption)


def test_collections_persist_and_reopen(connected, vertex):
    app = open_page()
    build(app, snippets=["kept across sessions"], name="Kept")

    again = open_page()  # a new session on the same data folder
    picker = again.selectbox(key="emb.open")
    options = [o for o in picker.options if "Kept" in o]
    assert options, picker.options
    vertex.clear()
    picker.select_index(picker.options.index(options[0])).run()
    trace = map_figure(again)["data"][0]
    assert trace["hovertext"] == ["text · kept across sessions"]
    assert vertex.requests == [], "opening a collection makes no call"


def test_a_name_already_taken_gets_a_number_on_build_and_on_import(connected, vertex, tmp_path):
    app = open_page()
    build(app, snippets=["first"], name="Films")
    build(app, snippets=["second"], name="Films")
    assert opened(app).startswith("Films (2) · ")
    np.save(tmp_path / "films.npy", np.eye(2, 8, dtype=np.float32))
    import_files(app, [("films.npy", (tmp_path / "films.npy").read_bytes(), "application/octet-stream")],
                 name="films")  # fmt: skip
    assert opened(app).startswith("films (3) · imported")
    names = [o.split(" · ")[0] for o in app.selectbox(key="emb.open").options[1:]]
    assert sorted(names) == ["Films", "Films (2)", "films (3)"]


def test_an_uploaded_text_file_gives_one_snippet_per_line(connected, vertex):
    app = open_page()
    uploader = next(u for u in app.get("file_uploader") if u.key == "emb.build.text_file")
    uploader.upload("notes.txt", b"first line\n\nsecond line\n", "text/plain")
    app.run()
    build(app, snippets=[])
    hovers = map_figure(app)["data"][0]["hovertext"]
    assert sorted(hovers) == ["text · first line", "text · second line"]


def test_a_text_that_looks_like_html_is_shown_as_text(connected, vertex):
    app = open_page()
    build(app, snippets=["<b>bold</b> <img src=x onerror=alert(1)>"])
    hovers = map_figure(app)["data"][0]["hovertext"]
    assert hovers == ["text · &lt;b&gt;bold&lt;/b&gt; &lt;img src=x onerror=alert(1)&gt;"]


def opened(app) -> str:
    picker = app.selectbox(key="emb.open")
    return picker.options[picker.index]


def import_files(app, files, name=""):
    uploader = next(u for u in app.get("file_uploader") if u.key.startswith("emb.import.files"))
    for file_name, data, mime in files:
        uploader.upload(file_name, data, mime)
    app.run()
    if name:
        app.text_input(key="emb.import.name").input(name)
    app.button(key="emb.import.go").click().run()
    assert not app.exception, app.exception


def test_any_npy_with_json_labels_opens_on_the_map(connected, vertex, tmp_path):
    # Three rows: fewer than 4 map by PCA at once (more would wait for UMAP, tested in Chromium)
    vectors = np.random.default_rng(7).normal(size=(3, 16)).astype(np.float32)
    npy = tmp_path / "mine.npy"
    np.save(npy, vectors)
    labels = json.dumps([f"thing {i}" for i in range(3)]).encode()
    app = open_page()
    import_files(
        app,
        [("mine.npy", npy.read_bytes(), "application/octet-stream"),
         ("mine.json", labels, "application/json")],
        name="Mine",
    )  # fmt: skip

    assert opened(app) == "Mine · imported · 16-d"
    assert "3 rows" in texts(app.caption)
    trace = map_figure(app)["data"][0]
    assert len(trace_values(trace, "customdata")) == 3
    assert sorted(trace["hovertext"]) == [f"imported · thing {i}" for i in range(3)]
    assert "cannot be placed in its space" in texts(app.caption)  # no model: no text query
    assert vertex.requests == []


def test_an_exported_parquet_comes_back_in_the_same_space(connected, vertex, tmp_path):
    from reelscope.embeddings.store import EmbeddingStore
    from reelscope.embeddings.transfer import export_parquet

    app = open_page()
    build(app, snippets=["round", "trip"], name="Original")
    store = EmbeddingStore(connected.data_dir)  # the page's own data folder
    original = next(c for c in store.collections() if c.name == "Original")
    path = export_parquet(store.open(original.id), tmp_path / "original.parquet")

    import_files(app, [("original.parquet", path.read_bytes(), "application/octet-stream")])
    # the file names its collection "Original", which is taken: the import is "Original (2)"
    assert opened(app) == "Original (2) · Gemini Embedding 2 · 3072-d"
    assert sorted(c.name for c in store.collections()) == ["Original", "Original (2)"]
    assert sorted(map_figure(app)["data"][0]["hovertext"]) == ["text · round", "text · trip"]
    app.text_input(key="emb.query.text").input("trip")
    app.button(key="emb.query.search").click().run()
    assert app.dataframe[0].value["what"].iloc[0] == "text · trip"  # the same vector space


def selection_app(data_dir: str, ids: list[int]) -> None:
    from pathlib import Path

    from components.embeddings import embedding_selection
    from reelscope.embeddings.store import EmbeddingStore

    store = EmbeddingStore(Path(data_dir))
    collection = store.open(store.collections()[0].id)
    embedding_selection.show("emb.selection", collection, ids)


def test_selected_segment_plays_its_clip_images_show_and_texts_print(tmp_path, video_file):
    from streamlit.testing.v1 import AppTest

    from reelscope.embeddings.items import ItemKind
    from reelscope.embeddings.store import EmbeddingStore, NewRow

    store = EmbeddingStore(tmp_path)
    info = store.create("Picked", GEMINI_EMBEDDING_2, 128)
    sha = "a" * 64
    store.blobs.put_file(video_file, sha)
    segment = NewRow(ItemKind.VIDEO, "scenes.mp4", "scenes.mp4", f"sha256:{sha}", 4.0, 8.0,
                     mime_type="video/mp4", blob_sha=sha)  # fmt: skip
    words = "**not bold** <i>not italic</i>"
    text = NewRow(ItemKind.TEXT, words, words, "text:1", text=words)
    store.add(info.id, [segment, text], np.eye(2, 128, dtype=np.float32))

    app = AppTest.from_function(
        selection_app, args=(str(tmp_path), [0, 1]), default_timeout=30
    ).run()
    assert not app.exception, app.exception
    videos = app.get("video")
    assert len(videos) == 1
    assert (videos[0].proto.start_time, videos[0].proto.end_time) == (4, 8)
    assert words in [t.value for t in app.text], "a text prints as it is, not as Markdown"
    assert "scenes.mp4 · 4.0–8.0 s" in texts(app.caption)


def test_each_video_embeds_the_part_its_start_and_end_choose(connected, vertex, video_file):
    app = open_page()
    upload(app, "scenes.mp4", video_file.read_bytes(), "video/mp4")
    app.radio(key="emb.build.model").set_value(MULTIMODAL_001).run()
    clip = {t.key.rsplit(".", 1)[-1]: t for t in app.text_input if ".clip." in (t.key or "")}
    clip["start"].input("4").run()
    app.number_input(key=f"emb.build.interval.{MULTIMODAL_001}").set_value(4.0).run()
    build(app, snippets=[], model=MULTIMODAL_001)

    config = vertex.last_request("predict").body["instances"][0]["video"]["videoSegmentConfig"]
    assert (config["startOffsetSec"], config["intervalSec"]) == (4, 4)
    hovers = sorted(map_figure(app)["data"][0]["hovertext"])
    assert hovers == ["scenes.mp4 · 4.0–8.0 s", "scenes.mp4 · 8.0–12.0 s"]


def test_cancel_stops_the_job_at_once_and_nothing_more_is_sent(connected, vertex):
    from components.embeddings.embedding_resources import JOB_KEY
    from reelscope.embeddings.jobs import EmbedJob
    from reelscope.tasks import TaskState, registry

    vertex.delay(8.0, times=100, rpc="embedContent")  # every call takes 8 s
    app = open_page()
    app.text_area(key="emb.build.texts").input("\n".join(f"slow {i}" for i in range(40))).run()
    app.button(key="emb.build.go").click().run()  # the page polls the job: its run ends

    job = registry().get(app.session_state[JOB_KEY])
    assert isinstance(job, EmbedJob)
    assert not job.done
    deadline = time.monotonic() + 10  # cancelled mid-way: once the first calls are out
    while job.details().calls == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    app.button(key="emb-job.cancel").click().run()
    assert job.wait(5), job.details()
    app.run()
    assert not app.exception, app.exception
    assert "Cancelled" in texts(app.info)
    assert job.details().state is TaskState.CANCELLED
    assert app.button(key="emb-job.cancel").disabled
    started = job.details().calls  # final once cancel() returned
    assert 0 < started < 40
    # The calls started before Cancel may still be on their way to the emulator.
    deadline = time.monotonic() + 5
    while len(vertex.requests) < started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(vertex.requests) == started
    time.sleep(1.5)
    assert len(vertex.requests) == started, "no call starts after Cancel"


def test_an_image_query_heatmap_and_export_buttons(connected, vertex, video_file, image_file):
    app = open_page()
    upload(app, "scenes.mp4", video_file.read_bytes(), "video/mp4")
    upload(app, "orange.png", image_file.read_bytes(), "image/png")
    build(app, snippets=["a red scene"])

    form_image = next(u for u in app.get("file_uploader") if u.key == "emb.query.image")
    form_image.upload("orange.png", image_file.read_bytes(), "image/png")
    app.button(key="emb.query.search").click().run()
    assert not app.exception, app.exception
    table = app.dataframe[0].value
    assert table["what"].iloc[0] == "image · orange.png"  # the same image, the same vector
    assert table["score"].iloc[0] == pytest.approx(1.0, abs=1e-3)

    heatmaps = [c for c in app.get("plotly_chart") if "emb.heatmap" in c.proto.id]
    heatmap = json.loads(heatmaps[0].proto.spec)["data"][0]
    assert heatmap["type"] == "heatmap"
    assert list(heatmap["y"]) == ["a red scene"] and len(heatmap["x"]) == 1
    labels = {b.proto.label for b in app.get("download_button")}
    assert {"Parquet (vectors + rows)", "NPY (vectors)", "JSON (rows)"} <= labels


HOSTILE_TEXT = (
    "<img src=http://127.0.0.1:9/t onerror=alert(1)> ![p](http://127.0.0.1:9/leak) **big**"
)
HOSTILE_SOURCE = '<a href="http://127.0.0.1:9/">clip</a>\n# heading.mp4'
HOSTILE_IMAGE = "![x](http://127.0.0.1:9/i.png) | a | table |"
HOSTILE_NAME = "<img src=x>\n# Hostile ![n](http://127.0.0.1:9/n)"


def hostile_parquet(path) -> bytes:
    """A file of vectors whose every string is written to break out: HTML, Markdown images,
    headings, tables; media types that would serve HTML or script. Three rows map by PCA at
    once (an imported kind in the legend is tested in tests/unit/test_embeddings_figures.py)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "kind": ["text", "video", "image"],
        "label": [HOSTILE_TEXT, "clip", HOSTILE_IMAGE],
        "source": [HOSTILE_TEXT, HOSTILE_SOURCE, HOSTILE_IMAGE],
        "text": [HOSTILE_TEXT, None, None],
        "start_s": [None, 0.0, None],
        "end_s": [None, 4.0, None],
        "mime_type": [None, "text/html", "image/svg+xml<script>"],
        "uri": [None, "gs://b/<script>alert(1)</script>.mp4", None],
        "vector": [list(np.eye(3, 128, k=i, dtype=np.float32)[0]) for i in range(3)],
    })  # fmt: skip
    meta = {"name": HOSTILE_NAME, "model_id": GEMINI_EMBEDDING_2, "dimension": 128}
    pq.write_table(table.replace_schema_metadata({"reelscope": json.dumps(meta)}), path)
    return path.read_bytes()


def markup_left(text: str) -> str:
    """The markup characters of a Plotly string once the figure's own tags are taken out."""
    import re

    ours = r'<br>|<span style="color:#[0-9A-Fa-f]{6}">●</span>'
    return "".join(ch for ch in re.sub(ours, "", text) if ch in "<>")


def shown_markdown(app) -> list[str]:
    elements = [*app.caption, *app.markdown, *app.error, *app.warning, *app.info, *app.success]
    return [str(e.value) for e in elements]


def test_a_hostile_import_is_shown_as_written_and_renders_no_html_or_image(
    connected, vertex, tmp_path
):
    from reelscope.untrusted import renders_unsafe

    app = open_page()
    data = hostile_parquet(tmp_path / "hostile.parquet")
    import_files(app, [("hostile.parquet", data, "application/octet-stream")])

    # the picker: plain text on one line, named as the file names it
    assert opened(app).startswith("<img src=x> # Hostile ![n](http://127.0.0.1:9/n) · Gemini")
    # the map's hovers and legend: escaped, with no markup but the figure's own
    figure = map_figure(app)
    hovers = figure["data"][0]["hovertext"]
    assert hovers[1] == (
        "&lt;a href=&quot;http://127.0.0.1:9/&quot;&gt;clip&lt;/a&gt;<br># heading.mp4 · 0.0–4.0 s"
    )
    legend = " ".join(a["text"] for a in figure["layout"]["annotations"])
    assert [markup_left(t) for t in [*hovers, legend]] == [""] * 4
    # the heatmap's axes: texts × video segments
    heatmap = next(c for c in app.get("plotly_chart") if "emb.heatmap" in c.proto.id)
    trace = json.loads(heatmap.proto.spec)["data"][0]
    assert [markup_left(t) for t in [*trace["x"], *trace["y"]]] == ["", ""]
    assert trace["y"][0].startswith("&lt;img src=http://127.0.0.1:9/t")
    # a search lists them by what they are, in plain cells
    app.text_input(key="emb.query.text").input("anything")
    app.button(key="emb.query.search").click().run()
    assert not app.exception, app.exception
    assert any(HOSTILE_SOURCE.split("\n")[0] in what for what in app.dataframe[0].value["what"])
    assert not [m for m in shown_markdown(app) if renders_unsafe(m)]

    # the selection panel, every row at once: captions are one line of safe Markdown
    selected = selection_of(connected.data_dir, [0, 1, 2])
    captions = [str(c.value) for c in selected.caption]
    assert not [m for m in shown_markdown(selected) if renders_unsafe(m)]
    assert not [c for c in captions if "\n" in c], "one line each: no heading, list or table"
    assert any(c.startswith("gs://b/\\<script>alert(1)\\</script>.mp4: to play") for c in captions)
    assert any("\\<a href=" in c and "\\</a> # heading.mp4" in c for c in captions)
    assert "image · [x](http://127.0.0.1:9/i.png) \\| a \\| table \\|" in captions
    assert HOSTILE_TEXT in [t.value for t in selected.text], "a text prints as it is written"
    assert [r.rpc for r in vertex.requests] == ["embedContent"], "the search, and nothing else"


def selection_of(data_dir, ids):
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_function(selection_app, args=(str(data_dir), ids), default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    return app


def test_the_open_collection_stays_open_while_rows_land_in_it(connected, vertex):
    """Streamlit holds a picked option as its label: a label that changed under it (a row count
    going up as a job adds rows) closed the collection in the browser. So the labels stay as
    they were, and the count is shown beside the picker."""
    from reelscope.embeddings.store import EmbeddingStore, NewRow

    app = open_page()
    build(app, snippets=["one", "two"], name="Growing")
    assert opened(app).startswith("Growing")
    labels = app.selectbox(key="emb.open").options
    store = EmbeddingStore(connected.data_dir)
    growing = next(c for c in store.collections() if c.name == "Growing")
    row = NewRow("text", "three", "three", "text:three", text="three")
    store.add(growing.id, [row], np.ones((1, growing.dimension), dtype=np.float32))

    app.run()
    assert opened(app).startswith("Growing"), "still open"
    assert app.selectbox(key="emb.open").options == labels
    assert "3 rows" in texts(app.caption)


def test_a_large_collection_gets_its_search_index_in_the_background(connected, vertex):
    from reelscope.embeddings import search_index
    from reelscope.embeddings.store import EmbeddingStore, NewRow

    app = open_page()
    build(app, snippets=["a red scene", "a blue sea"], name="Large")
    store = EmbeddingStore(connected.data_dir)
    info = next(c for c in store.collections() if c.name == "Large")
    many = search_index.BRUTE_FORCE_BELOW
    filler = np.random.default_rng(0).normal(size=(many, info.dimension)).astype(np.float32)
    rows = [NewRow(kind="text", label=f"filler {i}", source="filler", source_key=f"filler {i}")
            for i in range(many)]  # fmt: skip
    store.add(info.id, rows, filler)
    app.run()  # the page sees the new version: its index builds in the background
    assert not app.exception, app.exception
    collection = store.open(info.id)
    builds = [t for t in registry().tasks(kind=search_index.IndexBuild.kind)
              if t.key.startswith(f"{info.id}:")]  # fmt: skip
    assert len(builds) == 1, "one build, for the current version"
    assert builds[0].wait(120) and builds[0].progress().text == "Search index stored."
    assert search_index.uses_index(collection)

    app.text_input(key="emb.query.text").input("a blue sea")
    app.button(key="emb.query.search").click().run()
    assert not app.exception, app.exception
    table = app.dataframe[0].value
    assert table["what"].iloc[0] == "text · a blue sea"
    assert table["score"].iloc[0] == pytest.approx(1.0, abs=1e-3)
    store.db.close()


@pytest.fixture
def films(connected, monkeypatch, storage_emulator, video_file, image_file) -> str:
    """gs://BUCKET/films/: two MP4s, a MOV (Gemini Embedding 2 does not take it), a PNG, a
    text file; Reelscope reaches the storage emulator the way it reaches Cloud Storage."""
    from reelscope.settings import Settings
    from reelscope.vertex import make_storage_client

    client = make_storage_client(Settings(storage_emulator_host=storage_emulator))
    bucket = client.create_bucket(f"films-{uuid.uuid4().hex[:10]}")
    for name in ("a.mp4", "b.mp4", "old.mov"):
        bucket.blob(f"films/{name}").upload_from_filename(video_file)
    bucket.blob("films/poster.png").upload_from_filename(image_file)
    bucket.blob("films/readme.txt").upload_from_string("not media")
    client.close()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", storage_emulator)
    return f"gs://{bucket.name}/films/"


def test_a_collection_from_a_bucket_prefix(films, vertex, video_file, image_file):
    app = open_page()
    app.text_input(key="emb.build.name").input("Films")
    app.text_input(key="emb.build.prefix.prefix").input(films).run()
    app.button(key="emb.build.prefix.list").click().run()
    assert not app.exception, app.exception
    listed = texts(app.caption)
    size = format_size(3 * video_file.stat().st_size + image_file.stat().st_size)
    assert "3 videos and 1 image under" in listed and f"{size} in all" in listed
    assert "length unknown until embedded" in listed and "1 other files left out" in listed
    refused = texts(app.warning)
    assert "1 listed files are left out" in refused and "old.mov" in refused
    assert not _embed_requests(vertex)  # nothing is sent before Build
    app.number_input(key="emb.build.prefix_end").set_value(16.0).run()
    app.button(key="emb.build.go").click().run()
    assert not app.exception, app.exception
    settle(app)
    assert "Done: 3 items embedded" in texts(app.success)
    sent = {json.dumps(r.parts, sort_keys=True) for r in _embed_requests(vertex)}
    assert not any("old.mov" in body for body in sent)
    assert any(films + "a.mp4" in body for body in sent)


def test_a_job_a_restart_stopped_resumes_at_the_first_page_run(connected, vertex):
    from reelscope.embeddings.items import text_items
    from reelscope.embeddings.job_book import StoredJob
    from reelscope.embeddings.store import EmbeddingStore

    store = EmbeddingStore(connected.data_dir)  # what a server left when it stopped mid-job
    info = store.create("Left going", GEMINI_EMBEDDING_2, 768)
    items = tuple(text_items("one\ntwo\nthree"))
    stored = StoredJob("stopped-job", info.id, GEMINI_EMBEDDING_2, 768, 4, "local",
                       "3 items into “Left going”", "embeddings", items)  # fmt: skip
    store.jobs.create(stored, alive_at=time.time() - 60)  # its server stopped a minute ago
    store.db.close()
    open_page()
    job = registry().get("stopped-job")
    assert job is not None and job.wait(60), "the stored job was resumed"
    assert job.details().items_done == 3 and len(_embed_requests(vertex)) == 3
    app = open_page()  # a later run: nothing left to resume, nothing sent again
    app.selectbox(key="emb.open").set_value(info.id).run()
    assert "3 rows" in texts(app.caption)
    assert len(_embed_requests(vertex)) == 3


def _embed_requests(vertex) -> list:
    return [r for r in vertex.requests if r.rpc == "embedContent"]


def test_with_only_an_api_key_gemini_embedding_2_is_offered_and_builds(api_key_only, video_file):
    vertex = api_key_only
    app = open_page()
    assert app.radio(key="emb.build.model").options == ["Gemini Embedding 2"]
    said = texts(app.caption)
    assert "multimodalembedding@001 is served only by Vertex AI: not offered here." in said
    upload(app, "scenes.mp4", video_file.read_bytes(), "video/mp4")
    build(app)
    assert "Done: 3 items embedded" in texts(app.success)
    calls = [r for r in vertex.requests if r.model == GEMINI_EMBEDDING_2]
    assert {(r.backend, r.rpc) for r in calls} == {("gemini-api", "batchEmbedContents")}
    assert len(calls) == 3
    assert len(trace_values(map_figure(app)["data"][0], "customdata")) == 3


def test_a_multimodal_collection_on_the_api_key_says_so_and_searches_what_it_holds(
    connected, vertex, monkeypatch
):
    app = open_page()
    build(app, snippets=["a red scene", "a blue sea"], model=MULTIMODAL_001, name="Vertex made")
    for name in (
        "GOOGLE_CLOUD_PROJECT",
        "GOOGLE_VERTEX_BASE_URL",
        "GOOGLE_APPLICATION_CREDENTIALS",
    ):
        monkeypatch.delenv(name)
    monkeypatch.setenv("GEMINI_API_KEY", vertex.api_key)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", vertex.base_url)
    vertex.clear()

    again = open_page()  # the same data folder, now with only an API key
    picker = again.selectbox(key="emb.open")
    picker.select_index(next(i for i, o in enumerate(picker.options) if "Vertex made" in o)).run()
    assert not again.exception, again.exception
    said = texts(again.info)
    assert "multimodalembedding@001 is served only by Vertex AI" in said
    assert "Gemini Developer API" in said and "maps, selections and nearest rows" in said
    assert len(trace_values(map_figure(again)["data"][0], "customdata")) == 2  # the map is local

    again.text_input(key="emb.query.text").input("a blue sea")  # one of its own rows
    again.button(key="emb.query.search").click().run()
    assert again.dataframe[0].value["what"].iloc[0] == "text · a blue sea"
    again.text_input(key="emb.query.text").input("a green field")  # new: needs Vertex AI
    again.button(key="emb.query.search").click().run()
    assert "served only by Vertex AI" in texts(again.error)
    assert vertex.requests == [], "nothing was sent to either backend"
