"""Media links are bound to their user: the real media route behind the real IAP gate answers a
token only to the user it was signed for.

IAP's side is played by tests/iap_keys.py (ES256 assertions, keys served over HTTP on
127.0.0.1); the gate verifies each request with google-auth and passes the user on in its own
headers, which the route reads. The file is a real library file, in the library's folder.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.testclient import TestClient

from reelscope import media_server
from reelscope.iap_gate import IapGate, open_paths
from reelscope.identity import USER_EMAIL_HEADER, IapVerifier
from reelscope.library import library_dir
from reelscope.settings import AUTH_IAP, Settings
from reelscope.spool import Spool
from reelscope.tasks import LOCAL_OWNER
from tests.iap_keys import AUDIENCE, LocalIap, serving_keys

KEY = media_server.link_key("test secret")
ANN, BOB = "ann@example.com", "bob@example.com"
PAYLOAD = os.urandom(64 * 1024)


@pytest.fixture(scope="module")
def iap() -> Iterator[LocalIap]:
    with serving_keys(LocalIap()) as served:
        yield served


def kept_file(data_dir: Path) -> str:
    """A file the media library keeps; its route source (media:<sha256>)."""
    Spool(library_dir(data_dir), max_bytes=10**7).put(PAYLOAD, "talk.mp4")
    return media_server.library_source(hashlib.sha256(PAYLOAD).hexdigest())


@pytest.fixture
def gated(iap: LocalIap, tmp_path: Path) -> Iterator[TestClient]:
    """The media route behind the IAP gate, as serve.py mounts them in IAP mode."""
    settings = Settings(
        data_dir=tmp_path / "data", auth=AUTH_IAP, iap_audience=AUDIENCE,
        iap_certs_url=iap.certs_url,
    )  # fmt: skip
    gate = Middleware(
        IapGate, verifier=IapVerifier(AUDIENCE, iap.certs_url), open_paths=open_paths("")
    )
    app = Starlette(routes=media_server.routes(KEY, lambda: settings), middleware=[gate])
    with TestClient(app) as client:
        yield client


def link(source: str, user: str) -> str:
    return media_server.url_path(media_server.sign(source, "video/mp4", KEY, user=user))


def as_user(iap: LocalIap, email: str, **extra: str) -> dict[str, str]:
    return {"X-Goog-IAP-JWT-Assertion": iap.assertion(email=email), **extra}


def test_a_link_plays_for_the_user_it_was_signed_for(gated, iap, tmp_path):
    anns = link(kept_file(tmp_path / "data"), ANN)
    answer = gated.get(anns, headers=as_user(iap, ANN, Range="bytes=0-99"))
    assert answer.status_code == 206 and answer.content == PAYLOAD[:100]


def test_another_verified_user_is_refused_and_told_nothing_about_it(gated, iap, tmp_path):
    anns = link(kept_file(tmp_path / "data"), ANN)
    for method in (gated.get, gated.head):
        answer = method(anns, headers=as_user(iap, BOB))
        assert answer.status_code == 403
        assert ANN not in answer.text and "talk" not in answer.text
        assert PAYLOAD[:16] not in answer.content
        assert answer.headers["cache-control"] == "no-store"


def test_bob_cannot_pass_for_ann_by_sending_the_gates_header(gated, iap, tmp_path):
    anns = link(kept_file(tmp_path / "data"), ANN)
    # The gate removes a client's own X-Reelscope-User-Email before adding the verified one.
    answer = gated.get(anns, headers=as_user(iap, BOB, **{USER_EMAIL_HEADER: ANN}))
    assert answer.status_code == 403
    assert gated.get(anns, headers={USER_EMAIL_HEADER: ANN}).status_code == 401


def test_the_user_in_a_token_cannot_be_rewritten(gated, iap, tmp_path):
    source = kept_file(tmp_path / "data")
    anns = media_server.sign(source, "video/mp4", KEY, user=ANN)
    mac = anns.split(".")[1]
    bobs_payload = media_server.sign(source, "video/mp4", KEY, user=BOB).split(".")[0]
    forged = media_server.url_path(f"{bobs_payload}.{mac}")
    assert gated.get(forged, headers=as_user(iap, BOB)).status_code == 403
    assert media_server.verify(anns, KEY).user == ANN


def test_locally_the_one_local_user_plays_its_links_and_no_one_elses(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")  # auth: local, as `make run`
    source = kept_file(settings.data_dir)
    client = TestClient(Starlette(routes=media_server.routes(KEY, lambda: settings)))
    assert client.get(link(source, LOCAL_OWNER)).content == PAYLOAD
    assert client.get(link(source, ANN)).status_code == 403


def test_a_link_signed_for_nobody_is_not_made():
    for nobody in ("", "ann@example.com\nmedia:x"):
        with pytest.raises(media_server.MediaLinkError):
            media_server.sign("gs://b/o.mp4", "video/mp4", KEY, user=nobody)
