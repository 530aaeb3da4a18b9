"""The prompt library: ready prompts follow the video advice; variables fill; saved ones persist."""

from __future__ import annotations

import pytest

from reelscope import prompts


@pytest.fixture
def store(store_opener):  # on SQLite and on PostgreSQL (tests/conftest.py)
    return store_opener()


def test_ready_prompts_cover_the_five_tasks_and_ask_for_mm_ss():
    names = [p.name for p in prompts.READY_PROMPTS]
    assert names == [
        "Describe the video",
        "What is said (transcript)",
        "Chapters",
        "Key moments",
        "Questions and answers",
    ]
    for prompt in prompts.READY_PROMPTS:
        assert "MM:SS" in prompt.text, prompt.name
        assert "video above" in prompt.text, prompt.name  # media parts go first (seed 003)
        for name in prompt.variables:
            assert name in prompts.VARIABLE_DEFAULTS, (prompt.name, name)


def test_fill_replaces_variables_and_keeps_other_braces():
    text = 'In {language}, as JSON like {"time": "MM:SS"}; {{literal}} and {language} again.'
    filled = prompts.fill(text, {"language": " German "})
    assert filled == 'In German, as JSON like {"time": "MM:SS"}; {literal} and German again.'


def test_fill_names_every_empty_variable():
    with pytest.raises(prompts.PromptError, match=r"Fill in \{question\}, \{count\} first."):
        prompts.fill("{question} {count} {language}", {"language": "English", "question": " "})


@pytest.mark.parametrize("text", ["No variables {here", 'JSON only {"a": 1}', "plain"])
def test_fill_leaves_text_without_variables_unchanged(text):
    assert prompts.fill(text, {}) == text


def test_fill_does_not_evaluate_fields():
    text = "{language} {language.__class__} {0}"
    assert prompts.fill(text, {"language": "Hindi"}) == "Hindi {language.__class__} {0}"


def test_every_ready_prompt_fills_with_defaults_and_a_question():
    values = {**prompts.VARIABLE_DEFAULTS, "question": "Who speaks first?"}
    for prompt in prompts.READY_PROMPTS:
        filled = prompts.fill(prompt.text, values)
        assert "{" not in filled, prompt.name


def test_saved_prompts_persist_with_their_variables(store, store_opener):
    prompts.install_ready(store)
    prompts.install_ready(store)  # once per process in the app; harmless twice
    saved = prompts.save(store, "Recap", "Recap it for {audience} in {language}.")
    assert saved.variables == ("audience", "language")

    reopened = store_opener()
    try:
        library = prompts.library(reopened)
        assert [p.id for p in library[: len(prompts.READY_PROMPTS)]] == [
            p.id for p in prompts.READY_PROMPTS
        ]
        assert [(p.name, p.text) for p in library[len(prompts.READY_PROMPTS) :]] == [
            ("Recap", "Recap it for {audience} in {language}.")
        ]
        built_ins = reopened.prompts.list(built_in=True)
        assert {p.id for p in built_ins} == {p.id for p in prompts.READY_PROMPTS}
    finally:
        reopened.close()


def test_saving_without_a_name_says_so(store):
    with pytest.raises(prompts.PromptError, match=r"Give the prompt a name\."):
        prompts.save(store, "  ", "Some text")


def test_library_without_a_store_still_has_the_ready_prompts():
    assert prompts.library(None) == list(prompts.READY_PROMPTS)
