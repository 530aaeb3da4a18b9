"""Who is using Reelscope: the one local user, or a user verified from IAP's signed assertion.

Behind Identity-Aware Proxy every request carries `X-Goog-IAP-JWT-Assertion`, a JWT that IAP
signs (ES256) for this service's audience. It is verified here with google-auth against IAP's
public keys; the unsigned `X-Goog-Authenticated-User-Email` is never read, since anything that
reaches the container past IAP can write it. `reelscope/iap_gate.py` verifies each HTTP request
and websocket handshake and passes the verified user on in headers of its own, which the page
reads (`user_from_headers`): the assertion lives at most ten minutes, a session's websocket up
to an hour, so the page must not verify the handshake's assertion again later.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import google.auth.exceptions
import google.auth.jwt
import google.auth.transport
from google.oauth2 import id_token

from reelscope.settings import (
    AUTH_IAP,
    AUTH_LOCAL,
    AUTH_OIDC,
    DEFAULT_IAP_CERTS_URL,
    ENV_AUTH,
    ENV_IAP_AUDIENCE,
    ENV_IAP_CERTS_URL,
    Settings,
)
from reelscope.sign_in import SignInCookie
from reelscope.tasks import LOCAL_OWNER

ASSERTION_HEADER = "x-goog-iap-jwt-assertion"
# Written by the gate once it has verified the assertion, after removing any a client sent.
USER_EMAIL_HEADER = "x-reelscope-user-email"
USER_SUBJECT_HEADER = "x-reelscope-user-subject"
OWN_HEADERS = (USER_EMAIL_HEADER, USER_SUBJECT_HEADER)

# Google's "Securing your app with signed headers": alg ES256, iss https://cloud.google.com/iap,
# exp and iat checked with 30 s of clock skew.
IAP_ISSUER = "https://cloud.google.com/iap"
IAP_ALGORITHM = "ES256"
CLOCK_SKEW_S = 30
# The audiences IAP signs for: a backend service (load balancer), Cloud Run with IAP on the
# service itself, App Engine. The project is named by number: a project id here never matches.
AUDIENCE_PATTERN = re.compile(
    r"/projects/\d+/(global/backendServices/\d+|locations/[a-z0-9-]+/services/[^/\s]+"
    r"|apps/[^/\s]+)"
)
CERTS_TTL_S = 3600.0  # IAP rotates its keys now and then; an unknown key id refetches sooner
CERTS_REFETCH_AFTER_S = 60.0  # at most one refetch a minute for unknown key ids
CERTS_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class User:
    """A verified user: the email IAP signed in, and its stable subject (accounts.google.com:…)."""

    email: str
    subject: str


class IdentityError(Exception):
    """A request whose user cannot be verified. `status` is the HTTP answer it deserves."""

    status = 403


class MissingAssertion(IdentityError):
    status = 401


class InvalidAssertion(IdentityError):
    status = 403


class KeysUnavailable(IdentityError):
    """IAP's public keys could not be fetched: nobody can be verified, nobody is let in."""

    status = 503


class AuthConfigError(ValueError):
    """Settings that would let the server start without knowing who its users are."""


def check_auth_settings(settings: Settings) -> IapVerifier | None:
    """The verifier IAP mode needs, None in local and OIDC modes (st.login checks its own
    section: reelscope/sign_in.py); refuses settings that make no sense.

    An unknown mode is refused rather than read as "local": a typo must not open the studio to
    everyone as its one user.
    """
    if settings.auth in (AUTH_LOCAL, AUTH_OIDC):
        return None
    if settings.auth != AUTH_IAP:
        raise AuthConfigError(
            f"{ENV_AUTH}={settings.auth!r} is not a mode Reelscope knows: use {AUTH_LOCAL!r} "
            f"(one local user), {AUTH_IAP!r} (behind Identity-Aware Proxy) or {AUTH_OIDC!r} "
            "(st.login with the OpenID Connect provider in secrets.toml's [auth])."
        )
    audience = settings.iap_audience or ""
    if not AUDIENCE_PATTERN.fullmatch(audience):
        raise AuthConfigError(
            f"{ENV_AUTH}=iap needs {ENV_IAP_AUDIENCE}, the audience IAP signs for: "
            "/projects/PROJECT_NUMBER/locations/REGION/services/SERVICE for IAP on a Cloud Run "
            "service, /projects/PROJECT_NUMBER/global/backendServices/SERVICE_ID behind a load "
            f"balancer (the project's number, not its id). Got {audience!r}."
        )
    return IapVerifier(audience, settings.iap_certs_url)


def user_from_headers(headers: Mapping[str, str]) -> User | None:
    """The user the gate verified for this connection, None when no gate put one there."""
    lowered = {name.lower(): value for name, value in headers.items()}
    email = lowered.get(USER_EMAIL_HEADER, "").strip()
    if not email:
        return None
    return User(email=email, subject=lowered.get(USER_SUBJECT_HEADER, "").strip())


def acting_user(
    auth: str,
    headers: Mapping[str, str],
    cookies: Mapping[str, str] | None = None,
    sign_in: SignInCookie | None = None,
) -> str | None:
    """Who a request acts for: locally the one local user; behind IAP the email the gate
    verified; with OIDC the user st.login signed into its cookie. None when nobody verified
    one: act for nobody, never for the local user."""
    if auth == AUTH_LOCAL:
        return LOCAL_OWNER
    if auth == AUTH_OIDC:
        return sign_in.user(cookies or {}) if sign_in is not None else None
    user = user_from_headers(headers)
    return user.email if user is not None else None


class IapVerifier:
    """Verifies IAP assertions for one audience. Thread-safe; keeps IAP's keys for an hour."""

    def __init__(
        self,
        audience: str,
        certs_url: str,
        *,
        transport: google.auth.transport.Request | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if transport is None:
            import google.auth.transport.requests  # needs `requests`: imported only when used

            transport = google.auth.transport.requests.Request()
        self.audience = audience
        self.certs_url = certs_url
        self._keys = _CachedKeys(transport, clock)

    def verify(self, assertion: str | None) -> User:
        """The assertion's user, or a MissingAssertion, InvalidAssertion or KeysUnavailable."""
        if not assertion or not assertion.strip():
            raise MissingAssertion(
                "No X-Goog-IAP-JWT-Assertion header: this Reelscope is served behind "
                "Identity-Aware Proxy; open it at its IAP-protected address."
            )
        assertion = assertion.strip()
        try:
            header = google.auth.jwt.decode_header(assertion)
        except (ValueError, TypeError) as error:
            raise InvalidAssertion(f"The IAP assertion is not a JWT: {error}") from error
        if header.get("alg") != IAP_ALGORITHM:
            raise InvalidAssertion(
                f"The IAP assertion is signed with {header.get('alg')!r}; IAP signs with "
                f"{IAP_ALGORITHM}."
            )
        # verify_token looks the key up by the header's key id; a new IAP key refetches first.
        if header.get("kid") not in self._keys.get(self.certs_url, refresh_if_stale=True):
            self._keys.refetch(self.certs_url)
        try:
            claims = id_token.verify_token(
                assertion,
                self._keys.as_transport(),
                audience=self.audience,
                certs_url=self.certs_url,
                clock_skew_in_seconds=CLOCK_SKEW_S,
            )
        except ValueError as error:  # google-auth's MalformedError and InvalidValue
            raise InvalidAssertion(f"The IAP assertion was refused: {error}") from error
        if claims.get("iss") != IAP_ISSUER:
            raise InvalidAssertion(
                f"The assertion was issued by {claims.get('iss')!r}, not by IAP ({IAP_ISSUER})."
            )
        email = claims.get("email")
        if not isinstance(email, str) or not email.strip():
            raise InvalidAssertion("The IAP assertion names no email.")
        return User(email=email.strip(), subject=str(claims.get("sub", "")))


class _StoredResponse(google.auth.transport.Response):
    def __init__(self, status: int, headers: Mapping[str, str], data: bytes) -> None:
        self._status, self._headers, self._data = status, dict(headers), data

    @property
    def status(self) -> int:
        return self._status

    @property
    def headers(self) -> Mapping[str, str]:
        return self._headers

    @property
    def data(self) -> bytes:
        return self._data


class _CachedKeys:
    """IAP's keys by URL, fetched at most once an hour, or a minute after an unknown key id.

    verify_token fetches its certs on every call; a gate that verifies every request must not.
    """

    def __init__(self, transport: google.auth.transport.Request, clock: Callable[[], float]):
        self._transport, self._clock = transport, clock
        self._lock = threading.Lock()
        self._fetched: dict[str, tuple[float, _StoredResponse]] = {}
        self._forced: dict[str, float] = {}  # when each URL was last fetched for a new key id

    def get(self, url: str, *, refresh_if_stale: bool) -> Mapping[str, object]:
        """The key ids and keys at `url` (fetched when missing or an hour old)."""
        response = self._response(url, max_age_s=CERTS_TTL_S if refresh_if_stale else None)
        try:
            keys = json.loads(response.data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise KeysUnavailable(f"IAP's public keys at {url} are not JSON: {error}") from error
        if not isinstance(keys, dict):
            raise KeysUnavailable(f"IAP's public keys at {url} are not a JSON object.")
        if isinstance(keys.get("keys"), list):  # google-auth reads that form only with PyJWT
            raise KeysUnavailable(
                f"{url} serves IAP's keys as a JWK set; Reelscope reads them as PEM "
                f"({{key id: key}}): set {ENV_IAP_CERTS_URL} to {DEFAULT_IAP_CERTS_URL}."
            )
        return keys

    def refetch(self, url: str) -> None:
        """Fetch again for a key id not seen yet, unless that was done in the last minute:
        assertions with made-up key ids must not make every request a fetch."""
        with self._lock:
            last = self._forced.get(url)
            if last is not None and self._clock() - last < CERTS_REFETCH_AFTER_S:
                return
            self._forced[url] = self._clock()
        self._response(url, max_age_s=0)

    def as_transport(self) -> google.auth.transport.Request:
        def request(url: str, method: str = "GET", **_kwargs: object) -> _StoredResponse:
            return self._response(url, max_age_s=None)

        return request  # type: ignore[return-value]  # google-auth calls it like a Request

    def _response(self, url: str, *, max_age_s: float | None) -> _StoredResponse:
        with self._lock:  # one fetch at a time: a burst of requests waits for the same keys
            now = self._clock()
            kept = self._fetched.get(url)
            if kept and (max_age_s is None or now - kept[0] < max_age_s):
                return kept[1]
            try:
                fetched = self._transport(url, method="GET", timeout=CERTS_TIMEOUT_S)
            except google.auth.exceptions.TransportError as error:
                raise KeysUnavailable(f"IAP's public keys could not be fetched: {error}") from error
            if fetched.status != 200:
                raise KeysUnavailable(f"IAP's public keys at {url} answered {fetched.status}.")
            stored = _StoredResponse(fetched.status, fetched.headers, fetched.data)
            self._fetched[url] = (now, stored)
            return stored
