"""A followed view's button, clicked just as its task ends, still does what it says
(components/common/follow.view), on the test page tests/e2e/follow_page.py.

The browser sends a click on a button drawn in a fragment as a rerun of that fragment. When the
task ends, the view's last look reruns the page; a click made meanwhile is queued behind that
rerun, and Streamlit drops it if the page no longer draws the fragment. The test page makes the
settling rerun slow, so the click always falls in it (the Lab lost "Re-run failed" so in CI).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import ROOT, running_app, wait_idle

pytestmark = pytest.mark.e2e

RUNNING = '[data-testid="stApp"][data-test-script-state="running"]'


@pytest.fixture(scope="module")
def follow_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("follow") / "server.log"
    with running_app({}, log, script=ROOT / "tests/e2e/follow_page.py") as url:
        yield url


def test_a_click_made_as_the_task_ends_is_not_lost(browser: Browser, follow_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(follow_url)
        wait_idle(page)
        page.get_by_role("button", name="Start").click()
        expect(page.get_by_text("state: running")).to_be_visible()
        expect(page.get_by_text("settling…")).to_be_visible(timeout=10_000)
        page.get_by_role("button", name="Act").click()  # as the last look drew it
        assert page.locator(RUNNING).count() == 1, "the click fell in the settling rerun"
        wait_idle(page)
        expect(page.get_by_text("acted: 1")).to_be_visible()
    finally:
        context.close()
