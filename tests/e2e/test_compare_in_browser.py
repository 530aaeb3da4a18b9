"""Side by side in Chromium: three models stream together; stopping one leaves the others going."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from playwright.sync_api import Page, expect

from reelscope.catalog import load_catalog
from tests.e2e.conftest import ROOT, screenshot, wait_idle

pytestmark = pytest.mark.e2e

CATALOG = load_catalog()
# The page's default columns: the catalog's default model, then the next current ones.
MODELS = tuple(
    dict.fromkeys(
        [CATALOG.default_model_id]
        + [m.id for m in CATALOG.models if m.is_callable(dt.date.today())]
    )
)[:3]
WORDS = ("alpha", "bravo", "charlie")
CHUNKS = 60


def reply(index: int) -> str:
    return " ".join(f"{WORDS[index]}{i:02d}" for i in range(CHUNKS))


def column_text(page: Page, index: int) -> str:
    return page.locator(f".st-key-compare-answer-{index}").inner_text().replace("▌", "").strip()


def test_three_columns_stream_and_one_stops_alone(page: Page, app_url, vertex, video_file):
    for index, model in enumerate(MODELS):  # about 6 s each, at slightly different paces
        vertex.set_model_reply(model, reply(index), chunks=CHUNKS, chunk_delay=0.09 + 0.01 * index)
    page.goto(f"{app_url}/compare")
    wait_idle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(video_file))
    expect(page.locator("video")).to_have_count(1, timeout=15_000)
    wait_idle(page)
    page.get_by_label("Prompt", exact=True).fill("Describe the video. Give timestamps as MM:SS.")
    page.get_by_role("button", name="Run side by side").click()

    for index in range(3):
        expect(page.locator(f".st-key-compare-answer-{index}")).to_contain_text(
            f"{WORDS[index]}05", timeout=15_000
        )
    grown = [len(column_text(page, i)) for i in range(3)]
    shot = screenshot(page, "compare-streaming")
    shutil.copyfile(shot, ROOT / "docs" / "compare.png")
    for index in range(3):  # each column holds its own model's words only
        text = column_text(page, index)
        assert all(WORDS[other] not in text for other in range(3) if other != index)

    page.locator(".st-key-compare-stop-1 button").click()
    expect(page.locator(".st-key-compare-answer-1").locator("xpath=..")).to_be_visible()
    expect(page.get_by_text("Stopped by you.")).to_be_visible(timeout=10_000)
    stopped_at = column_text(page, 1)
    page.wait_for_timeout(800)
    assert column_text(page, 1) == stopped_at, "nothing more arrives in the stopped column"
    for index in (0, 2):
        assert len(column_text(page, index)) > grown[index], "the others go on"

    for index in (0, 2):
        expect(page.locator(f".st-key-compare-answer-{index}")).to_have_text(
            reply(index), timeout=20_000
        )
    wait_idle(page)
    assert reply(1).startswith(stopped_at) and len(stopped_at) < len(reply(1))
    log = [(r.model, r.answer.how) for r in vertex.requests]
    assert sorted(model for model, _ in log) == sorted(MODELS), log  # one request per column
    requests = {r.model: r for r in vertex.requests}
    assert requests[MODELS[1]].answer.wait(5), log
    assert requests[MODELS[1]].answer.how == "client_closed", log
    assert requests[MODELS[0]].answer.how == requests[MODELS[2]].answer.how == "complete"
    assert all(requests[m].parts[0]["inlineData"]["mimeType"] == "video/mp4" for m in MODELS)
    screenshot(page, "compare-one-stopped")
