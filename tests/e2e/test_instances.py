"""Two instances of the app sharing one PostgreSQL: Stop pressed on B ends a stream on A.

Two app servers (as two Cloud Run instances) share a throwaway PostgreSQL 15 and nothing else.
A run started in Chromium on A is listed in B's Running list as running on another instance;
Stop there writes a stop request that A acts on, and the emulator sees A's client close within
2 s of the click.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Browser, expect

from tests.app_server import running_app
from tests.e2e.conftest import current, wait_idle

pytestmark = pytest.mark.e2e

LONG_REPLY = " ".join(f"word{i:03d}" for i in range(200))


@pytest.fixture
def two_instances(app_env, postgres, tmp_path):
    url = postgres.new_database()
    shared = {**app_env, "REELSCOPE_DATABASE_URL": url}
    with (
        running_app({**shared, "REELSCOPE_DATA_DIR": str(tmp_path / "a")}, tmp_path / "a.log") as a,
        running_app({**shared, "REELSCOPE_DATA_DIR": str(tmp_path / "b")}, tmp_path / "b.log") as b,
    ):
        yield a, b
    postgres.drop_database(url)


def test_stop_on_instance_b_ends_the_stream_on_instance_a(browser: Browser, two_instances, vertex):
    url_a, url_b = two_instances
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    on_a, on_b = context.new_page(), context.new_page()
    on_a.goto(url_a)
    wait_idle(on_a)
    vertex.set_reply(LONG_REPLY, chunks=200, chunk_delay=0.05)  # about 10 s
    on_a.get_by_label("Prompt", exact=True).fill("Count slowly on A.")
    current(on_a).get_by_role("button", name="Run", exact=True).click()
    expect(on_a.locator(".st-key-ask-answer")).to_contain_text("word005", timeout=15_000)

    on_b.goto(f"{url_b}/models")
    sidebar = on_b.get_by_test_id("stSidebarUserContent")
    expect(sidebar.get_by_text("Running on another instance")).to_be_visible(timeout=15_000)
    expect(sidebar).to_contain_text("Count slowly on A.")
    request = vertex.last_request()
    assert request.answer.how == "pending", "still streaming on A"

    pressed = time.time()
    sidebar.get_by_role("button", name="Stop").click()
    assert request.answer.wait(2.0), "A's stream ends within 2 s of Stop on B"
    assert request.answer.how == "client_closed" and request.answer.ended_at - pressed < 2.0
    expect(on_a.get_by_text("Stopped by you.")).to_be_visible(timeout=10_000)
    expect(sidebar.get_by_text("Running on another instance")).to_have_count(0, timeout=10_000)
    assert len(vertex.requests) == 1
    context.close()
