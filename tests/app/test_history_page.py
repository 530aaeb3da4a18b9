"""The History page in AppTest: kept runs listed, opened, re-run, compared, deleted, replayed."""

from __future__ import annotations

import json

from reelscope.generation.events import Completed, Finished, TextDelta, Usage
from reelscope.parameters import GenerationParams
from reelscope.runs import Run, RunSpec
from reelscope.store import STORE_FILENAME, open_store
from reelscope.store.transfer import export_json
from reelscope.tasks import registry
from tests.app.conftest import start_app, texts
from tests.app.test_ask_page import run_to_the_end

TABLE = "history.table"


def seed(data_dir, prompts_and_answers, model="gemini-3.5-flash", temperature=0.5):
    """Runs kept as the recorder keeps them, in a store opened before the app starts."""
    store = open_store(data_dir)
    ids = []
    for prompt, answer in prompts_and_answers:
        run = Run(RunSpec(model, prompt, GenerationParams(temperature=temperature)))
        for i, word in enumerate(answer.split(" ")):
            run.append(TextDelta(0.05 * (i + 1), word + " "))
        run.append(Usage(0.5, 12, 7, 0, 19))
        run.append(Finished(0.51, "STOP"))
        run.append(Completed(0.52))
        store.runs.record_whole(run, "0.1.0", "local")
        ids.append(run.id)
    store.close()
    return ids


def open_history(app):
    app.switch_page("pages/history.py").run()
    assert not app.exception, app.exception
    return app


def table(app):
    return app.dataframe(key=TABLE).value


def pick(app, *rows):
    app.session_state[TABLE] = {"selection": {"rows": list(rows), "columns": [], "cells": []}}
    app.run()
    assert not app.exception, app.exception


def test_an_empty_history_says_runs_will_show_here(no_settings):
    app = open_history(start_app())
    assert "No runs yet" in texts(app.info)


def test_a_run_made_on_ask_is_listed_opened_and_loaded_back_into_ask(connected, vertex):
    app = start_app()
    app.text_area(key="ask.prompt").input("What colour is scene two?")
    app.slider(key="ask.params.temperature").set_value(0.35)
    run_to_the_end(app)
    answer = registry().get(app.session_state["ask.run_id"]).state().text

    open_history(app)
    listed = table(app)
    assert list(listed["Prompt"]) == ["What colour is scene two?"]
    assert list(listed["Status"]) == ["completed"]
    pick(app, 0)
    assert answer.split()[0] in texts(app.markdown)
    assert "Time to first token" in [m.label for m in app.metric]

    app.button(key="history.rerun").click().run()
    assert not app.exception, app.exception
    assert app.text_area(key="ask.prompt").value == "What colour is scene two?"
    assert app.slider(key="ask.params.temperature").value == 0.35


def test_search_narrows_the_table_and_two_runs_compare(no_settings, tmp_path):
    seed(
        tmp_path / "data",
        [("Count the goals", "Two goals at 01:10 and 03:20"),
         ("Describe the weather", "Sunny all match"),
         ("Count the corners", "Two goals at 01:10 and 04:00")],
    )  # fmt: skip
    app = open_history(start_app())
    assert len(table(app)) == 3
    app.text_input(key="history.text").input("goals").run()
    assert list(table(app)["Prompt"]) == ["Count the corners", "Count the goals"]

    pick(app, 0, 1)
    compared = texts(app.markdown)
    assert "Run 1" in compared and "Run 2" in compared
    assert "line-through" in compared and "04:00" in compared  # the words that differ, marked
    [params] = [d.value for d in app.dataframe if "Parameter" in d.value.columns]
    assert list(params["Parameter"]) == ["prompt"]


def test_delete_hides_a_run_undo_brings_it_back_and_leaving_the_page_makes_it_final(
    no_settings, tmp_path
):
    first, second = seed(tmp_path / "data", [("keep me", "a b"), ("delete me", "c d")])
    app = open_history(start_app())
    pick(app, 0)  # newest first: "delete me"
    app.button(key="history.delete").click().run()
    assert list(table(app)["Prompt"]) == ["keep me"]
    app.button(key="history.undo").click().run()
    assert sorted(table(app)["Prompt"]) == ["delete me", "keep me"]

    pick(app, 0)
    app.button(key="history.delete").click().run()
    app.switch_page("pages/models.py").run()
    open_history(app)
    assert list(table(app)["Prompt"]) == ["keep me"]
    assert app.get("button") and not [b for b in app.button if b.key == "history.undo"]
    store = open_store(tmp_path / "data")
    assert store.runs.get(second) is None and store.runs.get(first) is not None
    store.close()


def test_a_corrupt_history_file_is_reported_and_moved_aside(no_settings, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / STORE_FILENAME).write_bytes(b"definitely not sqlite " * 64)
    app = open_history(start_app())
    assert "moved aside" in texts(app.warning)
    assert list(data.glob(f"{STORE_FILENAME}.unreadable-*"))


def test_an_exported_run_imports_elsewhere_marked_imported(no_settings, tmp_path):
    source = tmp_path / "elsewhere"
    [run_id] = seed(source, [("Exported prompt", "exported answer")])
    store = open_store(source)
    exported = export_json(store.runs.get(run_id), "0.1.0")
    store.close()

    app = open_history(start_app())
    app.get("file_uploader")[0].upload("run.json", exported.encode(), "application/json")
    app.run()
    app.button(key="history.import_go").click().run()
    assert "Imported 1 run" in texts(app.success)
    assert list(table(app)["Status"]) == ["completed (imported)"]

    app.get("file_uploader")[0].upload(
        "bad.json", json.dumps({"a": 1}).encode(), "application/json"
    )
    app.run()
    app.button(key="history.import_go").click().run()
    assert "not a Reelscope run" in texts(app.error)


def test_a_replay_is_marked_and_sends_nothing(connected, vertex):
    app = start_app()
    app.text_area(key="ask.prompt").input("Replay me")
    run_to_the_end(app)
    original = registry().get(app.session_state["ask.run_id"])
    sent = len(vertex.requests)

    open_history(app)
    pick(app, 0)
    app.button(key="history.replay").click().run()
    assert not app.exception, app.exception
    banner = texts(app.info)
    assert "Replay" in banner and "gemini" in banner and "Nothing is sent" in banner
    replay = registry().get(app.session_state["history.replay_id"])
    assert replay.wait_done(timeout=10)
    assert replay.state().text == original.state().text
    assert len(vertex.requests) == sent, "a replay must not call Vertex AI"
