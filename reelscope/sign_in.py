"""Sign-in with an OpenID Connect provider (REELSCOPE_AUTH=oidc): Reelscope outside Google Cloud.

Streamlit's `st.login` does the OpenID Connect flow (Authlib: discovery, the authorization
code, the ID token checked against the provider's keys, its nonce) and keeps the user's claims
in a cookie it signs, `_streamlit_user`. Pages read them as `st.user`. The media route is a
plain HTTP route that `st.user` does not reach, so it reads the same cookie here, checked the
way Streamlit checks it: itsdangerous's timed serializer keyed by the cookie secret, salted
with the cookie's name, and the origin of the redirect URI written in it. A link without that
cookie, or with another user's, is refused.

Streamlit's cookie format is not a public API: tests/e2e/test_sign_in.py signs in through a
real provider in Chromium and plays a file, so a change in it fails there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import urlparse

from itsdangerous import BadData, URLSafeTimedSerializer

from reelscope.settings import AUTH_OIDC, ENV_AUTH

USER_COOKIE = "_streamlit_user"
# Streamlit keeps the sign-in 30 days and accepts its cookie a day longer.
COOKIE_MAX_AGE_S = 31 * 24 * 3600
REQUIRED_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret")
METADATA_KEY = "server_metadata_url"
CALLBACK_PATH = "/oauth2callback"
MIN_SECRET_CHARS = 32


class SignInConfigError(ValueError):
    """An [auth] section st.login cannot sign anyone in with."""


def check_auth_section(section: Mapping[str, object] | None, port: int) -> SignInCookie:
    """The cookie reader for this [auth] section of secrets.toml, on a server at `port` (a
    redirect URI may say `{port}`, as Streamlit allows); refuses a section that is missing or
    incomplete, saying what to write."""
    example = (
        "[auth]\n"
        'redirect_uri = "https://YOUR-HOST/oauth2callback"\n'
        'cookie_secret = "a long random string"\n'
        'client_id = "…"\n'
        'client_secret = "…"\n'
        'server_metadata_url = "https://YOUR-PROVIDER/.well-known/openid-configuration"'
    )
    if not section:
        raise SignInConfigError(
            f"{ENV_AUTH}={AUTH_OIDC} signs users in with st.login: add an [auth] section to "
            f".streamlit/secrets.toml:\n{example}"
        )
    missing = [key for key in (*REQUIRED_KEYS, METADATA_KEY) if not str(section.get(key) or "")]
    if missing:
        raise SignInConfigError(
            f"The [auth] section of .streamlit/secrets.toml lacks {', '.join(missing)}:\n{example}"
        )
    redirect_uri = str(section["redirect_uri"]).replace("{port}", str(port))
    parsed = urlparse(redirect_uri)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SignInConfigError(f"[auth] redirect_uri {redirect_uri!r} is not an http(s) URL.")
    if not parsed.path.endswith(CALLBACK_PATH):
        raise SignInConfigError(
            f"[auth] redirect_uri must end with {CALLBACK_PATH} (Streamlit's callback), "
            f"e.g. {parsed.scheme}://{parsed.netloc}{CALLBACK_PATH}; got {redirect_uri!r}."
        )
    secret = str(section["cookie_secret"])
    if len(secret) < MIN_SECRET_CHARS:
        raise SignInConfigError(
            f"[auth] cookie_secret signs every user's sign-in: use at least {MIN_SECRET_CHARS} "
            'random characters (python -c "import secrets; print(secrets.token_urlsafe(32))").'
        )
    return SignInCookie(secret, f"{parsed.scheme}://{parsed.netloc}")


class SignInCookie:
    """Reads the user st.login signed into Streamlit's cookie, for routes `st.user` misses."""

    def __init__(self, secret: str, origin: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=USER_COOKIE)
        self.origin = origin

    def user(self, cookies: Mapping[str, str]) -> str | None:
        """The signed-in user's email, None for no cookie, a bad or old one, another origin's,
        a user signed out, or one whose provider did not vouch for the email."""
        raw = cookies.get(USER_COOKIE)
        if not raw:
            return None
        try:
            claims = json.loads(self._serializer.loads(raw, max_age=COOKIE_MAX_AGE_S))
        except (BadData, ValueError):  # a cookie split in chunks is not JSON: refused too
            return None
        if not isinstance(claims, dict) or claims.get("origin") != self.origin:
            return None
        return email_of(claims)


def email_of(claims: Mapping[str, object]) -> str | None:
    """The user's email from the ID token's claims, when signed in and not marked unverified."""
    if not claims.get("is_logged_in") or claims.get("email_verified") is False:
        return None
    email = claims.get("email")
    return email.strip() if isinstance(email, str) and "@" in email else None
