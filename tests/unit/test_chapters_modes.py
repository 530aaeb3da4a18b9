"""Modes: a prompt plus a schema per kind; the users' own modes kept in the store's database,
on SQLite and on PostgreSQL (tests/conftest.py), and a data folder's old JSON file imported once."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from reelscope.catalog import load_catalog
from reelscope.chapters.modes import BUILTIN_MODES, SHAPES, Kind, Mode, ModeError, response_schema
from reelscope.generation.request import build_request
from reelscope.owners import NotYours
from reelscope.parameters import defaults_for
from reelscope.store import ModeStore, open_store
from reelscope.store.modes import MODES_FILENAME
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


@pytest.fixture
def modes(store_opener) -> ModeStore:
    return store_opener().modes


def test_saved_modes_are_kept_in_the_store(store_opener) -> None:
    store = store_opener().modes
    mine = store.save("Goals", Kind.MOMENTS, "  List every goal.  ")
    assert mine.id == "user:goals" and not mine.builtin and mine.prompt == "List every goal."
    again = store_opener().modes  # a restart opens the same database
    assert again.get("user:goals") == mine
    assert again.all()[: len(BUILTIN_MODES)] == list(BUILTIN_MODES)
    store.save("goals", Kind.EVENTS, "Only headers.")  # same name: replaced
    assert [(m.kind, m.prompt) for m in again.all() if not m.builtin] == [
        (Kind.EVENTS, "Only headers.")
    ]
    assert store.delete("user:goals", owner=LOCAL_OWNER)
    assert [m for m in again.all() if not m.builtin] == [] and again.get("user:goals") is None
    assert not store.delete("user:goals", owner=LOCAL_OWNER), "gone already"


def test_own_modes_are_listed_by_name_after_the_built_in_ones(modes: ModeStore) -> None:
    for name in ("zebra", "Apple", "mango"):
        modes.save(name, Kind.CHAPTERS, f"about {name}")
    assert [m.name for m in modes.all()[len(BUILTIN_MODES) :]] == ["Apple", "mango", "zebra"]
    assert modes.get("chapters") == BUILTIN_MODES[0]


def test_two_instances_on_one_database_show_the_same_modes(database_url_for, tmp_path) -> None:
    """Two servers, each with its own data folder, on one PostgreSQL (on SQLite: two stores on
    the one file of a data folder); a mode saved on one is listed and deleted on the other."""
    url = database_url_for("shared")
    first = open_store(tmp_path / "a", database_url=url, instance="a")
    second = open_store(tmp_path / ("b" if url else "a"), database_url=url, instance="b")
    try:
        saved = first.modes.save("Goals", Kind.MOMENTS, "List the goals.", owner="ann@x.org")
        assert second.modes.get(saved.id) == saved
        assert second.modes.all("ann@x.org")[-1] == saved
        assert second.modes.delete(saved.id, owner="ann@x.org")
        assert first.modes.all("ann@x.org") == list(BUILTIN_MODES)
    finally:
        first.close()
        second.close()


def old_file(folder: Path, records: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MODES_FILENAME
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def test_a_data_folders_modes_file_is_imported_once_and_kept(store_opener, tmp_path) -> None:
    records = [
        {"id": "user:goals", "name": "Goals", "kind": "moments", "prompt": "List the goals."},
        {"id": "user:x:fouls", "name": "Fouls", "kind": "events", "prompt": "p", "owner": "x"},
    ]
    path = old_file(tmp_path / "main", records)
    store = store_opener()
    goals = Mode("user:goals", "Goals", Kind.MOMENTS, "List the goals.", LOCAL_OWNER)
    assert [m for m in store.modes.all() if not m.builtin] == [goals], "before owners: local"
    assert store.modes.get("user:x:fouls").owner == "x"
    assert not path.exists(), "never read again"
    assert json.loads(path.with_name(MODES_FILENAME + ".imported").read_text()) == records
    store.modes.delete("user:goals", owner=LOCAL_OWNER)
    store_opener()  # opened again: nothing imported twice, the delete stands
    assert store.modes.get("user:goals") is None


def test_an_import_keeps_what_the_database_has_and_the_file_beside_it(store_opener, tmp_path):
    store = store_opener()
    mine = store.modes.save("Goals", Kind.MOMENTS, "Newer, in the database.")
    (tmp_path / "main").mkdir(exist_ok=True)  # on PostgreSQL the store made no file there
    (tmp_path / "main" / (MODES_FILENAME + ".imported")).write_text("an earlier import")
    path = old_file(tmp_path / "main", [{"id": mine.id, "name": "Goals", "kind": "moments",
                                        "prompt": "Older, in the file."}])  # fmt: skip
    assert store.modes.import_file(path) == 0
    assert store.modes.get(mine.id) == mine
    kept = sorted(p.read_text() for p in (tmp_path / "main").glob(MODES_FILENAME + ".imported*"))
    assert len(kept) == 2 and "an earlier import" in kept and "Older, in the file." in kept[0]


@pytest.mark.parametrize(
    ("name", "prompt", "says"),
    [("", "x", "name"), ("Mine", " ", "prompt"), ("Chapters", "x", "built-in")],
)
def test_a_mode_that_cannot_be_saved_says_why(
    modes: ModeStore, name: str, prompt: str, says: str
) -> None:
    with pytest.raises(ModeError, match=says):
        modes.save(name, Kind.CHAPTERS, prompt)
    assert modes.all() == list(BUILTIN_MODES), "nothing kept"


def test_a_damaged_file_is_imported_as_far_as_it_goes(store_opener, tmp_path: Path) -> None:
    old_file(
        tmp_path / "main",
        [
            {"id": "user:a", "name": "A", "kind": "events", "prompt": "p"},
            {"id": 3},
            {"id": "user:b", "name": "B", "kind": "no such kind", "prompt": "p"},
            {"id": "chapters", "name": "C", "kind": "events", "prompt": "not a built-in"},
            "not a mode",
        ],
    )
    assert [m.name for m in store_opener().modes.all() if not m.builtin] == ["A"]
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / MODES_FILENAME).write_text("{not json")
    assert store_opener("other").modes.all() == list(BUILTIN_MODES)
    assert (tmp_path / "other" / (MODES_FILENAME + ".imported")).read_text() == "{not json"


def test_a_save_never_replaces_another_owners_mode(store_opener, tmp_path: Path) -> None:
    """A hand-edited old file gave Bob's mode the id the local user's 'Goals' would have."""
    bobs = {"id": "user:goals", "name": "G", "kind": "events", "prompt": "Bob's", "owner": "bob"}
    old_file(tmp_path / "main", [bobs])
    modes = store_opener().modes
    with pytest.raises(NotYours, match="only its owner"):
        modes.save("Goals", Kind.MOMENTS, "mine")
    assert modes.get("user:goals").prompt == "Bob's"
