"""A large upload straight from Chromium to Cloud Storage (the storage emulator), one chunk
dropped on the way and resumed, then in the library and playing on the Ask page.

The emulator sits behind tests/storage_proxy.py: the CORS answers a bucket configured by
`make deploy` gives (the emulator has none), and the dropped chunk. Everything else is the
product: the server opens the session, the page's uploader sends the bytes.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from components.media.source_picker import LARGE_FILE
from reelscope.direct_upload import BROWSER_CHUNK_BYTES
from reelscope.media import format_size
from reelscope.settings import Settings
from reelscope.vertex import make_storage_client
from tests.e2e.conftest import running_app, screenshot, wait_idle
from tests.media_files import make_long_video
from tests.storage_proxy import StorageProxy

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def proxy(storage_emulator: str) -> Iterator[StorageProxy]:
    with StorageProxy(storage_emulator) as running:
        yield running


@pytest.fixture(scope="module")
def bucket(proxy: StorageProxy) -> str:
    client = make_storage_client(Settings(storage_emulator_host=proxy.base_url))
    return client.create_bucket(f"direct-{uuid.uuid4().hex[:8]}").name


@pytest.fixture(scope="module")
def big_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 20 MB: three 8 MiB chunks, the last one short; 20 s long."""
    path = tmp_path_factory.mktemp("direct") / "long take.mp4"
    return make_long_video(path, seconds=20, size="320x180", fps=24, video_kbps=8000)


@pytest.fixture(scope="module")
def bucket_app_url(app_env, proxy, bucket, tmp_path_factory) -> Iterator[str]:
    env = {
        **app_env,
        "STORAGE_EMULATOR_HOST": proxy.base_url,
        "REELSCOPE_BUCKET": bucket,
        "REELSCOPE_DATA_DIR": str(tmp_path_factory.mktemp("direct-data")),
    }
    with running_app(env, tmp_path_factory.mktemp("streamlit") / "direct-server.log") as url:
        yield url


@pytest.fixture
def bucket_page(browser: Browser, bucket_app_url: str, vertex) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(bucket_app_url)
    wait_idle(page)
    yield page
    context.close()


def choose_large_file(page: Page) -> None:
    page.get_by_role("tab", name="Upload").click()
    page.get_by_role("radiogroup").get_by_text(LARGE_FILE, exact=True).click()
    expect(page.get_by_role("radio", name=LARGE_FILE)).to_be_checked()
    expect(page.locator("input.ru-file")).to_be_attached(timeout=15_000)
    wait_idle(page)


def test_a_large_video_goes_straight_to_the_bucket_survives_a_drop_and_plays(
    bucket_page: Page, proxy: StorageProxy, bucket: str, big_video: Path
) -> None:
    page = bucket_page
    choose_large_file(page)
    size = big_video.stat().st_size
    assert size > 2 * BROWSER_CHUNK_BYTES  # at least three chunks
    proxy.seen.clear()
    proxy.drop_chunk(1)  # the second chunk: half of it arrives, then the connection drops

    page.locator("input.ru-file").set_input_files(str(big_video))

    status = page.locator(".ru-status")
    expect(status).to_have_text(
        f"{big_video.name} is in your library ({format_size(size)}).", timeout=60_000
    )
    wait_idle(page)

    # The browser sent the chunks itself, after a CORS preflight, and resumed where the
    # session said: inside the dropped chunk, not at its start. Chromium itself may send a
    # chunk again once when a kept-alive connection drops before any answer; the session
    # refuses it (it kept half already) and the uploader asks the session's status then too.
    chunk = BROWSER_CHUNK_BYTES
    half = chunk + chunk // 2
    sent = [(s.content_range, s.status) for s in proxy.chunks()]
    resent = (f"bytes {chunk}-{2 * chunk - 1}/{size}", 400)
    assert sent.count(resent) <= 1
    assert [one for one in sent if one != resent] == [
        (f"bytes 0-{chunk - 1}/{size}", 308),
        (f"bytes {chunk}-{2 * chunk - 1}/{size}", None),  # dropped
        (f"bytes */{size}", 308),  # the status query
        (f"bytes {half}-{min(half + chunk, size) - 1}/{size}", 308 if half + chunk < size else 200),
        *([(f"bytes {half + chunk}-{size - 1}/{size}", 200)] if half + chunk < size else []),
    ]
    assert any(s.method == "OPTIONS" for s in proxy.seen)

    # The bucket holds the bytes once, whole, under their content hash: the library's copy,
    # which the browser's object in the user's upload folder became.
    client = make_storage_client(Settings(storage_emulator_host=proxy.base_url))
    assert list(client.list_blobs(bucket, prefix="uploads/")) == []
    blobs = list(client.list_blobs(bucket, prefix="reelscope/"))
    digest = hashlib.sha256(big_video.read_bytes()).hexdigest()
    assert [(blob.name, blob.size) for blob in blobs] == [(f"reelscope/{digest}.mp4", size)]
    assert blobs[0].download_as_bytes() == big_video.read_bytes()

    # On the page: probed, sent by its gs:// URI, and playing from the library's copy.
    expect(
        page.get_by_text("video/mp4 · 20 MB · 0:20 · 320×180 · 24 fps", exact=False)
    ).to_be_visible()
    expect(page.get_by_text(f"Staged: sent as gs://{bucket}/{blobs[0].name}")).to_be_visible()
    video = page.locator("video.rs-video").first
    page.wait_for_function(
        "v => v.readyState >= 1 && v.duration > 0", arg=video.element_handle(), timeout=15_000
    )
    assert video.evaluate("v => v.duration") == pytest.approx(20, abs=0.3)
    expect(page.get_by_role("tab", name="Library (1)")).to_be_visible()
    screenshot(page, "direct-upload")


def test_a_file_that_is_not_a_video_is_refused_before_anything_is_sent(
    bucket_page: Page, proxy: StorageProxy, tmp_path: Path
) -> None:
    page = bucket_page
    choose_large_file(page)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video")
    proxy.seen.clear()

    page.locator("input.ru-file").set_input_files(str(notes))

    expect(page.locator(".ru-status")).to_have_text(
        re.compile(r"notes\.txt is a text/plain file: only videos and images"), timeout=15_000
    )
    assert proxy.chunks() == []


def test_cancel_stops_an_upload_in_flight_and_nothing_is_stored(
    bucket_page: Page, proxy: StorageProxy, bucket: str, big_video: Path
) -> None:
    page = bucket_page
    choose_large_file(page)
    client = make_storage_client(Settings(storage_emulator_host=proxy.base_url))
    before = [blob.name for blob in client.list_blobs(bucket)]
    hold = proxy.hold_chunk(1)  # the second chunk waits: the upload is in flight

    page.locator("input.ru-file").set_input_files(str(big_video))
    assert hold.reached.wait(30), (page.locator(".ru-status").text_content(), proxy.chunks())
    page.get_by_role("button", name="Cancel").click()

    expect(page.locator(".ru-status")).to_have_text(
        f"Upload of {big_video.name} cancelled; nothing was stored."
    )
    expect(page.get_by_role("button", name="Cancel")).to_be_hidden()
    expect(page.locator("input.ru-file")).to_be_enabled()
    hold.release.set()
    assert hold.passed.wait(30)  # what was on its way arrived; the session was never finished
    wait_idle(page)
    assert [blob.name for blob in client.list_blobs(bucket)] == before
    size, chunk = big_video.stat().st_size, BROWSER_CHUNK_BYTES
    assert proxy.chunks()[-1].content_range == f"bytes {chunk}-{2 * chunk - 1}/{size}"
