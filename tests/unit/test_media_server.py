"""The media route over real HTTP semantics (Starlette's TestClient): tokens, ranges, confinement.

Local files come from the media library's real folder; gs:// objects from gcp-storage-emulator
through the real google-cloud-storage client.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from reelscope import media_server
from reelscope.library import library_dir
from reelscope.media_server import MediaLinkError, RangeNotSatisfiable, parse_range, sign, verify
from reelscope.settings import Settings
from reelscope.spool import Spool
from reelscope.tasks import LOCAL_OWNER
from reelscope.vertex import make_storage_client

KEY = media_server.link_key("test secret")
SIZE = 3 * 1024 * 1024 + 123  # over three storage read chunks, not a multiple of any


@pytest.fixture(scope="module")
def payload() -> bytes:
    return os.urandom(SIZE)


@pytest.fixture
def settings(tmp_path: Path, storage_emulator: str) -> Settings:
    return Settings(
        project="test-project", data_dir=tmp_path / "data", storage_emulator_host=storage_emulator
    )


@pytest.fixture
def client(settings: Settings) -> TestClient:
    app = Starlette(routes=media_server.routes(KEY, lambda: settings, "rs"))
    return TestClient(app)


@pytest.fixture
def spooled(settings: Settings, payload: bytes) -> Path:
    """The bytes as the media library keeps them: in its folder, by content hash."""
    spool = Spool(library_dir(settings.data_dir), max_bytes=10 * SIZE)
    return spool.put(payload, "talk.mp4").path


@pytest.fixture
def gs_uri(settings: Settings, payload: bytes) -> str:
    storage = make_storage_client(settings)
    bucket = storage.create_bucket(f"media-{uuid.uuid4().hex[:12]}")
    bucket.blob("reelscope/talk.mp4").upload_from_string(payload, content_type="video/mp4")
    return f"gs://{bucket.name}/reelscope/talk.mp4"


def url(source: str, mime_type: str = "video/mp4", **kwargs) -> str:
    return media_server.url_path(sign(source, mime_type, KEY, user=LOCAL_OWNER, **kwargs), "rs")


@pytest.fixture
def spooled_source(spooled: Path, payload: bytes) -> str:
    return media_server.library_source(hashlib.sha256(payload).hexdigest())


@pytest.fixture(params=["local", "gcs"])
def media(request, spooled_source: str) -> str:
    """The same bytes as a library file and a gs:// object: both behave alike."""
    if request.param == "local":
        return url(spooled_source)
    return url(request.getfixturevalue("gs_uri"))


def test_whole_file_is_served_with_its_type_and_range_support(client, media, payload):
    answer = client.get(media)
    assert answer.status_code == 200
    assert answer.content == payload
    assert answer.headers["content-type"] == "video/mp4"
    assert answer.headers["accept-ranges"] == "bytes"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-0", 0, 0),
        ("bytes=1000-1999", 1000, 1999),
        ("bytes=2000000-", 2000000, SIZE - 1),  # open-ended, as a browser seeks
        ("bytes=-500", SIZE - 500, SIZE - 1),  # suffix: the last 500 bytes
        (f"bytes={SIZE - 10}-{SIZE + 5000}", SIZE - 10, SIZE - 1),  # end past the object
    ],
)
def test_ranges_answer_206_with_exactly_those_bytes(client, media, payload, header, start, end):
    answer = client.get(media, headers={"Range": header})
    assert answer.status_code == 206
    assert answer.headers["content-range"] == f"bytes {start}-{end}/{SIZE}"
    assert int(answer.headers["content-length"]) == end - start + 1
    assert answer.content == payload[start : end + 1]


@pytest.mark.parametrize("header", [f"bytes={SIZE}-", f"bytes={SIZE + 10}-{SIZE + 20}"])
def test_range_past_the_end_is_416_with_the_size(client, media, header):
    answer = client.get(media, headers={"Range": header})
    assert answer.status_code == 416
    assert answer.headers["content-range"] == f"bytes */{SIZE}"


def test_head_gives_the_length_without_a_body(client, media):
    answer = client.head(media, headers={"Range": "bytes=10-19"})
    assert answer.status_code == 206
    assert answer.headers["content-length"] == "10"
    assert answer.content == b""


def test_tampered_token_is_refused(client, spooled_source):
    token = sign(spooled_source, "video/mp4", KEY, user=LOCAL_OWNER)
    payload_text, mac = token.split(".")
    other = sign(spooled_source + "x", "video/mp4", KEY, user=LOCAL_OWNER).split(".")[0]
    # The MAC's first character changed: its last ones may carry bits base64 decoding drops
    # (a MAC ending "…AA" made "…AA" no change at all, in ~1 of 256 tokens).
    flipped = ("B" if mac[0] == "A" else "A") + mac[1:]
    for forged in (f"{other}.{mac}", f"{payload_text}.{flipped}", "garbage", "a.b.c"):
        answer = client.get(media_server.url_path(forged, "rs"))
        assert answer.status_code == 403, forged
    foreign = media_server.link_key("another server")
    answer = client.get(
        media_server.url_path(sign(spooled_source, "video/mp4", foreign, user=LOCAL_OWNER), "rs")
    )
    assert answer.status_code == 403


def test_expired_token_is_refused(client, spooled_source):
    old = time.time() - media_server.DEFAULT_TTL_S - 2 * media_server.TOKEN_BUCKET_S
    answer = client.get(url(spooled_source, now=old))
    assert answer.status_code == 403
    assert "expired" in answer.text


def test_files_outside_the_library_are_refused_even_when_signed(
    client, settings, tmp_path, spooled
):
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the browser")
    escape = library_dir(settings.data_dir) / ("e" * 64)
    escape.symlink_to(secret)
    # Sources the UI never makes, signed anyway (as if the key leaked): still refused.
    for source in (
        str(secret),
        "media:../../secret.txt",
        "media:" + "e" * 64,
        "/etc/hostname",
        "spool:../../secret.txt",
        "media:../media/" + "0" * 55,
    ):
        answer = client.get(url(source))
        assert answer.status_code in (403, 404), source
        assert "not for the browser" not in answer.text
    with pytest.raises(MediaLinkError):
        media_server.library_source("../" + "0" * 61)


def test_library_files_are_served_by_hash_only_and_a_missing_one_says_what_to_do(
    client, spooled_source
):
    assert client.get(url(spooled_source)).status_code == 200
    assert client.get(url(spooled_source.upper().replace("MEDIA:", "media:"))).status_code == 403
    answer = client.get(url("media:" + "0" * 64))
    assert answer.status_code == 404 and "add it again" in answer.text


def test_links_name_no_server_path(spooled_source, spooled):
    token = sign(spooled_source, "video/mp4", KEY, user=LOCAL_OWNER)
    assert str(spooled.parent) not in media_server._unb64(token.split(".")[0]).decode()


def test_missing_object_is_404_with_the_reason(client, gs_uri):
    answer = client.get(url(gs_uri + ".gone"))
    assert answer.status_code == 404
    assert "does not exist" in answer.text


def test_a_seek_in_a_long_object_reads_only_its_range(client, gs_uri, payload):
    """A closed range far into the object comes back alone: no whole-object download."""
    answer = client.get(url(gs_uri), headers={"Range": "bytes=3000000-3000099"})
    assert answer.status_code == 206
    assert len(answer.content) == 100
    assert answer.content == payload[3000000:3000100]


def test_same_source_signs_to_the_same_token_within_the_hour():
    now = 1_800_000_000.0
    first = sign("gs://b/o.mp4", "video/mp4", KEY, user=LOCAL_OWNER, now=now)
    assert sign("gs://b/o.mp4", "video/mp4", KEY, user=LOCAL_OWNER, now=now + 10) == first
    assert sign("gs://b/o.mp4", "video/mp4", KEY, user=LOCAL_OWNER, now=now + 3600) != first
    media = verify(first, KEY, now=now + media_server.DEFAULT_TTL_S)
    assert (media.source, media.mime_type) == ("gs://b/o.mp4", "video/mp4")


def test_only_media_types_are_signed():
    with pytest.raises(MediaLinkError):
        sign("/x", "text/html", KEY, user=LOCAL_OWNER)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-99", (0, 99)),
        ("bytes=0-9, 50-59", (0, 59)),  # coalesced into one span
        ("bytes=-0", "416"),
        ("bytes=5-2", None),  # not a valid range: ignored, the whole object is sent
        ("items=0-9", None),
        ("bytes=abc", None),
    ],
)
def test_parse_range(header, expected):
    if expected == "416":
        with pytest.raises(RangeNotSatisfiable):
            parse_range(header, 1000)
    else:
        assert parse_range(header, 1000) == expected


@pytest.fixture
def capped(settings: Settings) -> TestClient:
    app = Starlette(routes=media_server.routes(KEY, lambda: settings, "rs", max_range_bytes=1000))
    return TestClient(app)


def test_long_ranges_are_answered_in_bounded_parts(capped, media, payload):
    """ "bytes=N-" (how a browser seeks) gets at most the cap; the browser asks on from there."""
    answer = capped.get(media, headers={"Range": "bytes=5000-"})
    assert answer.status_code == 206
    assert answer.headers["content-range"] == f"bytes 5000-5999/{SIZE}"
    assert answer.content == payload[5000:6000]
    short = capped.get(media, headers={"Range": "bytes=10-19"})
    assert short.headers["content-range"] == f"bytes 10-19/{SIZE}"  # short ranges as asked
    assert len(capped.get(media).content) == SIZE  # no Range: a plain download, whole
