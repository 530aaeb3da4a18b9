"""History in a real browser: a run made on Ask is listed, opened and replayed, also after the
server restarts over the same data folder (the run was kept on disk, not in the process);
deletes and undos in the reported order lose no run; hostile answers compare as text."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect
from streamlit.proto.BackMsg_pb2 import BackMsg

from components.common import prefetch
from reelscope.database import SharedDatabase, sqlite_url
from reelscope.store import SCHEMA, STORE_FILENAME
from reelscope.store.runs import RunRepo
from tests.app.test_history_page import seed
from tests.e2e.conftest import click_table_row, running_app, screenshot, wait_idle

pytestmark = pytest.mark.e2e

REPLY = " ".join(f"kept{i:03d}" for i in range(40))
PROMPT = "Which scenes are red?"


def pick_first_row(page: Page) -> None:
    pick_row(page, 0)


def pick_row(page: Page, row: int) -> None:
    """Tick or untick a row of the runs table."""
    click_table_row(page, page.locator('[data-testid="stDataFrame"]').first, row)


def open_and_replay(page: Page, url: str, vertex) -> None:
    page.goto(f"{url}/history")
    wait_idle(page)
    grid = page.locator('[data-testid="stDataFrame"]').first
    expect(grid).to_be_visible(timeout=15_000)
    expect(page.get_by_text("Runs 1–1 of 1")).to_be_visible()
    pick_first_row(page)
    view = page.locator(".st-key-history-run")
    expect(view).to_contain_text("kept039", timeout=15_000)  # the answer as it was shown
    sent = len(vertex.requests)

    page.get_by_role("button", name="Replay", exact=True).click()
    expect(page.get_by_text("Replay of a run from")).to_be_visible(timeout=15_000)
    expect(page.get_by_text("Nothing is sent to Vertex AI")).to_be_visible()
    expect(view).to_contain_text("kept039", timeout=20_000)
    wait_idle(page)
    assert len(vertex.requests) == sent, "a replay must not call Vertex AI"


def test_a_run_is_kept_opened_and_replayed_across_a_server_restart(
    browser: Browser, vertex, app_env, tmp_path
):
    vertex.set_reply(REPLY, chunks=20, chunk_delay=0.03)
    env = {**app_env, "REELSCOPE_DATA_DIR": str(tmp_path / "data")}

    with running_app(env, tmp_path / "first.log") as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(url)
        wait_idle(page)
        page.get_by_label("Prompt", exact=True).fill(PROMPT)
        page.get_by_role("button", name="Run", exact=True).click()
        expect(page.locator(".st-key-ask-answer")).to_contain_text("kept039", timeout=20_000)
        wait_idle(page)
        open_and_replay(page, url, vertex)
        screenshot(page, "history")
        context.close()

    with running_app(env, tmp_path / "second.log") as url:  # the same folder, a new process
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        open_and_replay(page, url, vertex)
        context.close()
    assert len([r for r in vertex.requests if r.rpc == "streamGenerateContent"]) == 1


def test_the_ask_page_fetches_the_history_tables_code_before_history_is_opened(page: Page):
    # The browser's view of it: Streamlit's frontend loads each element's code from a file named
    # after the element (the product never names them). What History draws first:
    modules = [
        f"/static/js/{name}."
        for name in ("DataFrame", "Multiselect", "DateInput", "ReorderedSegments")
    ]
    page.wait_for_function(
        """(modules) => {
            const seen = performance.getEntriesByType("resource").map((e) => e.name);
            return modules.every((m) => seen.some((url) => url.includes(m)));
        }""",
        arg=modules,
        timeout=10_000,
    )
    assert "/history" not in page.url
    expect(page.locator(".st-key-reelscope-prefetch")).to_be_hidden()  # it shows nothing


def test_the_prefetcher_sends_no_widget_event_and_its_timer_stops(browser: Browser, app_url: str):
    # A widget event from a fragment, flushed in the same instant as a user's click, took the
    # click with it into a rerun of that fragment alone (Streamlit's frontend keeps the first
    # fragment id of a batch): the click was lost. The prefetcher must only use its timer.
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    sent: list[BackMsg] = []

    def record(payload: bytes | str) -> None:
        if isinstance(payload, bytes):
            message = BackMsg()
            message.ParseFromString(payload)
            if message.WhichOneof("type") == "rerun_script":
                sent.append(message)

    page.on("websocket", lambda socket: socket.on("framesent", record))
    try:
        page.goto(app_url)
        container = page.locator(".st-key-reelscope-prefetch")
        expect(container.get_by_test_id("stDataFrame")).to_be_attached(timeout=15_000)
        expect(container).to_have_count(0, timeout=15_000)  # its second tick reran the app
        wait_idle(page)
        reruns = len(sent)
        page.wait_for_timeout(2 * prefetch.AFTER_S * 1000)
        assert len(sent) == reruns, "the timer should have stopped with the app's rerun"
        from_fragments = [m.rerun_script for m in sent if m.rerun_script.fragment_id]
        assert from_fragments, "the elements are drawn by the fragment's timer"
        assert all(state.is_auto_rerun for state in from_fragments)
        assert len(from_fragments) == 2  # one tick draws, the next stops it
    finally:
        context.close()


def kept_runs(data_dir) -> dict[str, bool]:
    """Run id -> deleted, read from the file as it is (a Store would purge deleted runs)."""
    database = SharedDatabase(sqlite_url(data_dir / STORE_FILENAME), SCHEMA)
    try:
        rows = database.fetchall("SELECT id FROM runs")
        return {row[0]: RunRepo(database).get(row[0]).deleted for row in rows}
    finally:
        database.close()


def button(page: Page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def test_the_reported_delete_and_undo_sequence_loses_no_run(browser: Browser, app_env, tmp_path):
    data = tmp_path / "data"
    older, newer = seed(data, [("the first run", "answer one"), ("the second run", "answer two")])
    with running_app({**app_env, "REELSCOPE_DATA_DIR": str(data)}, tmp_path / "app.log") as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(f"{url}/history")
        wait_idle(page)
        expect(page.get_by_text("Runs 1–2 of 2")).to_be_visible(timeout=15_000)

        pick_row(page, 0)  # newest first: "the second run"
        expect(page.locator("blockquote")).to_contain_text("the second run")
        button(page, "Delete").click()
        wait_idle(page)
        expect(page.get_by_text("Deleted the run “the second run”")).to_be_visible()
        expect(page.get_by_text("Runs 1–1 of 1")).to_be_visible()
        expect(button(page, "Delete")).to_have_count(0)  # the next run was not picked for it

        pick_row(page, 0)
        button(page, "Delete").click()
        wait_idle(page)
        expect(page.get_by_text("No runs yet")).to_be_visible()
        expect(page.get_by_text("Deleted 2 runs in 2 steps")).to_be_visible()
        assert kept_runs(data) == {older: True, newer: True}

        button(page, "Undo").click()  # the table had gone: both deletes are still undoable
        wait_idle(page)
        expect(page.get_by_text("Runs 1–1 of 1")).to_be_visible()
        expect(page.get_by_text("Deleted the run “the second run”")).to_be_visible()
        expect(page.locator("blockquote")).to_contain_text("the first run")  # back, and open
        button(page, "Undo").click()
        wait_idle(page)
        expect(page.get_by_text("Runs 1–2 of 2")).to_be_visible()
        expect(button(page, "Undo")).to_have_count(0)
        assert kept_runs(data) == {older: False, newer: False}
        expect(page.locator("blockquote")).to_contain_text("the second run")  # back, and open
        screenshot(page, "history-undo")  # its row is ticked in the table

        # and the first run with it. (Not row 0 again: Streamlit 1.67's grid ignores the first
        # click on a row the app ticked, so a click there would leave both picked here too.)
        pick_row(page, 1)
        button(page, "Delete both").click()
        wait_idle(page)
        expect(page.get_by_text("No runs yet")).to_be_visible()
        page.get_by_role("link", name="Models").click()
        wait_idle(page)
        expect(page.get_by_role("heading", name="Models")).to_be_visible()
        page.get_by_role("link", name="History").click()
        wait_idle(page)
        expect(page.get_by_text("No runs yet")).to_be_visible()
        expect(page.get_by_text("Deleted")).to_have_count(0)
        assert kept_runs(data) == {}, "deleted, then the page was left: purged"
        context.close()


HOSTILE = '![x](http://127.0.0.1:9/leak.png) <img src="http://127.0.0.1:9/i"> ] [ :red[alarm]'


def test_two_hostile_answers_compare_as_text_with_their_differences_marked(
    browser: Browser, app_env, tmp_path
):
    data = tmp_path / "data"
    seed(
        data,
        [("left", f"Same {HOSTILE} ] gone [x]: end"), ("right", f"Same {HOSTILE} :green[new] end")],
    )
    with running_app({**app_env, "REELSCOPE_DATA_DIR": str(data)}, tmp_path / "app.log") as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(f"{url}/history")
        wait_idle(page)
        pick_row(page, 0)
        pick_row(page, 1)
        expect(page.get_by_text("What differs in the ask")).to_be_visible()
        columns = [page.locator(f".st-key-history-compare-run{n}") for n in (1, 2)]
        for column in columns:
            expect(column).to_contain_text("Same")
            shown = column.evaluate("e => e.innerText.replaceAll('\\u2060', '')")
            assert HOSTILE in shown, shown  # every character as written (joiners are invisible)
            assert column.locator("img, script, iframe, video, audio, object").count() == 0
            # GFM shows a bare URL as a link (fetched only if clicked): never one in disguise.
            links = column.locator("a").evaluate_all("(a) => a.map((l) => [l.href, l.textContent])")
            assert all(href == text for href, text in links), links
        expect(columns[0].locator("del")).to_have_text(":green[new]")  # run 1 lacks it
        expect(columns[1].locator("del")).to_have_count(0)
        screenshot(page, "history-compare-hostile")
        context.close()
