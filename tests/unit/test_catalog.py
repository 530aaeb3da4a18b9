import copy
import datetime as dt
import tomllib

import pytest

from reelscope.catalog import CATALOG_FILE, CatalogError, Status, load_catalog, parse_catalog

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
