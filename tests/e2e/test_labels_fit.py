"""Labels are read whole: no metric on the Ask page's cards and no run button on Chapters is cut
to "Estimated to…" or "Get chapt…", in a wide and a narrower window."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import wait_idle

pytestmark = pytest.mark.e2e

# Text inside `scope` that its box cuts with an ellipsis (wider than the room it is given).
CUT = """(scope) => [...scope.querySelectorAll('*')]
  .filter((el) => getComputedStyle(el).textOverflow === 'ellipsis'
                  && el.scrollWidth > el.clientWidth + 1)
  .map((el) => el.textContent.trim())"""


def cut_texts(page: Page, selector: str) -> list[str]:
    scope = page.locator(selector)
    expect(scope).to_be_visible()
    return scope.evaluate(CUT)


def cut_metrics(page: Page, selector: str) -> list[str]:
    """What the card at `selector` cuts, once its four metrics are drawn (a metric's code loads
    after the script run: before that the card holds placeholders, which cut nothing)."""
    expect(page.locator(f"{selector} [data-testid='stMetricValue']")).to_have_count(4)
    return cut_texts(page, selector)


@pytest.fixture(params=[1400, 1100], ids=lambda width: f"{width}px")
def window(request, browser: Browser, app_url: str, vertex):
    context = browser.new_context(viewport={"width": request.param, "height": 1000})
    page = context.new_page()
    page.goto(app_url)
    wait_idle(page)
    yield page
    context.close()


def test_the_checker_sees_a_cut_label(window: Page):
    assert cut_metrics(window, ".st-key-ask-estimate-box") == []
    window.locator("[data-testid='stMetric']").first.evaluate("(el) => el.style.width = '40px'")
    assert cut_texts(window, ".st-key-ask-estimate-box") == ["Estimated tokens"]


def test_the_ask_pages_cards_show_every_label_and_value_whole(window: Page, vertex):
    page = window
    assert cut_metrics(page, ".st-key-ask-estimate-box") == []
    vertex.set_reply("A red square, then a green circle.", chunks=2)
    page.get_by_label("Prompt", exact=True).fill("What do you see?")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_text("This run: estimate and actual")).to_be_visible(timeout=20_000)
    wait_idle(page)
    assert cut_metrics(page, ".st-key-ask-actual-box") == []


def test_the_chapters_run_button_shows_its_whole_label(window: Page, app_url: str):
    page = window
    page.goto(f"{app_url}/chapters")
    wait_idle(page)
    button = page.get_by_role("button", name="Get chapters")
    expect(button).to_be_visible()
    assert button.evaluate(CUT) == []
