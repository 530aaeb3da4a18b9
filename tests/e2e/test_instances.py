"""Two app servers, as Cloud Run runs them: one PostgreSQL, one bucket, separate data folders.

- A run made on A is listed in History on B and replays there (B never called the model).
- A video uploaded on A plays on B: B has no copy of its own, it reads the bucket's.
- Stop pressed on B ends a stream on A: the emulator sees A's client close.

Each server has its own data folder, so nothing passes between them but the database and the
bucket (the storage emulator), exactly what two Cloud Run instances share.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from reelscope.settings import Settings
from reelscope.vertex import make_storage_client
from tests.e2e.conftest import current, running_app, wait_idle
from tests.e2e.test_history_in_browser import open_and_replay
from tests.postgres import PostgresCluster

pytestmark = pytest.mark.e2e

REPLY = " ".join(f"kept{i:03d}" for i in range(40))
STOP_WITHIN_S = 2.0  # the promise: Stop on one instance ends a stream on another
LONG_REPLY = " ".join(f"word{i:03d}" for i in range(200))


@pytest.fixture(scope="module")
def shared_env(
    app_env, postgres: PostgresCluster, storage_emulator: str
) -> Iterator[dict[str, str]]:
    client = make_storage_client(Settings(storage_emulator_host=storage_emulator))
    bucket = client.create_bucket(f"team-{uuid.uuid4().hex[:8]}").name
    url = postgres.new_database()
    yield {
        **app_env,
        "REELSCOPE_DATABASE_URL": url,
        "STORAGE_EMULATOR_HOST": storage_emulator,
        "REELSCOPE_BUCKET": bucket,
    }
    postgres.drop_database(url)


@pytest.fixture(scope="module")
def instances(shared_env, tmp_path_factory) -> Iterator[tuple[str, str]]:
    """Instance A and instance B: the same settings but their own data folders."""

    def env_for(name: str) -> dict[str, str]:
        return {**shared_env, "REELSCOPE_DATA_DIR": str(tmp_path_factory.mktemp(f"data-{name}"))}

    logs = tmp_path_factory.mktemp("two-instances")
    with (
        running_app(env_for("a"), logs / "a.log") as url_a,
        running_app(env_for("b"), logs / "b.log") as url_b,
    ):
        yield url_a, url_b


def open_page(browser: Browser, url: str) -> Page:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(url)
    wait_idle(page)
    return page


@pytest.fixture
def pages(browser: Browser, instances, vertex) -> Iterator[tuple[Page, Page]]:
    url_a, url_b = instances
    page_a, page_b = open_page(browser, url_a), open_page(browser, url_b)
    yield page_a, page_b
    page_a.context.close()
    page_b.context.close()


def test_a_run_made_on_a_is_in_history_on_b_and_replays_there(pages, instances, vertex):
    page_a, page_b = pages
    vertex.set_reply(REPLY, chunks=20, chunk_delay=0.02)
    page_a.get_by_label("Prompt", exact=True).fill("Which scenes are red?")
    current(page_a).get_by_role("button", name="Run", exact=True).click()
    expect(page_a.locator(".st-key-ask-answer")).to_contain_text("kept039", timeout=20_000)
    wait_idle(page_a)

    open_and_replay(page_b, instances[1], vertex)
    assert len([r for r in vertex.requests if r.rpc == "streamGenerateContent"]) == 1


def test_a_video_uploaded_on_a_plays_on_b(pages, instances, video_file: Path):
    page_a, page_b = pages
    page_a.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(video_file))
    expect(page_a.locator("video")).to_have_count(1, timeout=15_000)
    wait_idle(page_a)

    page_b.goto(f"{instances[1]}/chapters")
    wait_idle(page_b)
    page_b.get_by_role("tab", name="Library").click()
    page_b.get_by_label("From your library").click()
    page_b.get_by_role("option", name=video_file.name, exact=False).first.click()
    page_b.keyboard.press("Escape")
    page_b.get_by_role("button", name="Add from library").click()
    wait_idle(page_b)
    video = page_b.locator(".rs-player video")
    expect(video).to_have_count(1, timeout=15_000)
    page_b.wait_for_function(
        "v => v.readyState >= 2 && v.duration > 0", arg=video.element_handle(), timeout=20_000
    )


def test_stop_on_b_ends_a_stream_on_a(pages, instances, vertex):
    page_a, page_b = pages
    vertex.set_reply(LONG_REPLY, chunks=200, chunk_delay=0.05)  # about 10 s
    page_a.get_by_label("Prompt", exact=True).fill("Count slowly on A.")
    current(page_a).get_by_role("button", name="Run", exact=True).click()
    expect(page_a.locator(".st-key-ask-answer")).to_contain_text("word005", timeout=15_000)

    page_b.goto(f"{instances[1]}/models")
    sidebar = page_b.get_by_test_id("stSidebarUserContent")
    expect(sidebar.get_by_text("Running on another instance")).to_be_visible(timeout=15_000)
    expect(sidebar).to_contain_text("Count slowly on A.")
    request = vertex.last_request()
    assert request.answer.how == "pending", "still streaming on A"
    sent = len(vertex.requests)

    clicked_at = time.time()  # the emulator's times are time.time() too
    sidebar.get_by_role("button", name="Stop").click()
    assert request.answer.wait(STOP_WITHIN_S), "A's stream ends within 2 s of Stop on B"
    assert request.answer.how == "client_closed"
    assert request.answer.ended_at - clicked_at <= STOP_WITHIN_S
    expect(page_a.get_by_text("Stopped by you.")).to_be_visible(timeout=10_000)
    expect(sidebar.get_by_text("Running on another instance")).to_have_count(0, timeout=10_000)
    assert len(vertex.requests) == sent
