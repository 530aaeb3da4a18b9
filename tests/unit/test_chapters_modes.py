"""Modes: a prompt plus a schema per kind; the user's own modes kept in a JSON file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from reelscope.catalog import load_catalog
from reelscope.chapters.modes import (
    BUILTIN_MODES,
    SHAPES,
    Kind,
    ModeError,
    ModeStore,
    response_schema,
)
from reelscope.generation.request import build_request
from reelscope.parameters import defaults_for
from reelscope.tasks import LOCAL_OWNER
from tests.requests import checked


def test_every_kind_has_a_builtin_mode() -> None:
    assert {m.kind for m in BUILTIN_MODES} == set(Kind)
    assert len({m.id for m in BUILTIN_MODES}) == len(BUILTIN_MODES)


@pytest.mark.parametrize("kind", list(Kind))
def test_schema_is_an_object_with_one_array_of_items_ending_in_text(kind: Kind) -> None:
    schema = response_schema(kind).model_dump(exclude_none=True)
    shape = SHAPES[kind]
    assert schema["type"] == "OBJECT" and shape.array in schema["required"]
    item = schema["properties"][shape.array]["items"]
    assert item["property_ordering"] == [f.name for f in shape.fields]
    assert item["properties"][item["property_ordering"][-1]]["type"] == "STRING"


def test_chapter_items_have_start_end_title_summary_and_speech() -> None:
    item = response_schema(Kind.CHAPTERS).properties["chapters"].items
    assert item.required == ["start", "end", "title", "summary", "speech"]
    assert "MM:SS" in item.properties["start"].description


def test_a_response_schema_asks_for_json_and_keeps_the_rest() -> None:
    catalog = load_catalog()
    model = next(m for m in catalog.models if m.is_callable(dt.date.today()))
    plain = build_request(model, checked(model, []), "Chapters please", defaults_for(model))
    asked = build_request(
        model,
        checked(model, []),
        "Chapters please",
        defaults_for(model),
        response_schema=response_schema(Kind.CHAPTERS),
    )
    assert asked.config.response_mime_type == "application/json"
    assert asked.config.response_schema == response_schema(Kind.CHAPTERS)
    assert asked.contents == plain.contents and asked.model_id == plain.model_id
    assert plain.config.response_mime_type is None and plain.config.response_schema is None


def test_saved_modes_are_kept_in_a_file(tmp_path: Path) -> None:
    path = tmp_path / "data" / "modes.json"
    store = ModeStore(path)
    mine = store.save("Goals", Kind.MOMENTS, "  List every goal.  ")
    assert mine.id == "user:goals" and not mine.builtin and mine.prompt == "List every goal."
    again = ModeStore(path)  # a new process reads the same file
    assert again.get("user:goals") == mine
    assert again.all()[: len(BUILTIN_MODES)] == list(BUILTIN_MODES)
    store.save("goals", Kind.MOMENTS, "Only headers.")  # same name: replaced
    assert [m.prompt for m in store.all() if not m.builtin] == ["Only headers."]
    assert store.delete("user:goals", owner=LOCAL_OWNER)
    assert [m for m in store.all() if not m.builtin] == []


@pytest.mark.parametrize(
    ("name", "prompt", "says"),
    [("", "x", "name"), ("Mine", " ", "prompt"), ("Chapters", "x", "built-in")],
)
def test_a_mode_that_cannot_be_saved_says_why(
    tmp_path: Path, name: str, prompt: str, says: str
) -> None:
    with pytest.raises(ModeError, match=says):
        ModeStore(tmp_path / "m.json").save(name, Kind.CHAPTERS, prompt)


def test_a_damaged_file_is_read_as_far_as_it_goes(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(
        json.dumps([{"id": "user:a", "name": "A", "kind": "events", "prompt": "p"}, {"id": 3}])
    )
    assert [m.name for m in ModeStore(path).all() if not m.builtin] == ["A"]
    path.write_text("{not json")
    assert ModeStore(path).all() == list(BUILTIN_MODES)
