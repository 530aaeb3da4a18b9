"""Costs decided once: hand-computed figures from the shipped catalog's prices, and one USD format."""

from __future__ import annotations

import datetime as dt

import pytest

from reelscope.catalog import Price, load_catalog
from reelscope.costs import (
    NO_OUTPUT_PRICE,
    NO_PRICE,
    NO_USAGE,
    TokenUse,
    cost_of,
    describe_price,
    format_usd,
    price_basis,
    usage_cost,
)
from reelscope.generation.events import Usage

CATALOG = load_catalog()
M = 1_000_000


def price(model_id: str) -> Price:
    found = CATALOG.get(model_id).price
    assert found is not None, model_id
    return found


def test_input_and_output_with_thinking_billed_as_output() -> None:
    usage = Usage(1.0, prompt_tokens=1_000, output_tokens=200, thinking_tokens=300)
    cost = usage_cost(price("gemini-3.5-flash"), usage)  # $1.50 in, $9.00 out
    assert cost.input_usd == pytest.approx(1_000 * 1.50 / M)
    assert cost.output_usd == pytest.approx(500 * 9.00 / M)
    assert cost.total_usd == pytest.approx((1_000 * 1.50 + 500 * 9.00) / M)
    assert cost.notes == ()


def test_audio_at_its_own_rate_from_the_usage_by_modality() -> None:
    usage = Usage(
        1.0,
        prompt_tokens=2_000,
        output_tokens=100,
        prompt_by_modality=(("VIDEO", 1_200), ("AUDIO", 600), ("TEXT", 200)),
    )
    cost = usage_cost(price("gemini-3.1-flash-lite"), usage)  # $0.25 in, $0.50 audio, $1.50 out
    assert cost.input_by_modality_usd == pytest.approx(
        {"VIDEO": 1_200 * 0.25 / M, "AUDIO": 600 * 0.50 / M, "TEXT": 200 * 0.25 / M}
    )
    assert cost.input_usd == pytest.approx((1_400 * 0.25 + 600 * 0.50) / M)
    assert cost.total_usd == pytest.approx((1_400 * 0.25 + 600 * 0.50 + 100 * 1.50) / M)


def test_without_a_modality_split_every_input_token_is_priced_at_the_input_rate_and_it_says_so():
    cost = usage_cost(price("gemini-3.1-flash-lite"), Usage(1.0, 2_000, 100))
    assert cost.input_usd == pytest.approx(2_000 * 0.25 / M)
    assert "audio" in cost.notes[0] and "input rate" in cost.notes[0]


def test_tokens_the_split_does_not_name_are_priced_at_the_input_rate() -> None:
    use = TokenUse(1_000, 0, input_by_modality={"AUDIO": 400})
    cost = cost_of(price("gemini-2.5-flash"), use)  # $0.30 in, $1.00 audio
    assert cost.input_usd == pytest.approx((400 * 1.00 + 600 * 0.30) / M)


@pytest.mark.parametrize(
    ("prompt_tokens", "per_input", "per_output"),
    [(200_000, 2.00, 12.00), (200_001, 4.00, 18.00)],
)
def test_a_long_prompt_pays_the_long_context_rates_for_every_token(
    prompt_tokens, per_input, per_output
):
    cost = usage_cost(price("gemini-3.1-pro-preview"), Usage(1.0, prompt_tokens, 1_000))
    assert cost.total_usd == pytest.approx((prompt_tokens * per_input + 1_000 * per_output) / M)
    assert ("long-context" in " ".join(cost.notes)) is (prompt_tokens > 200_000)


def test_cached_tokens_at_the_cached_rate() -> None:
    usage = Usage(1.0, prompt_tokens=10_000, output_tokens=0, cached_tokens=8_000)
    cost = usage_cost(price("gemini-2.5-pro"), usage)  # $1.25 in, $0.125 cached
    assert cost.input_usd == pytest.approx((2_000 * 1.25 + 8_000 * 0.125) / M)


def test_cached_tokens_without_a_cached_price_are_priced_as_input_and_it_says_so() -> None:
    usage = Usage(1.0, prompt_tokens=10_000, output_tokens=0, cached_tokens=8_000)
    cost = usage_cost(price("gemini-3.5-flash"), usage)
    assert cost.input_usd == pytest.approx(10_000 * 1.50 / M)
    assert "cached" in cost.notes[0]


def test_no_price_no_usage_and_no_output_price_give_no_total_and_say_why() -> None:
    assert usage_cost(None, Usage(1.0, 10, 10)).total_usd is None
    assert usage_cost(None, Usage(1.0, 10, 10)).notes == (NO_PRICE,)
    assert usage_cost(price("gemini-3.5-flash"), None).notes == (NO_USAGE,)
    input_only = Price(1.0, None, dt.date(2026, 1, 1), "test", ("https://example.com",))
    cost = usage_cost(input_only, Usage(1.0, 1_000, 10))
    assert cost.input_usd == pytest.approx(1_000 / M)
    assert cost.total_usd is None and cost.notes == (NO_OUTPUT_PRICE,)
    assert usage_cost(input_only, Usage(1.0, 1_000, 0)).total_usd == pytest.approx(1_000 / M)


def test_before_a_run_only_the_input_is_known() -> None:
    cost = cost_of(price("gemini-3.5-flash"), TokenUse(1_000))
    assert cost.input_usd == pytest.approx(1_000 * 1.50 / M)
    assert cost.output_usd is None and cost.total_usd is None


@pytest.mark.parametrize(
    ("amount", "written"),
    [
        (None, "–"),
        (0, "$0.00"),
        (0.00225, "$0.00225"),
        (0.000305, "$0.000305"),
        (0.0018, "$0.0018"),
        (0.0123456, "$0.01235"),
        (1.875, "$1.875"),  # a batch price per million
        (12.3456, "$12.35"),
        (0.075, "$0.075"),  # a price per million
        (0.30, "$0.30"),
        (0.5, "$0.50"),
        (0.99996, "$1.00"),
        (1.5, "$1.50"),
        (1234.567, "$1,234.57"),
        (3.75e-8, "$0.00000004"),
    ],
)
def test_one_way_to_write_dollars(amount, written) -> None:
    assert format_usd(amount) == written


def test_every_shipped_price_is_a_sourced_third_party_figure_never_google_s_list_price() -> None:
    priced = [m for m in CATALOG.models if m.price is not None]
    assert priced
    for model in priced:
        basis = price_basis(model.price)
        assert basis.startswith("third-party table") and ", as of 2026-" in basis
        assert "list price" not in basis.lower()
        assert model.price.sources and all(u.startswith("https://") for u in model.price.sources)
        text = describe_price(model.price)
        assert "not Google's list price" in text and "as of" in text
        assert all(f"({url})" in text for url in model.price.sources)


def test_the_price_paragraph_names_rates_tiers_regions_and_conflicts() -> None:
    text = describe_price(price("gemini-3.5-flash"))
    assert "$1.50 input" in text and "$9.00 output (thinking included)" in text
    assert "10% more at any location but global" in text
    assert "Conflict on audio input" in text
    long = describe_price(price("gemini-3.1-pro-preview"))
    assert "above 200,000 input tokens $4.00 input, $18.00 output" in long
    assert "$0.50 audio input" in describe_price(price("gemini-3.1-flash-lite"))


def test_a_model_without_a_price_on_the_backend_says_why_instead_of_a_vertex_figure() -> None:
    model = CATALOG.get("gemini-3.5-flash")  # priced on Vertex AI, not on the Developer API
    use = TokenUse(input_tokens=1_000, output_tokens=100)
    on_vertex = cost_of(model.price_on("vertex"), use)
    on_key = cost_of(
        model.price_on("gemini-api"), use, no_price=model.no_price_reason("gemini-api")
    )
    assert on_vertex.total_usd is not None
    assert on_key.total_usd is None
    assert on_key.notes == (model.no_price_reason("gemini-api"),)
    assert "Gemini Developer API" in on_key.notes[0]


def test_the_developer_api_price_is_the_one_used_where_the_figures_differ() -> None:
    model = CATALOG.get("gemini-2.5-flash")  # Vertex AI prices audio apart; the Developer API
    use = TokenUse(input_tokens=M, output_tokens=0, input_by_modality={"AUDIO": M})
    assert cost_of(model.price_on("vertex"), use).total_usd == pytest.approx(1.00)
    assert cost_of(model.price_on("gemini-api"), use).total_usd == pytest.approx(0.30)
