"""The Lab page in Chromium against the Vertex emulator and gcp-storage-emulator: a grid of
3 videos × 2 variants × 2 models streams online (a cell stopped, a failed one re-run), the same
grid goes as batch jobs that fill it, jobs are followed again after a server restart without
being submitted twice, and bad input is said clearly with nothing else lost.

The videos are objects under a prefix in the bucket, listed by the page: the emulators never
read a video's bytes, so a few bytes named *.mp4 do.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from reelscope.catalog import load_catalog
from reelscope.settings import Settings
from reelscope.vertex import make_storage_client
from tests.e2e.conftest import (
    OUTPUT_DIR,
    click_table_row,
    current,
    rerun_asked,
    running_app,
    screenshot,
    stop_leftover_work,
    wait_idle,
    wait_prefetched,
)
from tests.vertex_emulator import (
    GENERATION_RPCS,
    BatchPace,
    Fault,
    FaultKind,
    RecordedRequest,
    VertexEmulator,
)

pytestmark = pytest.mark.e2e

CATALOG = load_catalog()
# The page's default columns: the catalog's default model, then the next current one.
MODELS = tuple(
    dict.fromkeys(
        [CATALOG.default_model_id]
        + [m.id for m in CATALOG.models if m.is_callable(dt.date.today())]
    )
)[:2]
VIDEOS = ("beach.mp4", "dog.mp4", "kitchen.mp4")  # listed by name
PREFIX = "lab/videos/"
EMPTY_PREFIX = "lab/notes/"  # holds a file that is not a video
VARIANTS = ("Describe {video}.", "List the objects in {video}.")
POLL_S = "0.5"
BRISK = BatchPace(queued_s=0.5, pending_s=0.5, running_s=1.5)


@pytest.fixture(scope="module")
def bucket(storage_emulator: str) -> str:
    client = make_storage_client(Settings(storage_emulator_host=storage_emulator))
    made = client.create_bucket(f"lab-{uuid.uuid4().hex[:8]}")
    for name in VIDEOS:
        made.blob(PREFIX + name).upload_from_string(b"\0" * 16, content_type="video/mp4")
    made.blob(EMPTY_PREFIX + "readme.txt").upload_from_string(b"notes", content_type="text/plain")
    client.close()
    return made.name


@contextlib.contextmanager
def lab_app(app_env, storage_emulator: str, bucket: str, data_dir: Path, log: Path):
    env = {
        **app_env,
        "STORAGE_EMULATOR_HOST": storage_emulator,
        "REELSCOPE_BUCKET": bucket,
        "REELSCOPE_BATCH_POLL_S": POLL_S,
        "REELSCOPE_DATA_DIR": str(data_dir),
    }
    with running_app(env, log) as url:
        yield url


@pytest.fixture(scope="module")
def lab_url(app_env, storage_emulator, bucket, tmp_path_factory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("lab-data")
    log = tmp_path_factory.mktemp("streamlit") / "lab-server.log"
    with lab_app(app_env, storage_emulator, bucket, data, log) as url:
        yield url


@pytest.fixture
def lab_vertex(vertex: VertexEmulator, storage_emulator: str) -> VertexEmulator:
    """The emulator, its batch jobs reading and writing the storage emulator."""
    vertex.use_storage(storage_emulator)
    vertex.set_batch_pace(BRISK)
    return vertex


@contextlib.contextmanager
def lab_tab(browser: Browser, url: str, *, stop_leftovers: bool = True) -> Iterator[Page]:
    """A tab on /lab; after it, what it left going is stopped from the Running list, unless
    the server is about to be stopped under it."""
    context = browser.new_context(viewport={"width": 1920, "height": 1100})
    page = context.new_page()
    try:
        page.goto(f"{url}/lab")
        wait_prefetched(page)
        yield page
        if stop_leftovers:
            stop_leftover_work(page, url)
    finally:
        context.close()


@pytest.fixture
def lab(browser: Browser, lab_url: str, lab_vertex) -> Iterator[Page]:
    with lab_tab(browser, lab_url) as page:
        yield page


# --------------------------------------------------------------------------- the user's steps


def keyed(page: Page, key: str) -> Locator:
    """An element by its Streamlit key (the class the frontend makes of it)."""
    name = re.sub(r"[^a-zA-Z0-9_-]", "-", key)
    return page.locator(f'.st-key-{name}:not([data-stale="true"])')


def open_new_grid(page: Page) -> None:
    """The "New grid" section, opened (it starts closed once a lab is kept)."""
    heading = page.locator("summary", has_text="New grid")
    expect(heading).to_be_visible()
    wait_idle(page)
    if heading.locator("xpath=..").get_attribute("open") is None:
        heading.click()
    expect(page.get_by_label("Lab name")).to_be_visible()


def list_prefix(page: Page, uri: str) -> None:
    page.get_by_role("radio", name="Cloud Storage prefix").click()
    wait_idle(page)
    page.get_by_label("gs:// prefix").fill(uri)
    page.get_by_label("gs:// prefix").press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="List videos").click()
    wait_idle(page)


def write_variants(page: Page, variants: tuple[str, ...]) -> None:
    count = keyed(page, "lab.form.variant_count")
    count.get_by_role("radio", name=str(len(variants)), exact=True).click()
    wait_idle(page)
    for index, text in enumerate(variants):
        area = page.get_by_label(f"Variant {'ABCD'[index]}", exact=True)
        area.fill(text)
        area.press("Control+Enter")
        wait_idle(page)


def define_grid(page: Page, bucket: str, name: str, variants=VARIANTS) -> None:
    open_new_grid(page)
    page.get_by_label("Lab name").fill(name)
    page.get_by_label("Lab name").press("Enter")
    wait_idle(page)
    list_prefix(page, f"gs://{bucket}/{PREFIX}")
    expect(page.get_by_text(f"3 videos under gs://{bucket}/{PREFIX}")).to_be_visible()
    write_variants(page, variants)


def summary(page: Page) -> Locator:
    """The results' one-line count of cells by status."""
    return current(page).locator("p").filter(has_text=re.compile(r"^12 cells ·"))


GRID_ROWS_JS = """
    () => {
        const grid = document.querySelector('[data-testid="stDataFrame"]');
        return grid ? [...grid.querySelectorAll('tr')]
            .map(tr => [...tr.querySelectorAll('[role="gridcell"]')].map(c => c.innerText))
            .filter(cells => cells.length) : [];
    }
"""


def grid_rows(page: Page) -> list[list[str]]:
    """The results grid's rows as the browser shows them (the data grid's accessible table),
    once every row and column is in it (the data grid draws again after each script run)."""
    return page.wait_for_function(
        f"""() => {{
            const rows = ({GRID_ROWS_JS})();
            return rows.length === 3 && rows.every(cells => cells.length === 5) && rows;
        }}""",
        timeout=15_000,
    ).json_value()


def generations(vertex: VertexEmulator) -> list[RecordedRequest]:
    return [r for r in vertex.requests if r.model in MODELS and r.rpc in GENERATION_RPCS]


# --------------------------------------------------------------------------- online


WORDS = 12
TAGS = dict(zip(MODELS, "pq", strict=True))


def reply(model: str) -> str:
    """Each model its own words, short enough that the grid shows every column and a whole
    answer, so a cell shows whose answer it holds and how far it has come."""
    return " ".join(f"{TAGS[model]}{i}" for i in range(WORDS))


def cell_text(page: Page, row: int, variant: int, model: int) -> str:
    """One cell of the results grid (videos down; A·model 1, A·model 2, B·… across)."""
    return grid_rows(page)[row][1 + variant * 2 + model]


def wait_cell(page: Page, row: int, variant: int, model: int, pattern: str) -> str:
    """Until that cell of the grid shows text matching `pattern` (a regex); its text."""
    return page.wait_for_function(
        f"""([row, column, pattern]) => {{
            const rows = ({GRID_ROWS_JS})();
            const text = rows.length === 3 && rows[row].length === 5 && rows[row][column];
            return text && new RegExp(pattern).test(text) && text;
        }}""",
        arg=[row, 1 + variant * 2 + model, pattern],
        timeout=30_000,
    ).json_value()


def fail_once(model: str, prompt: str, message: str):
    """A hook: the first request of one cell (its model and prompt) answers HTTP 400."""
    failed: list[RecordedRequest] = []

    def hook(request: RecordedRequest):
        if failed or request.model != model or prompt not in request.texts:
            return None
        failed.append(request)
        return Fault(FaultKind.ERROR, status=400, message=message)

    return hook


def pick_table_row(page: Page, row: int) -> None:
    """Tick a row's box in the table of cells."""
    click_table_row(page, page.locator('[data-testid="stDataFrame"]').nth(1), row)


def prompts_sent(vertex: VertexEmulator) -> list[tuple[str, str]]:
    return sorted((r.model, " ".join(r.texts)) for r in generations(vertex))


def test_a_grid_streams_online_a_cell_stops_and_a_failed_one_runs_again(
    lab: Page, lab_vertex: VertexEmulator, bucket: str
):
    page = lab
    for index, model in enumerate(MODELS):  # about 12 s a cell, at slightly different paces
        lab_vertex.set_model_reply(model, reply(model), chunks=WORDS,
                                   chunk_delay=1.0 + 0.05 * index)  # fmt: skip
    refused = "The video could not be processed."
    lab_vertex.on_request(fail_once(MODELS[1], "List the objects in kitchen.mp4.", refused))
    define_grid(page, bucket, "Online grid")
    keyed(page, "lab.run").get_by_role("button").click()

    # every cell streams at once: the first has begun, the failed one says why
    expect(summary(page)).to_contain_text("11 running", timeout=15_000)
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stDataFrame"] [role="gridcell"]')]
                 .filter(c => /^running: [pq]0 [pq]1/.test(c.innerText)).length === 11""",
        timeout=15_000,
    )
    assert cell_text(page, 2, 1, 1) == f"failed: Vertex AI refused the request: {refused}"
    before = [len(text) for cells in grid_rows(page) for text in cells[1:]]

    pick_table_row(page, 0)  # beach.mp4 · A · the first model
    stop = page.get_by_role("button", name="Stop selected (1)")
    expect(stop).to_be_enabled()
    stop.click()
    expect(summary(page)).to_contain_text("1 stopped", timeout=10_000)
    stopped_at = wait_cell(page, 0, 0, 0, "^stopped: p0 p1")
    going = page.wait_for_function(  # the others go on: each of them grows
        f"""before => {{
            const rows = ({GRID_ROWS_JS})();
            const now = rows.flatMap(cells => cells.slice(1));
            return now.length === 12 && now.every((text, i) =>
                i === 0 || i === 11 || text.length > before[i]) && rows;
        }}""",
        arg=before,
        timeout=15_000,
    ).json_value()
    assert going[0][1] == stopped_at, "nothing more arrives in the stopped cell"

    expect(summary(page)).to_contain_text("10 completed · 1 failed · 1 stopped", timeout=30_000)
    wait_cell(page, 2, 1, 0, "^completed")
    assert cell_text(page, 0, 0, 0) == stopped_at, "nothing more arrives in the stopped cell"
    # The grid is a canvas whose accessible cells follow its data a moment after the summary
    # line above it: wait for each cell's final text rather than read it once.
    for row, variant, model in ((0, 1, 0), (1, 0, 1), (2, 1, 0)):
        whole = f"completed: {reply(MODELS[model])}"
        assert wait_cell(page, row, variant, model, f"^{re.escape(whole)}$") == whole
    first = {(r.model, " ".join(r.texts)): r for r in generations(lab_vertex)}
    stopped = first[MODELS[0], "Describe beach.mp4."]
    assert stopped.answer.wait(5) and stopped.answer.how == "client_closed"
    screenshot(page, "lab-online-one-stopped-one-failed")

    rerun = page.get_by_role("button", name="Re-run failed (2)")  # the failed and the stopped
    expect(rerun).to_be_enabled()
    rerun.click()
    expect(summary(page)).to_contain_text("12 completed", timeout=30_000)
    assert wait_cell(page, 2, 1, 1, "^completed") == f"completed: {reply(MODELS[1])}"
    assert wait_cell(page, 0, 0, 0, "^completed") == f"completed: {reply(MODELS[0])}"
    sent = prompts_sent(lab_vertex)
    assert len(sent) == 14, sent  # twelve cells, and the two sent again
    assert sent.count((MODELS[1], "List the objects in kitchen.mp4.")) == 2
    assert sent.count((MODELS[0], "Describe beach.mp4.")) == 2
    wait_idle(page)
    save_filled_grid(page)

    # the ended grid's view takes clicks as the running one did (the same fragment): the cell
    # picked to stop (beach.mp4 · A · the first model), still picked, opens in History
    expect(page.get_by_role("button", name="Re-run selected (1)")).to_be_enabled()
    wait_idle(page)
    page.get_by_role("button", name="Open in History").click()
    expect(page).to_have_url(re.compile(r"/history"))
    expect(page.get_by_role("button", name="Replay", exact=True)).to_be_visible()  # one run open
    expect(page.get_by_text(reply(MODELS[0]), exact=True)).to_be_visible()


def save_filled_grid(page: Page) -> None:
    """The results grid and its table, for the README (docs/lab.png is one of these)."""
    table = page.locator('[data-testid="stDataFrame"]').nth(1)
    table.scroll_into_view_if_needed()
    page.mouse.move(0, 0)  # no tooltip over the picture
    top, bottom = summary(page).bounding_box(), table.bounding_box()
    assert top is not None and bottom is not None
    OUTPUT_DIR.mkdir(exist_ok=True)
    clip = {"x": bottom["x"] - 16, "y": top["y"] - 16, "width": bottom["width"] + 32,
            "height": bottom["y"] + bottom["height"] - top["y"] + 32}  # fmt: skip
    page.screenshot(path=str(OUTPUT_DIR / "lab.png"), clip=clip)


# --------------------------------------------------------------------------- batch jobs


def creates(vertex: VertexEmulator) -> list[str]:
    """The model of each batch job created, as the emulator received them."""
    return sorted(
        r.body["model"].rsplit("/", 1)[-1]
        for r in vertex.requests
        if r.rpc == "batchPredictionJobs.create"
    )


def job_lines(page: Page, state: str) -> Locator:
    """The Jobs view's lines of jobs in `state` ("queued", "running", "succeeded", …)."""
    return current(page).locator("p").filter(has_text=re.compile(rf"^gemini\S+ · {state}\b"))


def set_replies(vertex: VertexEmulator) -> None:
    for model in MODELS:
        vertex.set_model_reply(model, reply(model), chunks=3)


def expect_filled_by_batch(page: Page) -> None:
    expect(job_lines(page, "succeeded")).to_have_count(2, timeout=30_000)
    expect(job_lines(page, "succeeded").first).to_contain_text("6 done, 0 failed")
    expect(job_lines(page, "succeeded").first).to_contain_text("results read in")
    expect(summary(page)).to_contain_text("12 cells · 12 completed", timeout=15_000)
    for row in range(3):
        for variant in range(2):
            for model in range(2):
                text = wait_cell(page, row, variant, model, "^completed")
                assert text == f"completed: {reply(MODELS[model])}"


def test_the_same_grid_as_batch_jobs_runs_to_succeeded_and_fills_the_grid(
    lab: Page, lab_vertex: VertexEmulator, bucket: str
):
    page = lab
    set_replies(lab_vertex)
    define_grid(page, bucket, "Batch grid")
    keyed(page, "lab.batch").get_by_role("button").click()

    expect(job_lines(page, r"(queued|pending|running|succeeded)")).to_have_count(2, timeout=15_000)
    expect_filled_by_batch(page)
    assert creates(lab_vertex) == sorted(MODELS)  # one job a model
    assert generations(lab_vertex) == []  # nothing went online
    wait_idle(page)


def test_a_server_restart_mid_job_follows_the_jobs_again_and_submits_nothing_twice(
    browser: Browser, app_env, storage_emulator, bucket, lab_vertex, tmp_path_factory
):
    set_replies(lab_vertex)
    lab_vertex.set_batch_pace(BatchPace(queued_s=1, pending_s=1, running_s=12))
    data = tmp_path_factory.mktemp("lab-restart-data")
    logs = tmp_path_factory.mktemp("streamlit")

    app = lab_app(app_env, storage_emulator, bucket, data, logs / "before.log")
    with app as url, lab_tab(browser, url, stop_leftovers=False) as page:
        define_grid(page, bucket, "Restarted")
        keyed(page, "lab.batch").get_by_role("button").click()
        expect(job_lines(page, r"(queued|pending|running)")).to_have_count(2, timeout=15_000)
        wait_idle(page)
    assert creates(lab_vertex) == sorted(MODELS)

    app = lab_app(app_env, storage_emulator, bucket, data, logs / "after.log")
    with app as url, lab_tab(browser, url) as page:
        # followed again: the page shows the jobs moving on, then their results
        expect(job_lines(page, r"(pending|running)")).to_have_count(2, timeout=15_000)
        expect_filled_by_batch(page)
    assert creates(lab_vertex) == sorted(MODELS)  # nothing submitted again
    assert not [r for r in lab_vertex.requests if r.rpc == "batchPredictionJobs.cancel"]


# --------------------------------------------------------------------------- bad input


def alert(page: Page, text: str) -> Locator:
    return current(page).get_by_role("alert").filter(has_text=text)


def choose_retired_model(page: Page, column: int, name: str) -> None:
    """Column `column`'s model, picked among the retired ones the page can show."""
    heading = page.locator("summary", has_text=f"Model {column + 1}:")
    heading.click()
    section = heading.locator("xpath=..")
    with rerun_asked(page, "Show retired models"):  # the run that adds them to the list
        section.get_by_text("Show retired models").click()
    expect(section.get_by_role("switch", name="Show retired models")).to_be_checked()
    picker = keyed(page, f"lab.form.model.{column}.model").get_by_role("combobox")
    picker.click()
    with rerun_asked(page, f"picking {name}"):
        page.get_by_role("option", name=re.compile(rf"^{re.escape(name)}\b(?!-)")).first.click()
    expect(picker).to_have_value(re.compile(rf"^{re.escape(name)}\b(?!-)"))


def test_bad_input_is_said_clearly_and_loses_nothing(
    lab: Page, lab_vertex: VertexEmulator, bucket: str
):
    page = lab
    open_new_grid(page)
    page.get_by_label("Lab name").fill("Bad input")
    page.get_by_label("Lab name").press("Enter")
    write_variants(page, ("For {audience}: describe {video}.", VARIANTS[1]))
    run = keyed(page, "lab.run").get_by_role("button")

    missing = f"no-such-bucket-{uuid.uuid4().hex[:6]}"
    list_prefix(page, f"gs://{missing}/videos/")
    expect(alert(page, f"gs://{missing}/videos/ does not exist")).to_be_visible()
    expect(alert(page, f"gcloud storage ls gs://{missing}/videos/")).to_be_visible()

    page.get_by_label("gs:// prefix").fill(f"gs://{bucket}/{EMPTY_PREFIX}")
    page.get_by_role("button", name="List videos").click()
    wait_idle(page)
    no_videos = f"There are no videos under gs://{bucket}/{EMPTY_PREFIX} (1 other files)"
    expect(alert(page, no_videos)).to_be_visible()
    expect(alert(page, "does not exist")).to_have_count(0)

    page.get_by_label("gs:// prefix").fill(f"gs://{bucket}/{PREFIX}")
    page.get_by_role("button", name="List videos").click()
    wait_idle(page)
    expect(page.get_by_text(f"3 videos under gs://{bucket}/{PREFIX}")).to_be_visible()
    # what the user wrote before is all still there
    expect(page.get_by_label("Lab name")).to_have_value("Bad input")
    expect(page.get_by_label("Variant A", exact=True)).to_have_value(
        "For {audience}: describe {video}."
    )
    expect(page.get_by_label("Variant B", exact=True)).to_have_value(VARIANTS[1])

    expect(alert(page, "Fill in {audience}: every cell's prompt uses it.")).to_be_visible()
    expect(run).to_be_disabled()
    page.get_by_label("{audience}").fill("kids")
    page.get_by_label("{audience}").press("Enter")
    wait_idle(page)
    expect(alert(page, "Fill in {audience}")).to_have_count(0)
    expect(run).to_be_enabled()

    choose_retired_model(page, 1, "Gemini 2.5 Flash")
    expect(alert(page, "6 cells cannot be sent as they are")).to_be_visible()
    expect(
        page.get_by_text("Gemini 2.5 Flash is retired: pick a current model. (beach.mp4 · A")
    ).to_be_visible()
    expect(run).to_be_disabled()
    page.get_by_text("Leave these 6 cells out and send the other 6").click()
    wait_idle(page)
    expect(run).to_be_enabled()
    expect(
        page.get_by_text("12 cells: 3 videos × 2 variants × 2 models · 6 to send")
    ).to_be_visible()
    expect(page.get_by_label("{audience}")).to_have_value("kids")
    assert generations(lab_vertex) == [] and creates(lab_vertex) == []  # nothing was sent


def break_a_results_line(vertex: VertexEmulator, files, model: str, line: int):
    """A hook: when `model`'s job is seen ended, line `line` (0-based) of its predictions.jsonl
    gets a response that cannot be read, before anyone is told the job has ended."""
    broken: list[str] = []

    def hook(request: RecordedRequest):
        if broken or request.rpc != "batchPredictionJobs.get":
            return None
        job = vertex.batch_job(request.path.rsplit("/", 1)[-1])
        folder = job.get("outputInfo", {}).get("gcsOutputDirectory")
        if not folder or not job["model"].endswith(f"/{model}"):
            return None
        bucket_name, _, prefix = folder.removeprefix("gs://").partition("/")
        blob = files.bucket(bucket_name).blob(f"{prefix}/predictions.jsonl")
        lines = blob.download_as_text().splitlines()
        record = json.loads(lines[line])
        record["response"] = {"candidates": "not a list of candidates"}
        lines[line] = json.dumps(record)
        blob.upload_from_string("\n".join(lines) + "\n", content_type="application/octet-stream")
        broken.append(blob.name)
        return job  # the job as it was looked at: ended, its results as they are now

    return hook, broken


def test_a_malformed_results_line_fails_its_cell_only_with_its_reason(
    lab: Page, lab_vertex: VertexEmulator, bucket: str, storage_emulator: str
):
    page = lab
    set_replies(lab_vertex)
    files = make_storage_client(Settings(storage_emulator_host=storage_emulator))
    hook, broken = break_a_results_line(lab_vertex, files, MODELS[1], line=1)
    lab_vertex.on_request(hook)
    try:
        submit_and_check_one_malformed(page, bucket, broken)
    finally:
        files.close()


def submit_and_check_one_malformed(page: Page, bucket: str, broken: list[str]) -> None:
    define_grid(page, bucket, "Malformed")
    keyed(page, "lab.batch").get_by_role("button").click()

    expect(job_lines(page, "succeeded")).to_have_count(2, timeout=30_000)
    expect(summary(page)).to_contain_text("12 cells · 11 completed · 1 failed", timeout=15_000)
    assert len(broken) == 1
    # line 2 of the second model's job is beach.mp4 · B
    text = wait_cell(page, 0, 1, 1, "^failed")
    assert text == (
        "failed: The batch job could not answer this cell (MALFORMED): Line 2 of "
        "predictions.jsonl has a response that cannot be read (1 problem); its row has no answer."
    ), text
    assert wait_cell(page, 0, 1, 0, "^completed") == f"completed: {reply(MODELS[0])}"
    assert wait_cell(page, 1, 1, 1, "^completed") == f"completed: {reply(MODELS[1])}"
    wait_idle(page)
