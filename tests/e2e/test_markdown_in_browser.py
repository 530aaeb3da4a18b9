"""What Chromium shows of untrusted Markdown through st.markdown: as written, and nothing fetched.

tests/untrusted_cases.py holds each case with the text a user should see. Shown as the model wrote
it, each harmful case makes Streamlit fetch, draw or lose something (so the case is real); shown
through reelscope/untrusted.py, the page reads as written, holds no element that loads anything,
and the browser requests nothing but the app itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import ROOT, running_app, wait_idle
from tests.untrusted_cases import CASES, WORD_JOINER, ZERO_WIDTH_SPACE

pytestmark = pytest.mark.e2e

LOADING = "img, iframe, script, video, audio, object, embed, [data-testid=stMermaidChart]"


@pytest.fixture(scope="module")
def markdown_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("markdown") / "server.log"
    with running_app({}, log, script=ROOT / "tests/e2e/markdown_page.py") as url:
        yield url


def shown(page: Page, index: int) -> dict:
    return page.locator(f".st-key-case-{index}").evaluate(
        """(box, loading) => ({
            text: box.innerText,
            loading: [...box.querySelectorAll(loading)].map(e => e.outerHTML.slice(0, 120)),
        })""",
        LOADING,
    )


def seen(text: str) -> str:
    return " ".join(text.replace(WORD_JOINER, "").replace(ZERO_WIDTH_SPACE, "").split())


def open_page(browser: Browser, url: str) -> tuple[Page, list[str]]:
    context = browser.new_context()
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(url)
    wait_idle(page)
    # KaTeX, the emoji plugin and the diagram renderer load lazily: wait for their output.
    page.wait_for_load_state("networkidle")
    return page, requests


def test_sanitised_answers_read_as_written_and_fetch_nothing(browser: Browser, markdown_url):
    page, requests = open_page(browser, f"{markdown_url}/?mode=safe")
    try:
        problems = []
        for index, case in enumerate(CASES):
            box = shown(page, index)
            if seen(box["text"]) != case.seen:
                problems.append(f"{case.name}: shows {seen(box['text'])!r}, not {case.seen!r}")
            if box["loading"]:
                problems.append(f"{case.name}: renders {box['loading']}")
        assert not problems, "\n".join(problems)
        outside = [url for url in requests if not url.startswith(markdown_url)]
        assert not outside, outside
    finally:
        page.context.close()


def test_the_same_answers_unsanitised_are_harmful(browser: Browser, markdown_url):
    """Each harmful case, shown as written, loads something or reads differently."""
    page, _ = open_page(browser, f"{markdown_url}/?mode=raw")
    try:
        harmless = []
        for index, case in enumerate(CASES):
            box = shown(page, index)
            if case.raw_harmful and not box["loading"] and seen(box["text"]) == case.seen:
                harmless.append(case.name)
        assert not harmless, f"these cases show no harm unsanitised: {harmless}"
    finally:
        page.context.close()
