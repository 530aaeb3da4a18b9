import copy
import datetime as dt
import tomllib

import pytest

from reelscope.catalog import CATALOG_FILE, CatalogError, Status, load_catalog, parse_catalog
from reelscope.embeddings.models import EMBEDDING_MODELS

TODAY = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def raw() -> dict:
    with CATALOG_FILE.open("rb") as handle:
        return tomllib.load(handle)


def test_shipped_catalog_loads_with_a_callable_default():
    catalog = load_catalog()
    assert catalog.default_model.is_callable(TODAY)
    assert len(catalog.models) >= 15


@pytest.mark.parametrize(
    ("model_id", "status"),
    [
        ("gemini-3.8-flash", Status.GA),
        ("gemini-3.7-flash", Status.RETIRING),
        ("gemini-3.5-flash", Status.GA),
        ("gemini-3.5-flash-lite", Status.GA),
        ("gemini-3.1-flash-lite", Status.GA),
        ("gemini-3.1-pro-preview", Status.PREVIEW),
        ("gemini-3-flash-preview", Status.PREVIEW),
        ("gemini-3.6-flash", Status.RETIRED),
        ("gemini-2.5-pro", Status.RETIRED),
        ("gemini-2.5-flash", Status.RETIRED),
        ("gemini-2.0-flash", Status.RETIRED),
        ("gemini-1.5-pro", Status.RETIRED),
        ("gemini-1.5-flash", Status.RETIRED),
        ("gemini-1.0-pro-vision", Status.RETIRED),
    ],
)
def test_status_follows_the_shutdown_date(model_id, status):
    assert load_catalog().get(model_id).status(TODAY) is status


def test_status_changes_on_the_shutdown_day():
    model = load_catalog().get("gemini-3.7-flash")
    assert model.status(dt.date(2027, 1, 27)) is Status.RETIRING
    assert model.status(dt.date(2027, 1, 28)) is Status.RETIRED


def test_seed_models_keep_the_seed_ranges():
    catalog = load_catalog()
    vision = catalog.get("gemini-1.0-pro-vision")
    assert (vision.top_k.min, vision.top_k.max, vision.top_k.default) == (1, 40, 32)
    assert (vision.temperature.max, vision.temperature.default) == (1.0, 0.4)
    assert vision.top_p.default == 1.0
    assert vision.videos_per_prompt == 1
    for model_id in ("gemini-1.5-pro", "gemini-1.5-flash"):
        model = catalog.get(model_id)
        assert model.top_k is None and model.top_k_fixed is None
        assert (model.temperature.max, model.top_p.default) == (2.0, 0.95)


@pytest.mark.parametrize(
    "model_id",
    ["gemini-3.5-flash-lite", "gemini-3.6-flash", "gemini-3.7-flash", "gemini-3.8-flash"],
)
def test_models_that_ignore_sampling_are_marked(model_id):
    assert load_catalog().get(model_id).sampling_ignored


@pytest.mark.parametrize("model_id", ["gemini-3.7-flash", "gemini-3.8-flash"])
def test_newest_flash_models_take_no_minimal_thinking_nor_candidate_count(model_id):
    model = load_catalog().get(model_id)
    assert "MINIMAL" not in model.thinking.levels
    assert model.candidate_count is None


def test_every_model_cites_a_source():
    for model in load_catalog().models:
        assert model.sources and all(s.startswith("https://") for s in model.sources)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["models"][0].pop("sources"), "missing 'sources'"),
        (lambda d: d["models"][0].update(sources=["ftp://x"]), "needs a source"),
        (lambda d: d["models"][0].update(launch_stage="beta"), "launch_stage"),
        (lambda d: d["models"].append(copy.deepcopy(d["models"][0])), "duplicate model ids"),
        (lambda d: d["defaults"].update(model="nope"), "not in the catalog"),
        (
            lambda d: d["models"][2].update(temperature={"min": 0, "max": 1, "default": 3}),
            "outside",
        ),
        (
            lambda d: d["models"][0].update(
                thinking={"control": "level", "levels": ["LOW"], "default": "HIGH"}
            ),
            "not one of",
        ),
        (lambda d: d["models"][0].update(thinking={"control": "dial"}), "thinking control"),
        (lambda d: d["models"][0].update(shutdown="soon"), "TOML date"),
        (lambda d: d["models"][0].update(system_instruction="no"), "system_instruction"),
    ],
)
def test_malformed_catalog_is_refused_with_the_field_named(raw, mutate, message):
    data = copy.deepcopy(raw)
    mutate(data)
    with pytest.raises(CatalogError, match=message):
        parse_catalog(data)


# Vertex AI, standard tier, USD per million tokens, from ../shared/PRICES.md:
# input, output, batch input, batch output, audio input where the table has its own rate.
PRICES = {
    "gemini-3.8-flash": (0.75, 3.75, 0.375, 1.875, None),
    "gemini-3.7-flash": (0.75, 3.75, 0.375, 1.875, None),
    "gemini-3.6-flash": (0.75, 3.75, 0.375, 1.875, None),
    "gemini-3.5-flash": (1.50, 9.00, 0.75, 4.50, None),
    "gemini-3.5-flash-lite": (0.30, 2.50, 0.15, 1.25, None),
    "gemini-3.1-pro-preview": (2.00, 12.00, 1.00, 6.00, None),
    "gemini-3.1-flash-lite": (0.25, 1.50, 0.125, 0.75, 0.50),
    "gemini-2.5-pro": (1.25, 10.00, 0.625, 5.00, None),
    "gemini-2.5-flash": (0.30, 2.50, 0.15, 1.25, 1.00),
    "gemini-2.5-flash-lite": (0.10, 0.40, 0.05, 0.20, 0.30),
    "gemini-2.0-flash": (0.15, 0.60, 0.075, 0.30, 1.00),
    "gemini-2.0-flash-lite": (0.075, 0.30, 0.0375, 0.15, None),
    "gemini-1.0-pro-vision": (0.50, 1.50, 0.25, 0.75, None),
}


@pytest.mark.parametrize(("model_id", "figures"), PRICES.items())
def test_every_model_with_a_sourced_price_has_it(model_id, figures):
    price = load_catalog().get(model_id).price
    per_input, per_output, batch_input, batch_output, audio = figures
    assert (price.input_usd_per_mtok, price.output_usd_per_mtok) == (per_input, per_output)
    assert (price.batch_input_usd_per_mtok, price.batch_output_usd_per_mtok) == (
        batch_input,
        batch_output,
    )
    assert price.input_by_modality.get("AUDIO") == audio
    assert price.basis.startswith("third-party table") and price.as_of.year == 2026
    assert "list price" not in price.basis


def test_long_context_tiers_cached_rates_and_regional_premiums_where_given():
    catalog = load_catalog()
    pro = catalog.get("gemini-3.1-pro-preview").price
    assert pro.long_context.above_tokens == 200_000
    assert (pro.long_context.input_usd_per_mtok, pro.long_context.output_usd_per_mtok) == (4, 18)
    assert (pro.long_context.batch_input_usd_per_mtok, pro.cached_input_usd_per_mtok) == (2, 0.2)
    assert catalog.get("gemini-2.5-pro").price.long_context.output_usd_per_mtok == 15
    regional = {m.id for m in catalog.models if m.price and m.price.regional_premium_pct == 10}
    assert regional == {
        "gemini-3.5-flash",
        "gemini-3.5-flash-lite",
        "gemini-3.1-flash-lite",
        "gemini-3.6-flash",
        "gemini-3.7-flash",
    }


def test_conflicts_and_gaps_in_the_sources_are_said():
    catalog = load_catalog()
    assert "Conflict on audio input" in " ".join(catalog.get("gemini-3.5-flash").price.notes)
    assert "Conflict" in " ".join(catalog.get("gemini-3.6-flash").price.notes)
    assert "No price checked against Google" in catalog.get("gemini-1.0-pro-vision").price.notes[0]
    for model_id in ("gemini-1.5-pro", "gemini-1.5-flash"):  # billed per character, not token
        model = catalog.get(model_id)
        assert model.price is None and "per character" in " ".join(model.notes)
    for model_id in ("gemini-3-flash-preview", "gemini-3-pro-preview"):  # none found
        assert catalog.get(model_id).price is None


def _price_of(data: dict) -> dict:
    return next(m for m in data["models"] if m["id"] == "gemini-3.1-pro-preview")["price"]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p: p.update(input_by_modality={"smell": 1.0}), "input_by_modality"),
        (lambda p: p.update(input_by_modality={"audio": -1}), "non-negative"),
        (lambda p: p.update(batch_output_usd_per_mtok="half"), "non-negative"),
        (lambda p: p["long_context"].pop("above_tokens"), "above_tokens"),
        (lambda p: p["long_context"].pop("output_usd_per_mtok"), "output_usd_per_mtok"),
        (lambda p: p.pop("basis"), "basis"),
    ],
)
def test_malformed_prices_are_refused_with_the_field_named(raw, mutate, message):
    data = copy.deepcopy(raw)
    mutate(_price_of(data))
    with pytest.raises(CatalogError, match=message):
        parse_catalog(data)


GEMINI_API_MODELS = {
    "gemini-3.8-flash",
    "gemini-3.7-flash",
    "gemini-3.6-flash",
    "gemini-3.5-flash-lite",
    "gemini-3-pro-preview",
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
}


def test_each_model_says_on_which_backends_it_is_served():
    catalog = load_catalog()
    assert all(m.on("vertex") for m in catalog.models)
    assert {m.id for m in catalog.models if m.on("gemini-api")} == GEMINI_API_MODELS
    for model in catalog.models:
        if model.on("gemini-api"):
            assert any(s.startswith("https://ai.google.dev/") for s in model.sources), model.id


def test_the_default_model_follows_the_backend():
    catalog = load_catalog()
    assert catalog.default_model_on("vertex", TODAY).id == catalog.default_model_id
    assert not catalog.default_model.on("gemini-api")
    on_api = catalog.default_model_on("gemini-api", TODAY)
    assert (on_api.id, on_api.is_callable(TODAY)) == ("gemini-3.8-flash", True)


def test_the_embedding_models_say_where_they_are_served():
    assert EMBEDDING_MODELS["multimodalembedding@001"].backends == ("vertex",)
    assert EMBEDDING_MODELS["gemini-embedding-2"].backends == ("vertex", "gemini-api")


@pytest.mark.parametrize(
    ("backends", "sources", "message"),
    [
        (["vertex", "openai"], None, "backends must be distinct values"),
        ([], None, "backends must be distinct values"),
        (["vertex", "vertex"], None, "backends must be distinct values"),
        (
            ["vertex", "gemini-api"],
            ["https://docs.cloud.google.com/x"],
            "needs its https://ai.google.dev/ page",
        ),
    ],
)
def test_malformed_backends_are_refused_with_the_model_named(raw, backends, sources, message):
    data = copy.deepcopy(raw)
    data["models"][0]["backends"] = backends
    if sources is not None:
        data["models"][0]["sources"] = sources
    with pytest.raises(CatalogError, match=message) as refused:
        parse_catalog(data)
    assert data["models"][0]["id"] in str(refused.value)


DECEMBER = dt.date(2026, 12, 3)  # after Vertex AI retired 3.6 Flash (Nov 19, 2026)


@pytest.mark.parametrize(
    ("model_id", "on_vertex", "on_gemini_api", "shutdown_there"),
    [
        # The Developer API announced no shutdown for 3.6 Flash (GA-dep), nor for 3.7 Flash,
        # which it routes to 3.8 Flash: Vertex AI's dates are not the Developer API's.
        ("gemini-3.6-flash", Status.RETIRED, Status.GA, None),
        ("gemini-3.7-flash", Status.RETIRING, Status.GA, None),
        # Its own, earlier date for the 2.5 models (one version of its deprecations page).
        ("gemini-2.5-pro", Status.RETIRED, Status.RETIRED, dt.date(2026, 6, 17)),
        # No date of its own: Vertex AI's holds there too.
        ("gemini-3.8-flash", Status.GA, Status.GA, None),
        ("gemini-3-pro-preview", Status.RETIRED, Status.RETIRED, dt.date(2026, 3, 9)),
    ],
)
def test_shutdown_and_status_are_each_backends_own(
    model_id, on_vertex, on_gemini_api, shutdown_there
):
    model = load_catalog().get(model_id)
    assert model.status(DECEMBER) is on_vertex
    assert model.status(DECEMBER, "gemini-api") is on_gemini_api
    assert model.shutdown_on("gemini-api") == shutdown_there
    assert model.shutdown_on("vertex") == model.shutdown
    assert model.is_callable(DECEMBER, "gemini-api") is (on_gemini_api is not Status.RETIRED)


@pytest.mark.parametrize(
    ("model_id", "input_usd", "output_usd", "batch"),
    [
        ("gemini-3.8-flash", 0.75, 3.75, (0.375, 1.875)),
        ("gemini-3.6-flash", 0.75, 3.75, (0.375, 1.875)),
        ("gemini-3.5-flash-lite", 0.30, 2.50, (0.15, 1.25)),
        ("gemini-2.5-pro", 1.25, 10.00, (0.625, 5.00)),
        ("gemini-2.5-flash", 0.30, 2.50, (0.15, 1.25)),
        ("gemini-2.5-flash-lite", 0.10, 0.40, (0.05, 0.20)),
    ],
)
def test_the_developer_api_prices_are_its_own_sourced_figures(
    model_id, input_usd, output_usd, batch
):
    price = load_catalog().get(model_id).price_on("gemini-api")
    assert (price.input_usd_per_mtok, price.output_usd_per_mtok) == (input_usd, output_usd)
    assert (price.batch_input_usd_per_mtok, price.batch_output_usd_per_mtok) == batch
    assert price.sources and "paid tier" in price.basis
    assert not price.input_by_modality and price.long_context is None  # none found there


def test_a_vertex_price_is_never_used_for_the_developer_api():
    catalog = load_catalog()
    pro_preview = catalog.get("gemini-3-pro-preview")
    assert pro_preview.price_on("gemini-api") is None
    assert "3.1 Pro preview only" in pro_preview.no_price_reason("gemini-api")
    vertex_only = catalog.get("gemini-3.5-flash")
    assert vertex_only.price_on("vertex") is not None
    assert vertex_only.price_on("gemini-api") is None
    assert "No sourced Gemini Developer API price" in vertex_only.no_price_reason("gemini-api")
    for model in catalog.models:
        assert model.price_on("vertex") is model.price
        there = model.price_on("gemini-api")
        assert there is None or there is not model.price


@pytest.mark.parametrize(
    ("facts", "message"),
    [
        ({"sources": ["https://ai.google.dev/x"]}, "give a price or say why none is known"),
        (
            {"sources": ["https://ai.google.dev/x"], "no_price": "none", "price": {}},
            "price",
        ),
        ({"no_price": "none found"}, "give the https:// sources"),
        (
            {"sources": ["https://ai.google.dev/x"], "no_price": "n", "shutdown": "soon"},
            "shutdown must be a TOML date",
        ),
    ],
)
def test_malformed_backend_facts_are_refused_with_the_model_named(raw, facts, message):
    data = copy.deepcopy(raw)
    entry = next(m for m in data["models"] if "gemini-api" in m.get("backends", ()))
    entry["on"] = {"gemini-api": facts}
    with pytest.raises(CatalogError, match=message) as refused:
        parse_catalog(data)
    assert entry["id"] in str(refused.value)


def test_backend_facts_only_for_a_listed_backend_other_than_vertex(raw):
    data = copy.deepcopy(raw)
    entry = next(m for m in data["models"] if m.get("backends", ["vertex"]) == ["vertex"])
    entry["on"] = {"gemini-api": {"sources": ["https://ai.google.dev/x"], "no_price": "n"}}
    with pytest.raises(CatalogError, match="another backend listed in backends"):
        parse_catalog(data)
