"""The Models page shows every model's sourced price, as a third-party figure with its date."""

from __future__ import annotations

from reelscope.catalog import load_catalog
from tests.app.conftest import start_app, texts


def prices_table(app):
    return next(frame.value for frame in app.dataframe if "Basis" in frame.value.columns)


def test_the_models_page_lists_prices_with_their_basis_date_and_source(no_settings):
    app = start_app()
    app.switch_page("pages/models.py").run()
    assert not app.exception, app.exception
    rows = prices_table(app).set_index("ID")
    catalog = load_catalog()
    assert list(rows.index) == [m.id for m in catalog.models]
    flash = rows.loc["gemini-3.5-flash"]
    assert (flash["Input"], flash["Output"], flash["Batch"]) == ("$1.50", "$9.00", "$0.75 / $4.50")
    assert flash["Basis"] == "third-party table, as of 2026-08-21"
    assert flash["Source"].startswith("https://")
    assert rows.loc["gemini-3.1-flash-lite"]["Audio in"] == "$0.50"
    assert rows.loc["gemini-3.1-pro-preview"]["Long prompt"] == ">200k: $4.00 / $18.00"
    assert rows.loc["gemini-3-pro-preview"]["Input"] == "–"
    assert "not Google's list price" in texts(app.caption)
    notes = texts(app.markdown)  # what the table cannot hold, with every source
    assert "Conflict on audio input" in notes and "per character" in notes
    assert all(f"({url})" in notes for m in catalog.models if m.price for url in m.price.sources)


def test_the_availability_table_says_which_backends_serve_each_model(no_settings):
    app = start_app()
    app.switch_page("pages/models.py").run()
    assert not app.exception, app.exception
    rows = next(f.value for f in app.dataframe if "Backends" in f.value.columns).set_index("ID")
    assert rows.loc["gemini-3.8-flash", "Backends"] == "Vertex AI, Gemini Developer API"
    assert rows.loc["gemini-3.5-flash", "Backends"] == "Vertex AI"


def test_with_only_an_api_key_the_page_shows_the_developer_apis_prices_and_dates(api_key_only):
    app = start_app()
    app.switch_page("pages/models.py").run()
    assert not app.exception, app.exception
    rows = prices_table(app).set_index("ID")
    catalog = load_catalog()
    assert list(rows.index) == [m.id for m in catalog.models if m.on("gemini-api")]
    flash = rows.loc["gemini-2.5-flash"]  # Vertex AI prices its audio apart; this backend not
    assert (flash["Input"], flash["Audio in"], flash["Batch"]) == ("$0.30", "–", "$0.15 / $1.25")
    assert "paid tier" in flash["Basis"]
    unknown = rows.loc["gemini-3-pro-preview"]
    assert unknown["Input"] == "–" and "3.1 Pro preview only" in unknown["Basis"]
    assert "Gemini Developer API's paid tier" in texts(app.caption)
    availability = next(f.value for f in app.dataframe if "Backends" in f.value.columns)
    dates = availability.set_index("ID")
    assert dates.loc["gemini-3.6-flash", "Shutdown"] == ""  # none announced there
    assert dates.loc["gemini-3.6-flash", "Status"] == "ga"
    assert dates.loc["gemini-2.5-pro", "Shutdown"] == "2026-06-17"
    assert "no shutdown date announced there" in texts(app.markdown)
