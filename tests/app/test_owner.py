"""resources.owner(): the local user locally; in IAP mode only a user the gate verified."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.app.conftest import ROOT, texts

REFUSAL = "Reelscope cannot tell who you are"


def run_app() -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    return app


def test_locally_the_one_user_works_as_before(no_settings, monkeypatch):
    monkeypatch.delenv("REELSCOPE_AUTH", raising=False)
    app = run_app()
    assert REFUSAL not in texts(app.error)
    assert app.title, "the page was drawn"


def test_iap_mode_without_the_gate_acts_for_nobody(no_settings, monkeypatch):
    # AppTest has no HTTP request, so no gate put a verified user in its headers: the same as
    # `streamlit run app.py` in IAP mode. The page must stop, not fall back to the local user.
    monkeypatch.setenv("REELSCOPE_AUTH", "iap")
    app = run_app()
    assert REFUSAL in texts(app.error)
    assert not app.title and not app.sidebar.markdown, "nothing of the studio is drawn"
