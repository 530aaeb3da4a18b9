"""The real server in IAP mode (`streamlit run serve.py`, REELSCOPE_AUTH=iap), asked over HTTP.

IAP's keys are served from 127.0.0.1 (tests/iap_keys.py). A page request or a websocket
handshake without a valid assertion must be refused; with one, it goes through; health stays
open for the platform's probes.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from reelscope import media_server
from reelscope.library import library_dir
from reelscope.spool import Spool
from tests.app_server import ROOT, running_app
from tests.iap_keys import AUDIENCE, LocalIap, SigningKey, serving_keys

ADA, BOB = "ada@example.com", "bob@example.com"
SPOOFED = {
    "X-Goog-Authenticated-User-Email": "accounts.google.com:boss@example.com",
    "X-Goog-Authenticated-User-Id": "accounts.google.com:1",
}


@pytest.fixture(scope="module")
def iap() -> Iterator[LocalIap]:
    with serving_keys(LocalIap()) as served:
        yield served


COOKIE_SECRET = "iap-server-test-secret"  # the server's media links are signed from it
VIDEO = b"not really a video, served as bytes " * 100  # text: get() decodes answers


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("data")
    Spool(library_dir(data), max_bytes=10**6).put(VIDEO, "talk.mp4")  # a kept library file
    return data


@pytest.fixture(scope="module")
def app_url(
    iap: LocalIap, data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    env = {
        "REELSCOPE_AUTH": "iap",
        "REELSCOPE_IAP_AUDIENCE": AUDIENCE,
        "REELSCOPE_IAP_CERTS_URL": iap.certs_url,
        "REELSCOPE_DATA_DIR": str(data_dir),
        "STREAMLIT_SERVER_COOKIE_SECRET": COOKIE_SECRET,
    }
    with running_app(env, tmp_path_factory.mktemp("server") / "server.log") as url:
        yield url


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def websocket_handshake(url: str, headers: dict[str, str] | None = None) -> int:
    """The status Streamlit's websocket endpoint answers an upgrade with (101 = a session)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    upgrade = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
        "Sec-WebSocket-Version": "13",
        **(headers or {}),
    }
    try:
        connection.request("GET", "/_stcore/stream", headers=upgrade)
        return connection.getresponse().status
    finally:
        connection.close()


def test_health_answers_without_an_assertion(app_url):
    assert get(f"{app_url}/_stcore/health") == (200, "ok")


def test_the_page_is_refused_without_an_assertion(app_url):
    status, text = get(app_url)
    assert status == 401
    assert "Identity-Aware Proxy" in text


def test_iap_s_unsigned_headers_alone_are_refused(app_url):
    assert get(app_url, SPOOFED)[0] == 401


@pytest.mark.parametrize(
    "how",
    ["expired", "wrong audience", "wrong issuer", "bad signature"],
)
def test_an_invalid_assertion_gets_no_page(iap, app_url, how):
    assertion = {
        "expired": lambda: iap.assertion(issued_ago_s=900, lifetime_s=600),
        "wrong audience": lambda: iap.assertion(audience="/projects/1/global/backendServices/2"),
        "wrong issuer": lambda: iap.assertion(issuer="https://accounts.google.com"),
        "bad signature": lambda: iap.assertion(key=SigningKey(iap.key.kid)),
    }[how]()
    status, text = get(app_url, {"X-Goog-IAP-JWT-Assertion": assertion, **SPOOFED})
    assert status == 403
    assert "not valid" in text


def test_a_valid_assertion_gets_the_page(iap, app_url):
    status, text = get(app_url, {"X-Goog-IAP-JWT-Assertion": iap.assertion()})
    assert status == 200
    assert '<div id="root"></div>' in text  # Streamlit's index.html


def test_the_media_route_is_behind_the_gate_too(app_url):
    assert get(f"{app_url}/app/static/reelscope/any-token")[0] == 401


def test_a_media_link_plays_only_for_the_user_it_was_signed_for(iap, app_url):
    source = media_server.library_source(hashlib.sha256(VIDEO).hexdigest())
    token = media_server.sign(source, "video/mp4", media_server.link_key(COOKIE_SECRET), user=ADA)
    url = app_url + media_server.url_path(token)
    assert get(url, {"X-Goog-IAP-JWT-Assertion": iap.assertion(email=ADA)}) == (200, VIDEO.decode())
    status, text = get(url, {"X-Goog-IAP-JWT-Assertion": iap.assertion(email=BOB)})
    assert status == 403 and ADA not in text


def test_no_session_without_an_assertion(app_url):
    assert websocket_handshake(app_url) == 401
    assert websocket_handshake(app_url, SPOOFED) == 401


def test_no_session_with_an_expired_assertion(iap, app_url):
    expired = iap.assertion(issued_ago_s=900, lifetime_s=600)
    assert websocket_handshake(app_url, {"X-Goog-IAP-JWT-Assertion": expired}) == 403


def test_a_session_with_a_valid_assertion(iap, app_url):
    assert websocket_handshake(app_url, {"X-Goog-IAP-JWT-Assertion": iap.assertion()}) == 101


def test_iap_mode_without_an_audience_does_not_start(tmp_path):
    env = {**os.environ, "REELSCOPE_AUTH": "iap", "REELSCOPE_WARM_UP_UMAP": "false"}
    env.pop("REELSCOPE_IAP_AUDIENCE", None)
    env["REELSCOPE_DATA_DIR"] = str(tmp_path / "data")
    command = [sys.executable, "-m", "streamlit", "run", "serve.py", "--server.port", "1",
               "--server.address", "127.0.0.1", "--server.headless", "true"]  # fmt: skip
    ended = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert ended.returncode != 0
    assert "REELSCOPE_IAP_AUDIENCE" in ended.stdout + ended.stderr
