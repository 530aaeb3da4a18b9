"""With only GEMINI_API_KEY set (no Google Cloud project, no bucket), in a real Chromium: a video
above the inline limit goes through the Gemini Files API with its progress on the page and the
answer streams; a gs:// link is refused with the reason; the key is in no page, no History
export and no Get code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from reelscope.catalog import load_catalog
from tests.e2e.conftest import running_app, screenshot, wait_idle
from tests.e2e.test_history_in_browser import pick_first_row
from tests.media_files import make_long_video

pytestmark = pytest.mark.e2e

REPLY = " ".join(f"filed{i:03d}" for i in range(30))
INLINE_LIMIT = load_catalog().media.inline_limit_bytes


@pytest.fixture(scope="module")
def big_video(tmp_path_factory) -> Path:
    """A real MP4 above the inline limit (padded to a constant bitrate, cheap to make)."""
    path = make_long_video(tmp_path_factory.mktemp("big") / "big.mp4", 40, video_kbps=2200)
    assert path.stat().st_size > INLINE_LIMIT
    return path


@pytest.fixture
def api_key_app(browser: Browser, vertex, tmp_path) -> Iterator[tuple[Page, str]]:
    """The app started with only an API key (and its data folder), at the emulator."""
    env = {
        "GEMINI_API_KEY": vertex.api_key,
        "GOOGLE_GEMINI_BASE_URL": vertex.base_url,
        "REELSCOPE_DATA_DIR": str(tmp_path / "data"),
        "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"),  # no gcloud login to fall back on
    }
    with running_app(env, tmp_path / "server.log") as url:
        context = browser.new_context(
            viewport={"width": 1400, "height": 1000}, accept_downloads=True
        )
        page = context.new_page()
        page.goto(url)
        wait_idle(page)
        yield page, url
        context.close()


def test_only_an_api_key_a_large_upload_goes_through_the_files_api_and_the_answer_streams(
    api_key_app: tuple[Page, str], vertex, big_video
):
    page, url = api_key_app
    key = vertex.api_key
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Gemini Developer API")
    vertex.files.set_processing(600)  # until the test has seen it processing (below)
    vertex.files.hold_chunks()  # the first 8 MB chunk waits on the wire until seen
    vertex.set_reply(REPLY, chunks=30, chunk_delay=0.05)

    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(big_video))
    uploading = re.compile(r"Uploading big\.mp4 to the Gemini Files API… 8\.4 MB of \d+ MB")
    expect(page.get_by_test_id("stProgress").get_by_text(uploading)).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Upload · big.mp4").first).to_be_visible()  # the Running list's row
    vertex.files.release_chunks()
    expect(page.get_by_text(re.compile(r"Gemini is processing big\.mp4")).first).to_be_visible(
        timeout=30_000
    )
    run = page.get_by_role("button", name="Run", exact=True)
    waiting = page.get_by_text("big.mp4 is being uploaded to the Gemini Files API: wait")
    expect(waiting.first).to_be_visible()  # what keeps Run disabled until the file is ACTIVE
    vertex.files.set_processing(0)  # processed: the next files.get finds it ACTIVE
    expect(page.get_by_text("big.mp4: uploaded to the Gemini Files API")).to_be_visible(
        timeout=30_000
    )
    (sent,) = vertex.files.uploads
    assert sent["size"] == big_video.stat().st_size
    file_uri = vertex.files.file(sent["name"])["uri"]

    page.get_by_label("Prompt", exact=True).fill("What colour is it?")
    expect(run).to_be_enabled(timeout=15_000)
    run.click()
    answer = page.locator(".st-key-ask-answer")
    expect(answer).to_contain_text("filed005", timeout=20_000)
    expect(answer).to_contain_text("filed029", timeout=20_000)
    wait_idle(page)
    generate = vertex.last_request("streamGenerateContent")
    assert generate.backend == "gemini-api"
    assert generate.parts[0]["fileData"]["fileUri"] == file_uri
    assert len(vertex.files.uploads) == 1

    page.locator(".st-key-ask-show_code").get_by_text("Get code").click()
    wait_idle(page)
    page.get_by_test_id("stExpander").filter(has_text="Get code").locator("summary").click()
    code = page.locator('[data-testid="stCode"]')
    expect(code.first).to_be_visible(timeout=15_000)
    expect(code).to_have_count(2)  # Python and curl (the curl tab's text is in the page too)
    shown_code = "\n".join(code.all_text_contents())
    assert file_uri in shown_code and "GEMINI_API_KEY" in shown_code
    assert key not in shown_code
    screenshot(page, "gemini-api-files")
    assert key not in page.content() and key not in page.inner_text("body")

    page.get_by_role("tab", name=re.compile("Link")).click()
    page.get_by_label("Link", exact=True).fill("gs://my-bucket/clip.mp4")
    page.get_by_role("button", name="Add link").click()
    wait_idle(page)
    expect(page.get_by_text(re.compile("cannot read Cloud Storage")).first).to_be_visible(
        timeout=15_000
    )
    expect(page.get_by_text(re.compile("files of any size")).first).to_be_visible()
    expect(run).to_be_disabled()

    page.goto(f"{url}/history")
    wait_idle(page)
    pick_first_row(page)
    expect(page.locator(".st-key-history-run")).to_contain_text("filed029", timeout=15_000)
    exports = []
    for label in ("Download JSON", "Download Markdown"):
        with page.expect_download() as download:
            page.get_by_role("button", name=label).click()
        exports.append(Path(download.value.path()).read_text())
    assert "filed029" in exports[0] and file_uri in exports[0]
    assert not [text for text in exports if key in text]
    assert key not in page.content() and key not in page.inner_text("body")
