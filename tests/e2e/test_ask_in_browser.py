"""A person's path through the Ask page, in a real browser against the running app."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import running_app, screenshot, wait_idle

pytestmark = pytest.mark.e2e

WORDS = [f"word{i:03d}" for i in range(200)]
LONG_REPLY = " ".join(WORDS)


def answer_text(page: Page) -> str:
    return page.locator(".st-key-ask-answer").inner_text().replace("▌", "").strip()


def upload_and_ask(page: Page, video_path, prompt: str) -> None:
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(video_path))
    expect(page.locator("video")).to_have_count(1, timeout=15_000)
    wait_idle(page)
    page.get_by_label("Prompt").fill(prompt)
    page.get_by_role("button", name="Run", exact=True).click()


def test_streamed_answer_grows_and_stop_keeps_the_partial_text(page: Page, vertex, video_file):
    vertex.set_reply(LONG_REPLY, chunks=200, chunk_delay=0.04)  # about 8 s in all
    upload_and_ask(page, video_file, "List what you see.")

    expect(page.locator(".st-key-ask-answer")).to_contain_text("word005", timeout=15_000)
    first = len(answer_text(page))
    page.wait_for_timeout(600)
    second = len(answer_text(page))
    assert second > first > 0, "the answer should grow while it streams"

    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_text("Stopped. The answer above is partial.")).to_be_visible(timeout=10_000)
    wait_idle(page)
    kept = answer_text(page)
    screenshot(page, "ask-stopped")

    assert kept and LONG_REPLY.startswith(kept)
    assert len(kept) < len(LONG_REPLY), "Stop should end the stream before the last word"
    request = vertex.last_request("streamGenerateContent")
    assert request.parts[0]["inlineData"]["mimeType"] == "video/mp4"
    assert request.parts[-1]["text"] == "List what you see."
    page.wait_for_timeout(500)
    assert answer_text(page) == kept, "nothing more arrives after Stop"


def test_complete_answer_shows_usage_and_timings(page: Page, vertex, video_file):
    reply = "Red, then green, then blue."
    vertex.set_reply(reply, chunks=3, chunk_delay=0.05)
    upload_and_ask(page, video_file, "Which colours?")
    expect(page.locator(".st-key-ask-answer")).to_have_text(reply, timeout=15_000)
    wait_idle(page)
    metrics = page.locator('[data-testid="stMetric"]')
    expect(metrics.filter(has_text="Finish")).to_contain_text("STOP")
    expect(metrics.filter(has_text="Time to first token")).to_contain_text(
        re.compile(r"\d\.\d\d s")
    )
    screenshot(page, "ask-complete")


def test_a_deep_link_on_a_fresh_server_opens_inside_the_app(browser, app_env, tmp_path):
    # The first script run of a server is the one Streamlit may run in its legacy mode.
    with running_app(app_env, tmp_path / "server.log") as url:
        page = browser.new_page()
        page.goto(f"{url}/models")
        wait_idle(page)
        expect(page.get_by_role("heading", name="Models")).to_be_visible()
        expect(page.get_by_test_id("stSidebar")).to_contain_text("Connection")
        expect(page.get_by_test_id("stSidebarNav")).to_contain_text("Ask")
        expect(page.get_by_text("Page not found")).to_have_count(0)
        page.close()
