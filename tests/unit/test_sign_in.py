"""st.login's cookie read for the media route, and the [auth] section checked at start-up.

The cookies are made by Streamlit's own signing function, the one its /oauth2callback uses, so
a change in its format fails here as well as in Chromium (tests/e2e/test_sign_in.py).
"""

from __future__ import annotations

import json
import re
import time

import itsdangerous.timed
import pytest
from streamlit.web.server.starlette.starlette_app_utils import create_signed_value

from reelscope.identity import acting_user
from reelscope.settings import AUTH_OIDC
from reelscope.sign_in import (
    COOKIE_MAX_AGE_S,
    USER_COOKIE,
    SignInConfigError,
    SignInCookie,
    check_auth_section,
)

SECRET = "s" * 40
ORIGIN = "https://reelscope.example"
SECTION = {
    "redirect_uri": f"{ORIGIN}/oauth2callback",
    "cookie_secret": SECRET,
    "client_id": "id",
    "client_secret": "secret",
    "server_metadata_url": "https://idp.example/.well-known/openid-configuration",
}
ANA = {"origin": ORIGIN, "is_logged_in": True, "email": "ana@example.com", "email_verified": True}


def cookie(claims: dict, secret: str = SECRET) -> dict[str, str]:
    signed = create_signed_value(secret, USER_COOKIE, json.dumps(claims))
    return {USER_COOKIE: signed.decode()}


@pytest.mark.parametrize(
    ("cookies", "expected"),
    [
        (cookie(ANA), "ana@example.com"),
        (cookie({k: v for k, v in ANA.items() if k != "email_verified"}), "ana@example.com"),
        ({}, None),
        (cookie(ANA, secret="t" * 40), None),  # signed with another secret
        (cookie({**ANA, "origin": "https://elsewhere.example"}), None),
        (cookie({**ANA, "is_logged_in": False}), None),
        (cookie({**ANA, "email_verified": False}), None),
        (cookie({**ANA, "email": "not an address"}), None),
        ({USER_COOKIE: "garbage"}, None),
        ({USER_COOKIE: cookie(ANA)[USER_COOKIE][:-3] + "AAA"}, None),  # tampered
    ],
    ids=[
        "signed-in",
        "no-verified-claim",
        "no-cookie",
        "other-secret",
        "other-origin",
        "signed-out",
        "email-unverified",
        "no-email",
        "garbage",
        "tampered",
    ],
)
def test_the_cookie_names_its_user_only_when_streamlit_signed_it_for_this_origin(cookies, expected):
    assert SignInCookie(SECRET, ORIGIN).user(cookies) == expected


def test_an_old_cookie_is_refused(monkeypatch):
    then = time.time() - COOKIE_MAX_AGE_S - 60
    with monkeypatch.context() as past:
        past.setattr(itsdangerous.timed.time, "time", lambda: then)
        old = cookie(ANA)
    assert SignInCookie(SECRET, ORIGIN).user(old) is None
    assert SignInCookie(SECRET, ORIGIN).user(cookie(ANA)) == "ana@example.com"


def test_the_media_route_acts_for_the_cookies_user_and_never_for_the_local_one():
    reader = check_auth_section(SECTION, 443)
    assert acting_user(AUTH_OIDC, {}, cookie(ANA), reader) == "ana@example.com"
    assert acting_user(AUTH_OIDC, {}, {}, reader) is None
    assert acting_user(AUTH_OIDC, {}, cookie(ANA), None) is None


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (None, "add an [auth] section"),
        ({**SECTION, "client_secret": ""}, "lacks client_secret"),
        ({k: v for k, v in SECTION.items() if k != "server_metadata_url"}, "server_metadata_url"),
        ({**SECTION, "redirect_uri": f"{ORIGIN}/callback"}, "must end with /oauth2callback"),
        ({**SECTION, "redirect_uri": "reelscope/oauth2callback"}, "not an http(s) URL"),
        ({**SECTION, "cookie_secret": "short"}, "at least 32"),
    ],
)
def test_an_auth_section_st_login_cannot_use_stops_the_server_with_what_to_write(section, message):
    with pytest.raises(SignInConfigError, match=re.escape(message)):
        check_auth_section(section, 443)


def test_the_origin_comes_from_the_redirect_uri_with_the_servers_port():
    assert check_auth_section(SECTION, 443).origin == ORIGIN
    local = {**SECTION, "redirect_uri": "http://127.0.0.1:{port}/oauth2callback"}
    assert check_auth_section(local, 8501).origin == "http://127.0.0.1:8501"
