"""What outlives a tab: runs going on after a reload, and media kept for every page.

- A run started on Ask keeps streaming when the tab is reloaded; the reloaded tab lists it in
  the sidebar's Running list at once, Stop there closes its stream, Open takes it back to Ask.
- A video uploaded on Ask is offered on Chapters from the library (no second upload), and the
  Library page says where it was used.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import current, wait_idle

pytestmark = pytest.mark.e2e

LONG_REPLY = " ".join(f"word{i:03d}" for i in range(200))


def running_list(page: Page):
    return page.locator('[class*="st-key-running-"]')


def test_a_reloaded_tab_finds_its_run_in_the_running_list_stops_and_opens_it(page: Page, vertex):
    vertex.set_reply(LONG_REPLY, chunks=200, chunk_delay=0.05)  # about 10 s
    page.get_by_label("Prompt", exact=True).fill("Count slowly.")
    current(page).get_by_role("button", name="Run", exact=True).click()
    expect(page.locator(".st-key-ask-answer")).to_contain_text("word005", timeout=15_000)

    page.reload()  # a new session: the old one's state is gone, the run is not
    sidebar = page.get_by_test_id("stSidebarUserContent")
    expect(sidebar.get_by_text("Running · 1")).to_be_visible(timeout=15_000)
    expect(sidebar).to_contain_text("Count slowly.")
    expect(sidebar.get_by_role("button", name="Open")).to_be_visible()
    assert vertex.last_request().answer.how == "pending", "still streaming after the reload"

    sidebar.get_by_role("button", name="Open").click()
    expect(page.locator(".st-key-ask-answer")).to_contain_text("word0", timeout=15_000)
    sidebar.get_by_role("button", name="Stop").click()
    expect(page.get_by_text("Stopped by you.")).to_be_visible(timeout=10_000)
    request = vertex.last_request()
    assert request.answer.wait(2.0) and request.answer.how == "client_closed"
    expect(sidebar.get_by_text("Running · 1")).to_have_count(0)
    assert len(vertex.requests) == 1


def test_an_upload_on_ask_is_offered_on_chapters_and_listed_with_its_uses(
    page: Page, app_url, vertex, video_file
):
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(video_file))
    expect(page.locator("video")).to_have_count(1, timeout=15_000)
    page.get_by_label("Prompt", exact=True).fill("What is in it?")
    current(page).get_by_role("button", name="Run", exact=True).click()
    expect(page.locator(".st-key-ask-answer")).to_contain_text("The video shows", timeout=15_000)
    wait_idle(page)

    page.goto(f"{app_url}/chapters")
    wait_idle(page)
    page.get_by_role("tab", name="Library").click()
    page.get_by_label("From your library").click()
    page.get_by_role("option", name=video_file.name, exact=False).first.click()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Add from library").click()
    wait_idle(page)
    expect(page.locator(".rs-player video")).to_have_count(1, timeout=15_000)
    expect(current(page).get_by_role("button", name="Get chapters")).to_be_enabled()

    page.goto(f"{app_url}/library")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Library")).to_be_visible()
    grid = page.locator(".st-key-library-table")
    expect(grid).to_contain_text(video_file.name)
    expect(grid).to_contain_text("1 run")
