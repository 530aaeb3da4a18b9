from dataclasses import replace

import pytest

from reelscope.catalog import load_catalog
from reelscope.parameters import (
    RANGED_PARAMETERS,
    GenerationParams,
    clamp_to,
    defaults_for,
    range_for,
    switch_model,
    takes,
)

CATALOG = load_catalog()


def model(model_id):
    return CATALOG.get(model_id)


@pytest.mark.parametrize(
    ("model_id", "temperature", "top_p", "top_k", "thinking_level"),
    [
        ("gemini-3.5-flash", 1.0, 0.95, None, "MEDIUM"),
        ("gemini-3.8-flash", None, None, None, "MEDIUM"),
        ("gemini-3.1-pro-preview", 1.0, 0.95, None, "HIGH"),
        ("gemini-1.0-pro-vision", 0.4, 1.0, 32, None),
    ],
)
def test_defaults_come_from_the_catalog(model_id, temperature, top_p, top_k, thinking_level):
    params = defaults_for(model(model_id))
    assert (params.temperature, params.top_p, params.top_k, params.thinking_level) == (
        temperature,
        top_p,
        top_k,
        thinking_level,
    )


def test_switching_to_a_narrower_model_clamps_and_says_why():
    wide = GenerationParams(temperature=1.8, top_p=0.5, max_output_tokens=60_000)
    fitted, changes = clamp_to(model("gemini-1.0-pro-vision"), wide)
    assert fitted.temperature == 1.0
    assert fitted.top_p == 0.5
    assert fitted.top_k == 32  # the new model takes top-k: its default
    assert [c.parameter for c in changes] == ["Temperature"]
    assert "0–1" in str(changes[0])


def test_a_switch_moves_values_left_at_the_old_default_to_the_new_one():
    flash, vision = model("gemini-3.5-flash"), model("gemini-1.0-pro-vision")
    untouched = defaults_for(flash)
    moved, changes = switch_model(flash, vision, untouched)
    assert (moved.temperature, moved.top_p, moved.top_k) == (0.4, 1.0, 32)
    assert changes == []  # the user set none of them: nothing to say
    chosen, changes = switch_model(flash, vision, replace(untouched, temperature=0.7))
    assert (chosen.temperature, chosen.top_p) == (0.7, 1.0)  # the user's value stays
    assert changes == []


def test_a_switch_with_no_known_old_model_only_clamps():
    params = GenerationParams(temperature=1.0, top_p=0.95)
    assert switch_model(None, model("gemini-1.0-pro-vision"), params) == clamp_to(
        model("gemini-1.0-pro-vision"), params
    )


def test_values_inside_the_range_are_kept_without_a_message():
    params = GenerationParams(temperature=0.3, top_p=0.8, max_output_tokens=1024)
    fitted, changes = clamp_to(model("gemini-3.5-flash"), params)
    assert (fitted.temperature, fitted.top_p, fitted.max_output_tokens) == (0.3, 0.8, 1024)
    assert changes == []


def test_max_output_tokens_clamped_to_the_model_limit():
    fitted, changes = clamp_to(
        model("gemini-1.5-flash"), GenerationParams(max_output_tokens=65_536)
    )
    assert fitted.max_output_tokens == 8_192
    assert changes[0].parameter == "Max output tokens"


def test_minimal_thinking_becomes_the_default_on_models_that_reject_it():
    fitted, changes = clamp_to(
        model("gemini-3.8-flash"), GenerationParams(thinking_level="MINIMAL")
    )
    assert fitted.thinking_level == "MEDIUM"
    assert changes[0].parameter == "Thinking level"


def test_candidate_count_dropped_on_models_that_reject_it():
    fitted, _ = clamp_to(model("gemini-3.7-flash"), GenerationParams(candidate_count=4))
    assert fitted.candidate_count == 1


@pytest.mark.parametrize(
    ("budget", "expected"),
    [("dynamic", "dynamic"), ("off", "dynamic"), (50, 128), (40_000, 32_768), (4096, 4096)],
)
def test_thinking_budget_fits_the_model(budget, expected):
    # 2.5 Pro: 128–32,768, thinking cannot be turned off
    fitted, _ = clamp_to(model("gemini-2.5-pro"), GenerationParams(thinking_budget=budget))
    assert fitted.thinking_budget == expected


def test_at_most_five_stop_sequences():
    params = GenerationParams(stop_sequences=tuple("abcdefg"))
    fitted, changes = clamp_to(model("gemini-3.5-flash"), params)
    assert fitted.stop_sequences == tuple("abcde")
    assert changes[0].parameter == "Stop sequences"


@pytest.mark.parametrize(
    ("model_id", "taken", "not_taken"),
    [
        # sampling settable, top-K fixed at 64: no top-K
        (
            "gemini-3.5-flash",
            {"temperature", "top_p", "candidate_count", "thinking_level"},
            {"top_k", "thinking_budget"},
        ),
        # backend ignores sampling, rejects candidate count
        (
            "gemini-3.8-flash",
            {"max_output_tokens", "thinking_level"},
            {"temperature", "top_p", "top_k", "candidate_count", "thinking_budget"},
        ),
        ("gemini-2.5-flash", {"temperature", "thinking_budget"}, {"thinking_level", "top_k"}),
        (
            "gemini-1.0-pro-vision",
            {"top_k"},
            {"thinking_level", "thinking_budget", "system_instruction"},
        ),
        ("gemini-1.5-pro", {"system_instruction"}, set()),
    ],
)
def test_takes_decides_which_parameters_a_model_takes(model_id, taken, not_taken):
    m = model(model_id)
    assert {p for p in taken if takes(m, p)} == taken
    assert {p for p in not_taken if takes(m, p)} == set()
    assert takes(m, "stop_sequences") and takes(m, "safety") and takes(m, "stream")


def test_takes_refuses_an_unknown_parameter_name():
    with pytest.raises(ValueError, match="frequency_penalty"):
        takes(model("gemini-3.5-flash"), "frequency_penalty")


@pytest.mark.parametrize("m", CATALOG.models, ids=lambda m: m.id)
def test_defaults_hold_a_value_exactly_for_what_the_model_takes(m):
    defaults = defaults_for(m)
    for name in RANGED_PARAMETERS:
        if name == "candidate_count":
            continue  # 1 everywhere: the API default, never sent
        assert (getattr(defaults, name) is not None) == takes(m, name), name
        assert (range_for(m, name) is not None) == takes(m, name), name


def test_empty_stop_sequences_are_dropped_before_the_cap():
    fitted, changes = clamp_to(
        model("gemini-3.5-flash"), GenerationParams(stop_sequences=("", "a", "", "b"))
    )
    assert fitted.stop_sequences == ("a", "b")
    assert changes == []
