"""History in a real browser: a run made on Ask is listed, opened and replayed, also after the
server restarts over the same data folder (the run was kept on disk, not in the process)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import running_app, screenshot, wait_idle

pytestmark = pytest.mark.e2e

REPLY = " ".join(f"kept{i:03d}" for i in range(40))
PROMPT = "Which scenes are red?"
HEADER_PX, ROW_PX = 35, 35  # st.dataframe's default header and row heights


def pick_first_row(page: Page) -> None:
    """Tick the first row's selection box (the grid is a canvas: click where the box is)."""
    grid = page.locator('[data-testid="stDataFrame"]').first
    expect(grid).to_be_visible(timeout=15_000)
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 18, box["y"] + HEADER_PX + ROW_PX / 2)
    wait_idle(page)


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
