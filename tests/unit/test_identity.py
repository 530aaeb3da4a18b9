"""IAP assertions verified by reelscope/identity.py against keys served from 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reelscope.identity import (
    AuthConfigError,
    IapVerifier,
    InvalidAssertion,
    KeysUnavailable,
    MissingAssertion,
    User,
    check_auth_settings,
    user_from_headers,
)
from reelscope.settings import DEFAULT_IAP_CERTS_URL, Settings, load_settings
from tests.iap_keys import AUDIENCE, LocalIap, SigningKey, serving_keys


@pytest.fixture
def iap() -> Iterator[LocalIap]:
    with serving_keys(LocalIap()) as served:
        yield served


@pytest.fixture
def verifier(iap: LocalIap) -> IapVerifier:
    return IapVerifier(AUDIENCE, iap.certs_url)


def test_a_valid_assertion_names_its_user(iap, verifier):
    user = verifier.verify(iap.assertion(email="ada@example.com", subject="accounts.google.com:7"))
    assert user == User(email="ada@example.com", subject="accounts.google.com:7")


@pytest.mark.parametrize("assertion", [None, "", "   "])
def test_no_assertion_is_a_401(verifier, assertion):
    with pytest.raises(MissingAssertion, match="Identity-Aware Proxy") as refused:
        verifier.verify(assertion)
    assert refused.value.status == 401


def test_an_expired_assertion_is_refused(iap, verifier):
    stale = iap.assertion(issued_ago_s=900, lifetime_s=600)  # ended 5 minutes ago
    with pytest.raises(InvalidAssertion, match="expired") as refused:
        verifier.verify(stale)
    assert refused.value.status == 403


def test_google_s_30_seconds_of_clock_skew_are_allowed(iap, verifier):
    just_ended = iap.assertion(issued_ago_s=610, lifetime_s=600)  # 10 s past its exp
    assert verifier.verify(just_ended).email == "ada@example.com"


def test_an_assertion_for_another_service_is_refused(iap, verifier):
    other = "/projects/123456789012/locations/us-central1/services/someone-else"
    with pytest.raises(InvalidAssertion, match="audience"):
        verifier.verify(iap.assertion(audience=other))


def test_an_assertion_not_issued_by_iap_is_refused(iap, verifier):
    with pytest.raises(InvalidAssertion, match="not by IAP"):
        verifier.verify(iap.assertion(issuer="https://accounts.google.com"))


def test_a_signature_by_another_key_under_iap_s_key_id_is_refused(iap, verifier):
    forger = SigningKey(iap.key.kid)  # same key id, different private key
    with pytest.raises(InvalidAssertion, match="signature"):
        verifier.verify(iap.assertion(key=forger))


def test_a_changed_claim_breaks_the_signature(iap, verifier):
    header, _claims, signature = iap.assertion(email="ada@example.com").split(".")
    _h, other_claims, _s = iap.assertion(email="mallory@example.com").split(".")
    with pytest.raises(InvalidAssertion, match="signature"):
        verifier.verify(f"{header}.{other_claims}.{signature}")


@pytest.mark.parametrize("alg", ["none", "RS256", "HS256"])
def test_only_es256_is_accepted(iap, verifier, alg):
    with pytest.raises(InvalidAssertion, match="ES256"):
        verifier.verify(iap.assertion(alg=alg))


def test_garbage_is_refused_not_crashed_on(verifier):
    with pytest.raises(InvalidAssertion):
        verifier.verify("not.a.jwt")


def test_an_assertion_without_an_email_is_refused(iap, verifier):
    with pytest.raises(InvalidAssertion, match="email"):
        verifier.verify(iap.assertion(email=""))


def test_keys_are_fetched_once_for_many_requests(iap, verifier):
    for _ in range(20):
        verifier.verify(iap.assertion())
    assert iap.fetches == 1


def test_a_rotated_key_is_fetched_when_first_seen(iap, verifier):
    verifier.verify(iap.assertion())
    new_key = iap.rotate()
    assert verifier.verify(iap.assertion(key=new_key)).email == "ada@example.com"
    assert iap.fetches == 2


def test_unknown_key_ids_refetch_at_most_once_a_minute(iap):
    now = [1000.0]
    verifier = IapVerifier(AUDIENCE, iap.certs_url, clock=lambda: now[0])
    stranger = SigningKey("never-published")
    for _ in range(5):
        with pytest.raises(InvalidAssertion, match="never-published"):
            verifier.verify(iap.assertion(key=stranger))
    assert iap.fetches == 2  # the first fetch, then one more for the new key id
    now[0] += 61
    with pytest.raises(InvalidAssertion):
        verifier.verify(iap.assertion(key=stranger))
    assert iap.fetches == 3


def test_keys_are_fetched_again_after_an_hour(iap):
    now = [1000.0]
    verifier = IapVerifier(AUDIENCE, iap.certs_url, clock=lambda: now[0])
    verifier.verify(iap.assertion())
    now[0] += 3599
    verifier.verify(iap.assertion())
    assert iap.fetches == 1
    now[0] += 2
    verifier.verify(iap.assertion())
    assert iap.fetches == 2


def test_unreachable_keys_are_a_503_not_a_pass():
    with serving_keys(LocalIap()) as iap:
        assertion, certs_url = iap.assertion(), iap.certs_url
    with pytest.raises(KeysUnavailable) as refused:
        IapVerifier(AUDIENCE, certs_url).verify(assertion)
    assert refused.value.status == 503


def iap_settings(**changes: object) -> Settings:
    return Settings(**{"auth": "iap", "iap_audience": AUDIENCE, **changes})


def test_settings_read_the_auth_mode_audience_and_certs_url():
    settings = load_settings(
        {
            "REELSCOPE_AUTH": " IAP ",
            "REELSCOPE_IAP_AUDIENCE": AUDIENCE,
            "REELSCOPE_IAP_CERTS_URL": "http://127.0.0.1:1/keys",
        }
    )
    assert (settings.auth, settings.iap_audience) == ("iap", AUDIENCE)
    assert settings.iap_certs_url == "http://127.0.0.1:1/keys"
    assert load_settings({}).auth == "local"
    assert load_settings({}).iap_certs_url == DEFAULT_IAP_CERTS_URL


def test_local_mode_needs_no_verifier():
    assert check_auth_settings(Settings()) is None


def test_iap_mode_builds_a_verifier_for_its_audience():
    verifier = check_auth_settings(iap_settings())
    assert verifier is not None
    assert (verifier.audience, verifier.certs_url) == (AUDIENCE, DEFAULT_IAP_CERTS_URL)


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"auth": "iapp"}, "not a mode"),
        ({"auth": "ldap"}, "not a mode"),
        ({"iap_audience": None}, "REELSCOPE_IAP_AUDIENCE"),
        ({"iap_audience": "/projects/my-project/locations/us-central1/services/x"}, "number"),
        ({"iap_audience": "https://reelscope-abc-uc.a.run.app"}, "REELSCOPE_IAP_AUDIENCE"),
    ],
)
def test_settings_that_cannot_say_who_users_are_stop_the_server(changes, complaint):
    with pytest.raises(AuthConfigError, match=complaint):
        check_auth_settings(iap_settings(**changes))


@pytest.mark.parametrize(
    "audience",
    [
        "/projects/123/global/backendServices/456",
        "/projects/123/locations/europe-west1/services/reelscope",
        "/projects/123/apps/my-project",
    ],
)
def test_every_audience_form_iap_signs_for_is_accepted(audience):
    assert check_auth_settings(iap_settings(iap_audience=audience)) is not None


def test_the_page_reads_the_user_the_gate_verified():
    headers = {"X-Reelscope-User-Email": "ada@example.com", "X-Reelscope-User-Subject": "s:1"}
    assert user_from_headers(headers) == User("ada@example.com", "s:1")
    # IAP's own unsigned header is not a user: only the gate's headers are.
    assert user_from_headers({"X-Goog-Authenticated-User-Email": "ada@example.com"}) is None
