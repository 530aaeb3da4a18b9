"""Sign-in with st.login (REELSCOPE_AUTH=oidc) in Chromium, against a local OpenID Connect
provider: discovery, authorize, token and keys over HTTP, the nonce echoed in a signed ID token.

Nothing of the studio shows before sign-in; work is kept as the signed-in user's; a media link
plays for that user only (the route reads st.login's cookie); signing out closes both.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import running_app, wait_idle
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider

pytestmark = pytest.mark.e2e

ANA = {"sub": "user-ana", "email": "ana@example.com", "email_verified": True, "name": "Ana"}
BOB = {"sub": "user-bob", "email": "bob@example.com", "email_verified": True, "name": "Bob"}


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with OidcProvider() as running:
        yield running


@pytest.fixture(scope="module")
def oidc_url(app_env, provider: OidcProvider, tmp_path_factory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("oidc")
    secrets_file = folder / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{CLIENT_SECRET}"\n'
        f'server_metadata_url = "{provider.metadata_url}"\n'
    )
    env = {
        **app_env,
        "REELSCOPE_AUTH": "oidc",
        "REELSCOPE_DATA_DIR": str(folder / "data"),
        "STREAMLIT_SECRETS_FILES": str(secrets_file),
    }
    with running_app(env, folder / "server.log") as url:
        provider.redirect_uris.add(f"{url}/oauth2callback")
        yield url


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context
    context.close()


def sign_in(context: BrowserContext, url: str, provider: OidcProvider, user: dict) -> Page:
    provider.user = dict(user)
    page = context.new_page()
    page.goto(url)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {user['email']}")).to_be_visible(timeout=20_000)
    wait_idle(page)
    return page


def test_nothing_shows_before_sign_in_and_the_provider_signs_the_nonce_it_was_given(
    context: BrowserContext, oidc_url: str, provider: OidcProvider
):
    page = context.new_page()
    page.goto(oidc_url)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=20_000)
    wait_idle(page)
    expect(page.get_by_role("heading", name="Ask about a video")).to_have_count(0)
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    page.goto(f"{oidc_url}/history")  # a page's own address shows the sign-in too
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=20_000)
    wait_idle(page)
    expect(page.get_by_role("heading", name="History")).to_have_count(0)

    asked = len(provider.log.nonces_asked)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as ana@example.com")).to_be_visible(timeout=20_000)
    expect(page.get_by_role("heading", name="Ask about a video")).to_be_visible()
    nonce = provider.log.nonces_asked[asked]
    assert nonce, "st.login should send a nonce"
    assert provider.log.nonces_signed[-1] == nonce
    assert not provider.log.refused


def test_a_media_link_plays_for_the_signed_in_user_only(
    browser: Browser, context: BrowserContext, oidc_url: str, provider: OidcProvider, video_file
):
    page = sign_in(context, oidc_url, provider, ANA)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(video_file))
    player = page.locator("video")
    expect(player).to_have_count(1, timeout=15_000)
    expect(player).to_have_attribute("src", re.compile(r"/app/static/reelscope/"))
    link = player.evaluate("(video) => video.src")  # absolute
    assert page.request.get(link, headers={"Range": "bytes=0-99"}).status == 206

    nobody = browser.new_context()
    try:
        assert nobody.request.get(link).status == 403
    finally:
        nobody.close()
    other = browser.new_context()
    try:
        sign_in(other, oidc_url, provider, BOB)
        assert other.request.get(link).status == 403
    finally:
        other.close()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=20_000)
    assert page.request.get(link).status == 403
