"""A local OpenID Connect provider for st.login: discovery, authorize, token and keys, over HTTP.

It does what a provider does for the authorization-code flow Streamlit runs through Authlib:
publishes its metadata at /.well-known/openid-configuration; /authorize checks the client and
redirect URI and sends the browser back with a one-time code and the state (the user "agrees"
at once, as `user` says); /token takes that code with the client's secret and answers an ID
token signed with RS256, carrying the nonce /authorize was given; /jwks serves the public key.
Nothing is faked on Reelscope's side: Authlib verifies the signature, issuer, audience and
nonce itself.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "reelscope-test"
CLIENT_SECRET = "a-client-secret-for-the-tests-only"
KEY_ID = "test-key-1"
TOKEN_LIFETIME_S = 600


@dataclass
class Grant:
    """What /authorize was asked, kept for /token under its one-time code."""

    redirect_uri: str
    nonce: str | None
    claims: dict[str, object]


@dataclass
class ProviderLog:
    nonces_asked: list[str | None] = field(default_factory=list)
    nonces_signed: list[str | None] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


class OidcProvider:
    """Serves on 127.0.0.1 in a thread; a context manager."""

    def __init__(self, user: dict[str, object] | None = None) -> None:
        self.user: dict[str, object] = user or {
            "sub": "user-ana",
            "email": "ana@example.com",
            "email_verified": True,
            "name": "Ana",
        }
        self.redirect_uris: set[str] = set()
        self.log = ProviderLog()
        self._key = RSAKey.generate_key(
            2048, parameters={"kid": KEY_ID, "use": "sig", "alg": "RS256"}
        )
        self._grants: dict[str, Grant] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def issuer(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def __enter__(self) -> OidcProvider:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def metadata(self) -> dict[str, object]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def jwks(self) -> dict[str, object]:
        return {"keys": [self._key.as_dict(private=False)]}

    def authorize(self, query: dict[str, str]) -> str:
        """The URL the browser is sent back to, with a code; ValueError for a bad request."""
        if query.get("client_id") != CLIENT_ID:
            raise ValueError("unknown client_id")
        if query.get("response_type") != "code":
            raise ValueError("response_type must be code")
        redirect_uri = query.get("redirect_uri", "")
        if redirect_uri not in self.redirect_uris:
            raise ValueError(f"redirect_uri {redirect_uri!r} is not registered")
        nonce = query.get("nonce")
        code = secrets.token_urlsafe(16)
        with self._lock:
            self.log.nonces_asked.append(nonce)
            self._grants[code] = Grant(redirect_uri, nonce, dict(self.user))
        back = {"code": code, "state": query.get("state", "")}
        return f"{redirect_uri}?{urlencode(back)}"

    def token(self, form: dict[str, str], authorization: str | None) -> dict[str, object]:
        client_id, client_secret = _client_credentials(form, authorization)
        if client_id != CLIENT_ID or client_secret != CLIENT_SECRET:
            raise ValueError("invalid_client")
        if form.get("grant_type") != "authorization_code":
            raise ValueError("unsupported_grant_type")
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)  # one use only
        if grant is None or form.get("redirect_uri") != grant.redirect_uri:
            raise ValueError("invalid_grant")
        now = int(time.time())
        claims = {
            **grant.claims,
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + TOKEN_LIFETIME_S,
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        with self._lock:
            self.log.nonces_signed.append(grant.nonce)
        id_token = jwt.encode({"alg": "RS256", "kid": KEY_ID}, claims, self._key)
        return {
            "access_token": secrets.token_urlsafe(24),
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_S,
            "id_token": id_token,
        }


def _client_credentials(form: dict[str, str], authorization: str | None) -> tuple[str, str]:
    if authorization and authorization.lower().startswith("basic "):
        decoded = base64.b64decode(authorization.split(" ", 1)[1]).decode()
        client_id, _, client_secret = decoded.partition(":")
        return client_id, client_secret
    return form.get("client_id", ""), form.get("client_secret", "")


def _handler(provider: OidcProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:  # quiet: the tests read provider.log
            return

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/.well-known/openid-configuration":
                self._json(200, provider.metadata())
            elif url.path == "/jwks":
                self._json(200, provider.jwks())
            elif url.path == "/authorize":
                try:
                    location = provider.authorize(query)
                except ValueError as problem:
                    provider.log.refused.append(str(problem))
                    self._json(400, {"error": "invalid_request", "detail": str(problem)})
                    return
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            if urlsplit(self.path).path != "/token":
                self._json(404, {"error": "not_found"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            form = {k: v[0] for k, v in parse_qs(body).items()}
            try:
                answer = provider.token(form, self.headers.get("Authorization"))
            except ValueError as problem:
                provider.log.refused.append(str(problem))
                self._json(400, {"error": str(problem)})
                return
            self._json(200, answer)

        def _json(self, status: int, body: dict[str, object]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

    return Handler
