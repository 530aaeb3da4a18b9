"""The model and its parameters survive a visit to another page, and the next Run sends them."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot, wait_idle, wait_sent

pytestmark = pytest.mark.e2e

TEMPERATURE = 0.3


def temperature_slider(page: Page):
    return page.get_by_role("slider", name="Temperature")


def set_temperature(page: Page, target: float) -> None:
    """Move the slider with the keyboard, as a person would: one 0.05 step per key press; then
    until the value has left for the server and its run is over."""
    slider = temperature_slider(page)
    slider.focus()
    current = float(slider.input_value())
    key = "ArrowLeft" if target < current else "ArrowRight"
    for _ in range(round(abs(current - target) / 0.05)):
        slider.press(key)
    expect(slider).to_have_value(str(target))
    wait_sent(page, "ask.params.temperature", target)
    wait_idle(page)


def model_picker(page: Page):
    return page.get_by_role("combobox", name="Model", exact=True)


def visit_models_and_come_back(page: Page) -> None:
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_role("link", name="Models").click()
    expect(page.get_by_role("heading", name="Models")).to_be_visible(timeout=15_000)
    wait_idle(page)
    nav.get_by_role("link", name="Ask").click()
    expect(page.get_by_role("heading", name="Ask about a video")).to_be_visible(timeout=15_000)
    wait_idle(page)


def test_a_page_visit_keeps_model_and_temperature_and_run_sends_them(page: Page, vertex):
    vertex.set_reply("Kept.", chunks=2, chunk_delay=0.02)
    expect(model_picker(page)).to_have_value("Gemini 3.5 Flash")
    set_temperature(page, TEMPERATURE)

    visit_models_and_come_back(page)

    expect(model_picker(page)).to_have_value("Gemini 3.5 Flash")
    expect(temperature_slider(page)).to_have_value(str(TEMPERATURE))
    expect(page.get_by_role("switch", name="Stream the answer")).to_be_checked()
    screenshot(page, "params-after-page-visit")

    page.get_by_label("Prompt", exact=True).fill("What is in it?")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator(".st-key-ask-answer")).to_contain_text("Kept.", timeout=15_000)
    request = vertex.last_request("streamGenerateContent")
    assert request.model == "gemini-3.5-flash"
    assert request.generation_config["temperature"] == TEMPERATURE
    assert request.generation_config["maxOutputTokens"] == 65_536
