"""The IAP gate around a small Starlette app that shows what reached it (HTTP and websocket)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocket

from reelscope.iap_gate import IapGate, open_paths
from reelscope.identity import IapVerifier
from tests.iap_keys import AUDIENCE, LocalIap, serving_keys

SPOOFED = {"X-Goog-Authenticated-User-Email": "accounts.google.com:boss@example.com"}


async def who(request: Request) -> JSONResponse:
    return JSONResponse({name: request.headers.get(name) for name in HEADERS})


async def health(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def stream(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({name: websocket.headers.get(name) for name in HEADERS})
    await websocket.close()


HEADERS = ("x-reelscope-user-email", "x-reelscope-user-subject")


@pytest.fixture
def iap() -> Iterator[LocalIap]:
    with serving_keys(LocalIap()) as served:
        yield served


@pytest.fixture
def client(iap: LocalIap) -> Iterator[TestClient]:
    gate = Middleware(
        IapGate, verifier=IapVerifier(AUDIENCE, iap.certs_url), open_paths=open_paths("")
    )
    routes = [
        Route("/", who),
        Route("/_stcore/health", health),
        WebSocketRoute("/_stcore/stream", stream),
    ]
    with TestClient(Starlette(routes=routes, middleware=[gate])) as test_client:
        yield test_client


def test_a_verified_user_reaches_the_app(iap, client):
    answer = client.get("/", headers={"X-Goog-IAP-JWT-Assertion": iap.assertion()})
    assert answer.status_code == 200
    assert answer.json() == {
        "x-reelscope-user-email": "ada@example.com",
        "x-reelscope-user-subject": "accounts.google.com:1001",
    }


def test_no_assertion_no_page(client):
    answer = client.get("/")
    assert answer.status_code == 401
    assert "Identity-Aware Proxy" in answer.text
    assert answer.headers["cache-control"] == "no-store"


def test_iap_s_unsigned_email_header_alone_is_refused(client):
    assert client.get("/", headers=SPOOFED).status_code == 401


def test_an_invalid_assertion_is_a_403_that_shows_no_details(iap, client):
    expired = iap.assertion(issued_ago_s=900, lifetime_s=600)
    answer = client.get("/", headers={"X-Goog-IAP-JWT-Assertion": expired})
    assert answer.status_code == 403
    assert "not valid" in answer.text
    assert AUDIENCE not in answer.text and "expired" not in answer.text


def test_a_client_cannot_name_itself_past_the_gate(iap, client):
    forged = {
        "X-Goog-IAP-JWT-Assertion": iap.assertion(email="ada@example.com"),
        "X-Reelscope-User-Email": "boss@example.com",
        "X-Reelscope-User-Subject": "accounts.google.com:1",
    }
    seen = client.get("/", headers=forged).json()
    assert seen["x-reelscope-user-email"] == "ada@example.com"
    assert seen["x-reelscope-user-subject"] == "accounts.google.com:1001"


def test_health_stays_open_and_carries_no_user(client):
    answer = client.get("/_stcore/health", headers={"X-Reelscope-User-Email": "boss@example.com"})
    assert (answer.status_code, answer.text) == (200, "ok")


def test_a_websocket_without_an_assertion_gets_no_session(client):
    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        client.websocket_connect("/_stcore/stream", headers=SPOOFED),
    ):
        pass
    assert denied.value.status_code == 401


def test_a_websocket_with_a_bad_assertion_is_denied(iap, client):
    wrong = iap.assertion(audience="/projects/1/locations/us-central1/services/other")
    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        client.websocket_connect("/_stcore/stream", headers={"X-Goog-IAP-JWT-Assertion": wrong}),
    ):
        pass
    assert denied.value.status_code == 403


def test_a_verified_websocket_carries_its_user(iap, client):
    headers = {"X-Goog-IAP-JWT-Assertion": iap.assertion(email="grace@example.com")}
    with client.websocket_connect("/_stcore/stream", headers=headers) as websocket:
        assert websocket.receive_json()["x-reelscope-user-email"] == "grace@example.com"


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("", "/_stcore/health"),
        ("/studio/", "/studio/_stcore/health"),
        ("studio", "/studio/_stcore/health"),
    ],
)
def test_the_health_path_follows_the_base_url_path(base, expected):
    assert open_paths(base) == {expected}
