"""Media on the Ask page in a real browser: probe facts, a clip range, the estimate, the actual."""

from __future__ import annotations

import math

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot, wait_idle

pytestmark = pytest.mark.e2e


def metric(page: Page, label: str):
    return page.locator('[data-testid="stMetric"]').filter(has_text=label)


def type_into(page: Page, label: str, text: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(text)
    box.press("Enter")  # commits the text input: one rerun
    wait_idle(page)


def test_upload_clip_see_the_estimate_change_run_and_see_actual_usage(
    page: Page, vertex, video_file
):
    vertex.set_reply("Green, mostly.", chunks=2)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(video_file))
    expect(page.get_by_text("h264 + aac · with audio")).to_be_visible(timeout=15_000)
    expect(page.get_by_text("0:12 · 320×240 · 24 fps", exact=False)).to_be_visible()
    wait_idle(page)

    whole = 12 * 70 + 12 * 25 + 12 * 7  # 12 s, 1 fps, Gemini 3.5 Flash, with audio
    expect(metric(page, "Estimated tokens")).to_contain_text(f"{whole:,}")
    type_into(page, "Start", "0:04")
    type_into(page, "End", "0:08")
    clipped = 4 * 70 + 4 * 25 + 4 * 7
    expect(metric(page, "Estimated tokens")).to_contain_text(f"{clipped:,}")

    page.get_by_label("Prompt", exact=True).fill("What colour is the middle?")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator(".st-key-ask-answer")).to_have_text("Green, mostly.", timeout=15_000)
    expect(metric(page, "Actual input tokens")).to_be_visible(timeout=15_000)
    wait_idle(page)

    prompt = "What colour is the middle?"
    prompt_tokens = 258 + len(prompt) // 4  # the emulator's count
    at_run = clipped + math.ceil(len(prompt) / 4)  # the estimate counts ~4 characters a token
    expect(metric(page, "Estimated at Run")).to_contain_text(f"{at_run:,}")
    expect(metric(page, "Actual input tokens")).to_contain_text(f"{prompt_tokens:,}")
    screenshot(page, "media-estimate-and-actual")
    request = vertex.last_request("streamGenerateContent")
    assert request.parts[0]["videoMetadata"] == {"startOffset": "4s", "endOffset": "8s"}
