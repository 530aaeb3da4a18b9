"""Every page, driven in Chromium with hostile answers and hostile imports: nothing fetched.

The emulator answers with text built to make a browser fetch (a Markdown image, raw `<img>`,
`<script>`, `<iframe>`, a reference image, Streamlit's `:streamlit:` logo, a mermaid diagram, a
`javascript:` link) from a listener: a local HTTP server whose URL the text holds. Ask, Chapters
(titles, summaries, speakers, a chart's quantity and unit, the timeline), Side by side, History
(a hostile run kept, an imported one opened, two compared) and Embeddings (an imported
collection whose name, labels, sources and links are hostile) are each shown, and then:

- the page holds no `<img>` but the app's own (media files, the media route, a Plotly heatmap's
  picture of its numbers), no `<script>`, `<iframe>` or other element loading from the listener,
  no `javascript:` link, and no link in a Plotly chart's SVG;
- the listener received nothing, and the browser asked nothing of any other origin.

The hostile text's paths name where it was shown (`/ask/…`, `/history/…`), so a failure says
which page let which construct through.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect

from reelscope.generation.events import Completed, Finished, TextDelta
from reelscope.lab.grid import GridSpec, ModelColumn, VideoRow
from reelscope.parameters import GenerationParams
from reelscope.runs import RunSpec, SourceRef
from reelscope.store import StoredRun, open_store
from reelscope.store.transfer import export_json
from reelscope.tasks import LOCAL_OWNER
from tests.e2e.conftest import click_table_row, running_app, screenshot, wait_idle

pytestmark = pytest.mark.e2e

END = "END-OF-ANSWER"

TRACES_JS = """
({app, listener}) => {
  const found = [];
  const own = (url) => url.startsWith(app + "/media/") || url.startsWith(app + "/app/static/");
  const show = (el) => el.outerHTML.slice(0, 160);
  // Plotly draws a heatmap as an SVG image of its own numbers: a PNG data URI, in the chart;
  // the map's picture is one the app draws of its points (reelscope/embeddings/picture.py).
  const drawn = (el, src) => el.closest('.js-plotly-plot, [class~="st-key-emb-map-picture"]')
    && src.startsWith("data:image/png;");
  for (const img of document.querySelectorAll("img, image, picture source")) {
    const src = img.getAttribute("src") || img.getAttribute("href") || img.getAttribute("srcset")
      || img.getAttribute("xlink:href") || "";
    if (!own(img.src || src) && !drawn(img, src)) found.push("an image: " + show(img));
  }
  for (const s of document.querySelectorAll("script")) {
    if ((s.src + s.textContent).includes(listener)) found.push("a script: " + show(s));
  }
  for (const f of document.querySelectorAll("iframe, frame, object, embed")) {
    if (!(f.src || f.data || "").startsWith(app)) found.push("a frame: " + show(f));
  }
  for (const a of document.querySelectorAll("a[href]")) {
    if (/^\\s*javascript:/i.test(a.getAttribute("href"))) found.push("a javascript: link: " + show(a));
  }
  for (const a of document.querySelectorAll("svg a")) found.push("a link in a chart: " + show(a));
  const loads = ["src", "srcset", "poster", "data", "style", "background", "xlink:href"];
  for (const el of document.querySelectorAll("*")) {
    for (const name of loads) {
      const value = el.getAttribute(name);
      if (value && value.includes(listener)) found.push(`${name} on ${el.tagName}: ${show(el)}`);
    }
  }
  return found;
}
"""

CHART_TEXTS_JS = """
(gd) => gd.data.flatMap((trace) => [trace.name, trace.text, trace.hovertext, trace.y].flat())
  .filter((value) => typeof value === "string")
"""

ALL_POINTS_JS = """
() => {
  const gd = document.querySelector('.st-key-emb-map .js-plotly-plot');
  if (!gd || !gd._fullLayout || !gd._fullData || !gd._fullData.length) return null;
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const box = gd.getBoundingClientRect();
  const trace = gd._fullData[0];
  // Plotly pads its ranges by about a marker's radius: a point can sit a few pixels from the
  // edge, so the lasso runs 1 px inside it (and every point is checked to be inside).
  return {left: box.left + xa._offset + 1, right: box.left + xa._offset + xa._length - 1,
          top: box.top + ya._offset + 1, bottom: box.top + ya._offset + ya._length - 1,
          points: trace.x.length,
          at: Array.from(trace.x, (x, i) => [box.left + xa._offset + xa.l2p(x),
                                             box.top + ya._offset + ya.l2p(trace.y[i])])};
}
"""


class Listener:
    """A local HTTP server that records every request and answers each with a tiny PNG."""

    PNG = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
    )

    def __init__(self) -> None:
        self.paths: list[str] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                listener.paths.append(f"{self.command} {self.path}")
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Content-Length", str(len(Listener.PNG)))
                self.end_headers()
                self.wfile.write(Listener.PNG)

            do_GET = do_POST = do_HEAD = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("sweep")


@pytest.fixture(scope="module")
def sweep_url(app_env, sweep_folder) -> Iterator[str]:
    """A server of its own: its History holds only this module's runs."""
    folder = sweep_folder
    env = {**app_env, "REELSCOPE_DATA_DIR": str(folder / "data")}
    with running_app(env, folder / "server.log") as url:
        yield url


def hostile(listener: Listener, where: str) -> str:
    """A Markdown answer built to make the browser fetch from the listener, in every way."""
    base = f"http://{listener.host}/{where}"
    return (
        f"Here is the chart: ![chart]({base}/md-image.png) and <img src='{base}/html-image.png'> "
        f"<script>fetch('{base}/script')</script> <iframe src='{base}/frame'></iframe> "
        f"[open](javascript:fetch('{base}/js-link')) :streamlit: :red[coloured] "
        f"<video src='{base}/video.mp4' autoplay></video> ![ref][r] $x$ costs $5\n\n"
        f"```mermaid\ngraph TD; A[{base}/mermaid]-->B\n```\n\n"
        f'<div style="background:url({base}/css.png)">styled</div>\n\n'
        f"[r]: {base}/ref-image.png\n\n{END}"
    )


def hostile_line(listener: Listener, where: str) -> str:
    """One line of the same, for titles, labels, names and units; its lone backtick would end
    a code span the page puts it in."""
    base = f"http://{listener.host}/{where}"
    return (
        f"tick` ![t]({base}/line-image.png) <img src={base}/line-html.png> "
        f"[j](javascript:fetch('{base}/line-js')) :streamlit: <b>bold</b>"
    )


@pytest.fixture
def tab(browser: Browser, sweep_url: str, listener: Listener, vertex) -> Iterator[Page]:
    """A fresh tab on the sweep's server; what it requests is kept on `page.requested`."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.requested = requested  # type: ignore[attr-defined]
    listener.paths.clear()
    page.goto(sweep_url)
    wait_idle(page)
    yield page
    context.close()


def assert_nothing_fetched(page: Page, app_url: str, listener: Listener, where: str) -> None:
    problems = fetched(page, app_url, listener, where)
    assert not problems, "\n".join(problems)


def fetched(page: Page, app_url: str, listener: Listener, where: str) -> list[str]:
    """What loads from the answer: elements, requests to the listener or to anywhere but the
    app. Forgets what it reported, so the next look at the page reports only what is new."""
    wait_idle(page)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)  # an image or a frame the page holds would have loaded by now
    screenshot(page, f"sweep-{where}")
    problems = page.evaluate(TRACES_JS, {"app": app_url, "listener": listener.host})
    problems += [f"the listener got {path}" for path in listener.paths]
    requested: list[str] = page.requested  # type: ignore[attr-defined]
    own = (app_url, "data:", "blob:")
    problems += [f"the browser asked {url}" for url in requested if not url.startswith(own)]
    listener.paths.clear()
    requested.clear()
    return [f"{where}: {problem}" for problem in dict.fromkeys(problems)]


def ask_run(page: Page, prompt: str) -> None:
    page.get_by_label("Prompt", exact=True).fill(prompt)
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator(".st-key-ask-answer")).to_contain_text(END, timeout=20_000)
    wait_idle(page)


def finishing_with(reason: str, text: str):
    """An emulator hook: the answer in three chunks, the last with this finish reason."""
    thirds = [text[: len(text) // 3], text[len(text) // 3 : 2 * len(text) // 3]]
    thirds.append(text[2 * len(text) // 3 :])

    def hook(request):
        if request.rpc != "streamGenerateContent":
            return None
        chunks = [
            {"candidates": [{"index": 0, "content": {"role": "model", "parts": [{"text": t}]}}]}
            for t in thirds
        ]
        chunks[-1]["candidates"][0]["finishReason"] = reason
        chunks[-1]["usageMetadata"] = {"promptTokenCount": 5, "candidatesTokenCount": 50}
        return chunks

    return hook


def test_ask_shows_a_hostile_answer_and_finish_reason_as_text(
    tab: Page, sweep_url, listener, vertex
):
    vertex.on_request(
        finishing_with(hostile_line(listener, "ask-reason"), hostile(listener, "ask"))
    )
    ask_run(tab, "Describe the video.")
    answer = tab.locator(".st-key-ask-answer")
    expect(answer).to_contain_text("Here is the chart: chart and <img src=")
    expect(tab.get_by_text("The model stopped with finish reason")).to_be_visible()
    assert_nothing_fetched(tab, sweep_url, listener, "ask")


def run_and_come_back(page: Page, vertex, button: str) -> None:
    """Press `button`; once its run has ended, visit Models and come back, as a user may: the
    page is drawn again from what the session keeps, and that is what is checked here."""
    sent = len(vertex.requests)
    page.get_by_role("button", name=button).click()
    deadline = time.monotonic() + 30
    while len(vertex.requests) == sent and time.monotonic() < deadline:
        time.sleep(0.05)  # the click's script run sends the request
    request = vertex.last_request("streamGenerateContent")
    assert request.answer.wait(timeout=30) and request.answer.how == "complete"
    wait_idle(page)
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_text("Models", exact=True).click()
    expect(page.get_by_role("heading", name="Models")).to_be_visible()
    wait_idle(page)
    nav.get_by_text("Chapters", exact=True).click()
    expect(page.get_by_role("heading", name="Chapters")).to_be_visible()
    wait_idle(page)


def test_chapters_show_hostile_titles_summaries_and_a_chart(
    tab: Page, sweep_url, listener, vertex, video_file
):
    """A chart (its quantity, unit and notes), then chapters: both on the timeline."""
    tab.goto(f"{sweep_url}/chapters")
    wait_idle(tab)
    tab.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(video_file))
    wait_idle(tab)

    chart_line = hostile_line(listener, "chapters-chart")
    series = {
        "quantity": chart_line,
        "unit": chart_line,
        "points": [{"time": "00:02", "value": 1, "note": chart_line},
                   {"time": "00:08", "value": 3, "note": END}],
    }  # fmt: skip
    vertex.set_reply(json.dumps(series), chunks=3)
    tab.get_by_label("Analysis").click()
    tab.get_by_role("option", name="Chart: people on screen").click()
    wait_idle(tab)
    run_and_come_back(tab, vertex, "Get chart: people on screen")
    expect(tab.get_by_text("Chart: tick` t <img src=")).to_be_visible()

    line = hostile_line(listener, "chapters-title")
    chapters = [
        {"start": "00:00", "end": "00:06", "title": line,
         "summary": hostile(listener, "chapters-summary"), "speech": line},
        {"start": "00:06", "end": "00:12", "title": f"Second {line}", "summary": END,
         "speech": ""},
    ]  # fmt: skip
    vertex.set_reply(json.dumps({"chapters": chapters}), chunks=4)
    tab.get_by_label("Analysis").click()
    tab.get_by_role("option", name="Chapters", exact=True).click()
    wait_idle(tab)
    run_and_come_back(tab, vertex, "Get chapters")
    expect(tab.locator(".rs-chapter")).to_have_count(2)
    expect(tab.get_by_text(END).first).to_be_visible()
    timeline = tab.locator('[class*="st-key-chapters-timeline"] .js-plotly-plot')
    expect(timeline.locator(".trace")).to_have_count(2)  # the chart's line and the chapters' bars
    texts = timeline.evaluate(CHART_TEXTS_JS)
    assert any("&lt;img src=" in text for text in texts), texts  # the hostile titles are there
    tags = [text for text in texts if re.search(r"<(?!br>)[a-z/]", text)]
    assert not tags, f"Plotly would read these as markup: {tags}"
    assert_nothing_fetched(tab, sweep_url, listener, "chapters")


def test_side_by_side_shows_hostile_answers_in_every_column(tab: Page, sweep_url, listener, vertex):
    reason = hostile_line(listener, "compare-finish-reason")
    vertex.on_request(finishing_with(reason, hostile(listener, "compare")))
    tab.goto(f"{sweep_url}/compare")
    wait_idle(tab)
    tab.get_by_label("Prompt", exact=True).fill("Describe the video.")
    tab.get_by_role("button", name="Run side by side").click()
    for index in range(3):
        answer = tab.locator(f".st-key-compare-answer-{index}")
        expect(answer).to_contain_text(END, timeout=30_000)
    assert_nothing_fetched(tab, sweep_url, listener, "compare")


def hostile_run_file(listener: Listener, folder: Path) -> Path:
    """An exported run whose model id, prompt, source and answer are hostile, to import."""
    label = hostile_line(listener, "history-source-label")
    uri = f"http://{listener.host}/history-source-uri/v.mp4"
    source = SourceRef("https", "video/mp4", label, uri=uri)
    model_id = hostile_line(listener, "history-model-id")
    spec = RunSpec(model_id, hostile(listener, "history-prompt"), GenerationParams(), (source,))
    events = [
        TextDelta(0.5, hostile(listener, "history-answer")),
        Finished(0.6, hostile_line(listener, "history-finish-reason")),
        Completed(0.7),
    ]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)  # listed first
    run = StoredRun(uuid.uuid4().hex, later, spec, events, "completed")
    path = folder / "hostile-run.json"
    path.write_text(export_json(run, "0.0.0"))
    return path


def pick_rows(page: Page, *rows: int) -> None:
    """Tick rows of the runs table, one after the other."""
    for row in rows:
        click_table_row(page, page.locator('[data-testid="stDataFrame"]').first, row)


def test_history_keeps_opens_and_compares_hostile_runs(
    tab: Page, sweep_url, listener, vertex, tmp_path
):
    vertex.set_reply(hostile(listener, "history-asked-answer"), chunks=3)
    ask_run(tab, f"Prompt {hostile_line(listener, 'history-asked-prompt')}")
    tab.goto(f"{sweep_url}/history")
    wait_idle(tab)
    tab.get_by_text("Import a run").click()
    tab.locator('[class*="st-key-history-import"] input[type="file"]').set_input_files(
        str(hostile_run_file(listener, tmp_path))
    )
    wait_idle(tab)
    tab.get_by_role("button", name="Import", exact=True).click()
    expect(tab.get_by_text("Imported 1 run, marked imported")).to_be_visible(timeout=15_000)

    pick_rows(tab, 0)  # the imported run: opened as it was shown
    view = tab.locator(".st-key-history-run")
    expect(view).to_contain_text(END, timeout=15_000)
    problems = fetched(tab, sweep_url, listener, "history, a run opened")

    pick_rows(tab, 1)  # and a run made here: the two compared
    expect(tab.get_by_text("What differs in the ask")).to_be_visible(timeout=15_000)
    problems += fetched(tab, sweep_url, listener, "history, two runs compared")
    assert not problems, "\n".join(problems)


def hostile_collection(listener: Listener, folder: Path) -> list[Path]:
    """An .npy of three vectors and its .json of rows: a text, a video and an image, each with
    a hostile label, source and link, in a collection with a hostile name."""

    def line(field: str) -> str:
        return hostile_line(listener, f"embeddings-{field}")

    rows = [
        {"kind": "text", "label": line("text-label"), "source": line("text-source"),
         "text": hostile(listener, "embeddings-text")},
        {"kind": "video", "label": line("video-label"), "source": f"{line('video-source')}.mp4",
         "uri": f"![u](http://{listener.host}/embeddings-video-uri/u.png)",
         "mime_type": "video/mp4", "start_s": 0.0, "end_s": 4.0},
        {"kind": "image", "label": line("image-label"), "source": f"{line('image-source')}.png",
         "uri": f"javascript:fetch('http://{listener.host}/embeddings-image-uri/js')",
         "mime_type": "image/png"},
    ]  # fmt: skip
    npy, labels = folder / "hostile.npy", folder / "hostile.json"
    np.save(npy, np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 1]], dtype=np.float32))
    labels.write_text(json.dumps({"name": f"Hostile {line('collection-name')}", "rows": rows}))
    return [npy, labels]


def test_embeddings_shows_a_hostile_imported_collection_as_text(
    tab: Page, sweep_url, listener, tmp_path
):
    tab.goto(f"{sweep_url}/embeddings")
    wait_idle(tab)
    tab.get_by_text("Import a file of vectors", exact=True).click()
    files = [str(path) for path in hostile_collection(listener, tmp_path)]
    tab.locator('[class*="st-key-emb-import-files"] input[type="file"]').set_input_files(files)
    wait_idle(tab)
    tab.get_by_role("button", name="Import", exact=True).click()
    plot = tab.locator(".st-key-emb-map .js-plotly-plot")
    expect(plot).to_be_visible(timeout=60_000)
    wait_idle(tab)

    tab.locator(".st-key-emb-map .js-plotly-plot").first.hover()  # the toolbar shows on hover
    tab.locator('.st-key-emb-map .modebar [data-title="Lasso Select"]').click()
    # Read where the points are once the hover has scrolled the map into view, not before.
    area = tab.wait_for_function(ALL_POINTS_JS, timeout=15_000).json_value()
    assert area["points"] == 3, area
    inside = [area["left"] < x < area["right"] and area["top"] < y < area["bottom"]
              for x, y in area["at"]]  # fmt: skip
    assert all(inside), area
    # A lasso around the whole plot: every point. Its corners are its only vertices, and it
    # starts on the top edge off any point's x: Plotly's polygon test can miss a point that
    # sits exactly under a vertex (PCA puts three points symmetric about the middle).
    start = (area["left"] + 0.37 * (area["right"] - area["left"]), area["top"])
    corners = [(area["right"], area["top"]), (area["right"], area["bottom"]),
               (area["left"], area["bottom"]), (area["left"], area["top"])]  # fmt: skip
    tab.mouse.move(*start)
    tab.mouse.down()
    for x, y in [*corners, start]:
        tab.mouse.move(x, y)
    tab.mouse.up()
    expect(tab.locator('[class*="st-key-emb-selection-row-"]')).to_have_count(3, timeout=15_000)
    texts = plot.evaluate(CHART_TEXTS_JS)
    tags = [text for text in texts if re.search(r"<(?!br>)[a-z/]", text)]
    assert not tags, f"Plotly would read these as markup: {tags}"
    assert_nothing_fetched(tab, sweep_url, listener, "embeddings")


def test_the_lab_shows_hostile_names_answers_reasons_and_errors_as_text(
    tab: Page, sweep_url, sweep_folder, listener
):
    """A kept lab whose name, video names, answer, finish reason and refusal are hostile."""
    spec = GridSpec(
        ("Describe {video}.",),
        (ModelColumn("gemini-3.5-flash", GenerationParams()),),
        (VideoRow("gs://library/a.mp4", hostile_line(listener, "lab-video")),
         VideoRow("gs://library/b.mp4", "b.mp4")),
        name=hostile_line(listener, "lab-name"),
    )  # fmt: skip
    events = [TextDelta(0.1, hostile(listener, "lab-answer")),
              Finished(0.1, hostile_line(listener, "lab-finish")), Completed(0.2)]  # fmt: skip
    run = StoredRun(uuid.uuid4().hex, dt.datetime.now(dt.UTC),
                    RunSpec("gemini-3.5-flash", "Describe a.mp4.", GenerationParams()), events,
                    "completed")  # fmt: skip
    store = open_store(sweep_folder / "data")
    try:
        store.labs.create("hostile-lab", owner=LOCAL_OWNER, name=spec.name, how="online",
                          spec=spec.to_record(),
                          cells=[("r0-v0-m0", None),
                                 ("r1-v0-m0", hostile_line(listener, "lab-refusal"))])  # fmt: skip
        store.runs.record_many([run], "test", "lab", LOCAL_OWNER)
        store.labs.set_runs("hostile-lab", {"r0-v0-m0": run.id})
    finally:
        store.close()
    tab.goto(f"{sweep_url}/lab")
    wait_idle(tab)
    expect(tab.get_by_text("2 cells")).to_be_visible(timeout=15_000)
    expect(tab.locator('[data-testid="stDataFrame"]')).to_have_count(2)
    assert_nothing_fetched(tab, sweep_url, listener, "lab")
