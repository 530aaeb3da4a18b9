"""The door in IAP mode: no verified user, no page, no session, no media.

An ASGI middleware around the whole app (serve.py adds it to `st.App`): every HTTP request and
every websocket handshake (Streamlit's `/_stcore/stream`, where a session is made) is answered
401 without an `X-Goog-IAP-JWT-Assertion`, 403 with one that does not verify, 503 while IAP's
keys cannot be fetched. What passes carries the verified user in Reelscope's own headers, which
a client cannot set: any it sent are removed first, on every path.

The open paths (Streamlit's health check) answer no data and make no session; Cloud Run's
probes and the container's HEALTHCHECK call them from inside, where there is no IAP to sign.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from reelscope.identity import (
    ASSERTION_HEADER,
    OWN_HEADERS,
    USER_EMAIL_HEADER,
    USER_SUBJECT_HEADER,
    IapVerifier,
    IdentityError,
    KeysUnavailable,
    MissingAssertion,
)

logger = logging.getLogger(__name__)

HEALTH_PATH = "/_stcore/health"
_OWN = frozenset(name.encode("latin-1") for name in OWN_HEADERS)
# What a refused caller reads. The details (an audience, a key id) go to the log only.
REFUSALS = {
    MissingAssertion: "Sign-in required: this Reelscope is served behind Identity-Aware Proxy. "
    "Open it at its IAP-protected address.",
    KeysUnavailable: "Reelscope cannot verify who you are right now (IAP's public keys could "
    "not be fetched). Try again in a minute.",
}
REFUSED = "Reelscope could not verify who you are: the request's IAP assertion is not valid."


def open_paths(base_url_path: str) -> frozenset[str]:
    """The paths answered without a user, under Streamlit's `server.baseUrlPath`."""
    base = "/" + base_url_path.strip("/") if base_url_path.strip("/") else ""
    return frozenset({base + HEALTH_PATH})


class IapGate:
    """Starlette/ASGI middleware: `Middleware(IapGate, verifier=…, open_paths=…)`."""

    def __init__(self, app: ASGIApp, verifier: IapVerifier, open_paths: Collection[str]) -> None:
        self.app = app
        self.verifier = verifier
        self.open_paths = frozenset(open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)  # lifespan
            return
        headers = [(name, value) for name, value in scope["headers"] if name.lower() not in _OWN]
        if scope["path"] not in self.open_paths:
            try:
                # Off the event loop: a fetch of IAP's keys (rare, cached) must not stall it.
                user = await run_in_threadpool(
                    self.verifier.verify, Headers(scope=scope).get(ASSERTION_HEADER)
                )
            except IdentityError as refused:
                logger.warning("Refused %s %s: %s", scope["type"], scope["path"], refused)
                await _refuse(scope, receive, send, refused)
                return
            headers += [
                (USER_EMAIL_HEADER.encode("latin-1"), user.email.encode("utf-8")),
                (USER_SUBJECT_HEADER.encode("latin-1"), user.subject.encode("utf-8")),
            ]
        await self.app({**scope, "headers": headers}, receive, send)


async def _refuse(scope: Scope, receive: Receive, send: Send, refused: IdentityError) -> None:
    answer = PlainTextResponse(
        REFUSALS.get(type(refused), REFUSED) + "\n",
        status_code=refused.status,
        headers={"Cache-Control": "no-store"},
    )
    if scope["type"] == "http":
        await answer(scope, receive, send)
        return
    websocket = WebSocket(scope, receive, send)
    if "websocket.http.response" in scope.get("extensions", {}):
        await websocket.send_denial_response(answer)  # the status and text, as for HTTP
    else:
        await websocket.close(code=1008)  # the server answers the handshake 403
