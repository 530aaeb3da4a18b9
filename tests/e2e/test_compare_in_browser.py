"""Side by side in Chromium: three models stream together; stopping one leaves the others going."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from reelscope.catalog import load_catalog
from tests.e2e.conftest import OUTPUT_DIR, screenshot, wait_idle

pytestmark = pytest.mark.e2e

CATALOG = load_catalog()
# The page's default columns: the catalog's default model, then the next current ones.
MODELS = tuple(
    dict.fromkeys(
        [CATALOG.default_model_id]
        + [m.id for m in CATALOG.models if m.is_callable(dt.date.today())]
    )
)[:3]
CHUNKS = 60
# Each model its own answer, recognisable by its first words (no cross-talk between columns).
REPLIES = (
    "Three shapes, one after another. 00:00 A red square sits in the middle of a dark "
    "background. 00:04 The scene cuts to a green circle that slowly grows. 00:08 A blue "
    "triangle closes the clip while a steady tone plays to the end at 00:12. Nobody speaks; "
    "the only sound is the tone, which does not change between scenes.",
    "In short: a twelve-second test clip in three equal scenes. 00:00 to 00:04, red square. "
    "00:04 to 00:08, green circle, growing. 00:08 to 00:12, blue triangle. A constant tone "
    "runs under all three scenes, and there is no speech or on-screen text.",
    "Scene by scene: at 00:00 a red square appears, centred and still. At 00:04 it gives "
    "way to a green circle whose size increases over four seconds. At 00:08 a blue "
    "triangle takes over until the end. Audio: one steady sine-like tone, no voices.",
)
HEADS = tuple(" ".join(text.split()[:3]) for text in REPLIES)


def reply(index: int) -> str:
    return REPLIES[index]


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
    page.locator(".st-key-compare-model-0").evaluate("e => e.scrollIntoView({block: 'start'})")
    page.get_by_role("button", name="Run side by side").click()

    for index in range(3):
        expect(page.locator(f".st-key-compare-answer-{index}")).to_contain_text(
            HEADS[index], timeout=15_000
        )
    page.wait_for_function(  # about half way: enough text in every column for the picture
        "() => [0, 1, 2].every(i => (document.querySelector(`.st-key-compare-answer-${i}`)"
        "?.innerText.length ?? 0) > 120)",
        timeout=15_000,
    )
    grown = [len(column_text(page, i)) for i in range(3)]
    page.locator(".st-key-compare-model-0").evaluate("e => e.scrollIntoView({block: 'start'})")
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / "compare.png"))  # docs/compare.png is one of these
    for index in range(3):  # each column holds its own model's answer only
        text = column_text(page, index)
        assert reply(index).startswith(text), (index, text)
        assert all(HEADS[other] not in text for other in range(3) if other != index)

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
    assert all(requests[MODELS[i]].answer.wait(5) for i in (0, 2)), log
    assert requests[MODELS[0]].answer.how == requests[MODELS[2]].answer.how == "complete"
    assert all(requests[m].parts[0]["inlineData"]["mimeType"] == "video/mp4" for m in MODELS)
    screenshot(page, "compare-one-stopped")
