"""Uploads straight to Cloud Storage (reelscope/direct_upload.py) against gcp-storage-emulator.

The bytes are sent here as the browser's uploader sends them (components/media/direct_upload):
chunked PUTs to the session URL, a status query after a failed chunk, and the rest from the
offset the server reports. The chunks go through tests/storage_proxy.py, which drops one
mid-way, as a network would.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from google.cloud import storage

from reelscope.catalog import MediaFacts, load_catalog
from reelscope.direct_upload import (
    RESUMABLE_QUANTUM,
    UploadRefused,
    UploadSession,
    _CheckedReader,
    check_upload,
    finish_upload,
    object_name,
    start_upload,
)
from reelscope.library import MediaLibrary
from reelscope.media import SourceKind
from reelscope.probe import VideoProbe
from reelscope.settings import Settings
from reelscope.vertex import make_storage_client
from tests.media_files import make_long_video
from tests.storage_proxy import StorageProxy

OWNER = "ada@example.com"
ORIGIN = "http://localhost:8501"
MAX = 50_000_000


@pytest.fixture(scope="module")
def proxy(storage_emulator: str) -> Iterator[StorageProxy]:
    with StorageProxy(storage_emulator) as running:
        yield running


@pytest.fixture
def client(proxy: StorageProxy) -> storage.Client:
    return make_storage_client(
        Settings(project="test-project", storage_emulator_host=proxy.base_url)
    )


@pytest.fixture
def bucket(client: storage.Client) -> str:
    name = f"direct-{uuid.uuid4().hex[:12]}"
    client.create_bucket(name)
    return name


@pytest.fixture(scope="module")
def media() -> MediaFacts:
    return load_catalog().media


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 1 MB: four 256 KiB chunks and a short last one."""
    path = tmp_path_factory.mktemp("direct") / "Holiday clip (1).mp4"
    return make_long_video(path, seconds=4, size="320x180", fps=24, video_kbps=2000)


@pytest.fixture
def library(tmp_path: Path) -> MediaLibrary:
    return MediaLibrary(tmp_path / "media")


def send(
    url: str,
    data: bytes,
    *,
    chunk: int = RESUMABLE_QUANTUM,
    before_chunk: Callable[[int], object] | None = None,
) -> list[int]:
    """Send `data` as the browser does; returns the offsets each chunk was sent from.
    `before_chunk(n)` is called before the n-th chunk is sent (0-based)."""
    total = len(data)
    offset = 0
    starts: list[int] = []
    while True:
        end = min(offset + chunk, total)
        if before_chunk is not None:
            before_chunk(len(starts))
        starts.append(offset)
        headers = {"Content-Range": f"bytes {offset}-{end - 1}/{total}", "Origin": ORIGIN}
        try:
            reply = requests.put(url, data=data[offset:end], headers=headers, timeout=30)
        except requests.ConnectionError:
            offset = persisted(url, total)  # resume where the server says, not where we were
            continue
        if reply.status_code in (200, 201):
            return starts
        assert reply.status_code == 308, reply.text
        offset = _range_end(reply) + 1


def persisted(url: str, total: int) -> int:
    reply = requests.put(url, headers={"Content-Range": f"bytes */{total}"}, timeout=30)
    assert reply.status_code == 308, reply.text
    return _range_end(reply) + 1


def _range_end(reply: requests.Response) -> int:
    match = re.fullmatch(r"bytes=0-(\d+)", reply.headers.get("Range", ""))
    return int(match.group(1)) if match else -1


def open_session(client, bucket, media, path: Path, **overrides) -> UploadSession:
    announced = {
        "owner": OWNER,
        "name": path.name,
        "size": path.stat().st_size,
        "mime_type": "video/mp4",
        "media": media,
        "max_bytes": MAX,
        "origin": ORIGIN,
        **overrides,
    }
    return start_upload(client, bucket, **announced)


def test_a_session_is_opened_for_the_user_under_their_own_prefix(
    client, bucket, media, video, proxy
) -> None:
    session = open_session(client, bucket, media, video)

    owner_hash = hashlib.sha256(OWNER.encode()).hexdigest()[:16]
    assert re.fullmatch(
        rf"uploads/{owner_hash}/[0-9a-f]{{32}}/Holiday_clip_1_.mp4", session.object_name
    )
    assert session.url.startswith(proxy.base_url + "/upload/storage/v1/b/" + bucket)
    assert "upload_id=" in session.url
    assert (session.size, session.mime_type, session.owner) == (
        video.stat().st_size,
        "video/mp4",
        OWNER,
    )
    # Nothing is there until the browser sends it; the session answers a status query.
    assert client.bucket(bucket).get_blob(session.object_name) is None
    assert (
        requests.put(session.url, headers={"Content-Range": f"bytes */{session.size}"}).status_code
        == 308
    )


def test_chunks_dropped_mid_way_resume_from_the_status_query_and_land_in_the_library(
    client, bucket, media, video, proxy, library
) -> None:
    data = video.read_bytes()
    session = open_session(client, bucket, media, video)
    proxy.seen.clear()

    # The first chunk arrives; the second is cut off half way (half of it is kept).
    starts = send(session.url, data, before_chunk=lambda n: n == 1 and proxy.drop_next_chunk())

    quantum, total = RESUMABLE_QUANTUM, len(data)
    assert [(s.content_range, s.status) for s in proxy.chunks()][:4] == [
        (f"bytes 0-{quantum - 1}/{total}", 308),
        (f"bytes {quantum}-{2 * quantum - 1}/{total}", None),  # dropped
        (f"bytes */{total}", 308),  # the status query
        (f"bytes {quantum + quantum // 2}-{quantum * 5 // 2 - 1}/{total}", 308),  # resumed
    ]
    assert starts[:3] == [0, quantum, quantum + quantum // 2]  # where the server said

    finished = finish_upload(client, library, session, media, owner=OWNER)

    item = finished.item
    assert item.sha256 == hashlib.sha256(data).hexdigest()
    assert item.staged_uri == session.uri
    assert item.owner == OWNER and item.name == video.name
    assert isinstance(item.probe, VideoProbe) and item.probe.duration_s == pytest.approx(4, abs=0.2)
    assert library.path(item.sha256).read_bytes() == data
    source = library.source(item.key)
    assert source is not None and source.kind is SourceKind.GCS and source.uri == session.uri


def test_an_object_of_another_size_than_announced_is_refused_and_removed(
    client, bucket, media, video, library
) -> None:
    data = video.read_bytes()
    session = open_session(client, bucket, media, video)
    send(session.url, data[:-1000])  # the emulator stores it; Cloud Storage would refuse

    with pytest.raises(UploadRefused, match=r"not the \d+ announced"):
        finish_upload(client, library, session, media, owner=OWNER)

    assert client.bucket(bucket).get_blob(session.object_name) is None
    assert library.items() == []


def test_an_upload_that_never_finished_is_refused(client, bucket, media, video, library) -> None:
    session = open_session(client, bucket, media, video)
    send_first = video.read_bytes()[:RESUMABLE_QUANTUM]
    requests.put(
        session.url,
        data=send_first,
        headers={"Content-Range": f"bytes 0-{RESUMABLE_QUANTUM - 1}/{session.size}"},
    )

    with pytest.raises(UploadRefused, match="has not arrived"):
        finish_upload(client, library, session, media, owner=OWNER)


def test_bytes_that_are_not_a_video_are_refused_after_arriving_and_removed(
    client, bucket, media, library, tmp_path
) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_bytes(b"just some text, not a video\n" * 40_000)
    session = open_session(client, bucket, media, fake)
    send(session.url, fake.read_bytes())

    with pytest.raises(UploadRefused, match=r"notes\.mp4"):
        finish_upload(client, library, session, media, owner=OWNER)

    assert client.bucket(bucket).get_blob(session.object_name) is None
    assert library.items() == []


def test_someone_else_cannot_finish_a_users_upload(client, bucket, media, video, library) -> None:
    session = open_session(client, bucket, media, video)
    send(session.url, video.read_bytes())

    with pytest.raises(UploadRefused, match="someone else"):
        finish_upload(client, library, session, media, owner="eve@example.com")
    assert library.items() == []


@pytest.mark.parametrize(
    ("name", "size", "mime_type", "says"),
    [
        ("report.pdf", 1000, "application/pdf", "application/pdf file: only videos and images"),
        ("film.mkv", 1000, "video/x-matroska", "video/x-matroska file"),
        ("mystery", 1000, "", "could not tell"),
        ("big.mp4", MAX + 1, "video/mp4", r"more than the 50 MB \(50,000,000 bytes\)"),
        ("empty.mp4", 0, "video/mp4", "is empty"),
    ],
)
def test_what_cannot_be_taken_is_refused_before_a_session_is_opened(
    client, bucket, media, name, size, mime_type, says
) -> None:
    with pytest.raises(UploadRefused, match=says):
        start_upload(
            client,
            bucket,
            owner=OWNER,
            name=name,
            size=size,
            mime_type=mime_type,
            media=media,
            max_bytes=MAX,
            origin=ORIGIN,
        )
    assert list(client.list_blobs(bucket)) == []


def test_the_type_may_come_from_the_name_when_the_browser_has_none(media) -> None:
    assert check_upload("clip.MOV", 10, "", media, max_bytes=MAX) == "video/quicktime"
    assert check_upload("still.webp", 10, "IMAGE/WEBP", media, max_bytes=MAX) == "image/webp"


def test_a_page_origin_must_look_like_one(client, bucket, media, video) -> None:
    with pytest.raises(UploadRefused, match="not a page origin"):
        open_session(client, bucket, media, video, origin="http://x\r\nSet-Cookie: a=b")


def test_object_names_are_safe_and_bounded() -> None:
    name = object_name("ada@example.com", "../../etc/passwd", "id1")
    assert name.startswith("uploads/") and name.endswith("/id1/etc_passwd")
    long = object_name("a", "x" * 300 + ".mp4", "id2")
    assert long.endswith(".mp4") and len(long.rsplit("/", 1)[1]) == 100
    assert object_name("a", "   ", "id3").endswith("/id3/upload")
    assert object_name("a", "b", "i").split("/")[1] != object_name("b", "b", "i").split("/")[1]


def test_bytes_that_do_not_read_back_as_stored_are_refused(client, bucket, media, video) -> None:
    session = open_session(client, bucket, media, video)
    send(session.url, video.read_bytes())
    blob = client.bucket(bucket).get_blob(session.object_name)
    assert blob is not None and blob.crc32c  # the emulator computes it, as Cloud Storage does
    blob.crc32c = "AAAAAA=="  # what a corrupted read would be compared with

    reader = _CheckedReader(blob, session)
    with pytest.raises(UploadRefused, match="CRC32C"):
        while reader.read(RESUMABLE_QUANTUM):
            pass


def test_an_object_replaced_after_its_check_is_not_read(
    client, bucket, media, video, library, monkeypatch
) -> None:
    data = video.read_bytes()
    session = open_session(client, bucket, media, video)
    send(session.url, data)
    add_upload = library.add_upload

    def replaced_first(*args, **kwargs):
        other = bytes(reversed(data))  # the same size, other bytes, a new generation
        client.bucket(bucket).blob(session.object_name).upload_from_string(other)
        return add_upload(*args, **kwargs)

    monkeypatch.setattr(library, "add_upload", replaced_first)
    # Cloud Storage answers the pinned reads with 412; gcp-storage-emulator ignores
    # ifGenerationMatch on reads, and there the CRC32C of the checked generation refuses it.
    with pytest.raises(UploadRefused, match=r"refused the request|CRC32C"):
        finish_upload(client, library, session, media, owner=OWNER)
    assert library.items() == []
