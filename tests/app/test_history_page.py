"""The History page in AppTest: kept runs listed, opened, re-run, compared, deleted, replayed."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from components.history import run_compare
from reelscope.catalog import load_catalog
from reelscope.costs import usage_cost
from reelscope.generation.events import (
    Completed,
    EndedEarly,
    ErrorKind,
    Failed,
    Finished,
    RunError,
    TextDelta,
    Usage,
)
from reelscope.parameters import GenerationParams
from reelscope.runs import Run, RunSpec, SourceRef
from reelscope.store import STORE_FILENAME, open_store
from reelscope.store.transfer import export_json
from reelscope.tasks import LOCAL_OWNER, registry
from reelscope.untrusted import WORD_JOINER, renders_unsafe
from tests.app.conftest import start_app, texts
from tests.app.test_ask_page import run_to_the_end

TABLE = "history.table"


def seed(data_dir, prompts_and_answers, model="gemini-3.5-flash", temperature=0.5, owners=None):
    """Runs kept as the recorder keeps them, in a store opened before the app starts; each
    the local user's unless `owners` names theirs."""
    store = open_store(data_dir)
    ids = []
    owners = owners or [LOCAL_OWNER] * len(prompts_and_answers)
    for (prompt, answer), owner in zip(prompts_and_answers, owners, strict=True):
        spec = RunSpec(model, prompt, GenerationParams(temperature=temperature))
        run = Run(spec, owner=owner)
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


def test_open_in_ask_brings_back_the_runs_video_with_its_clip_and_a_link(
    connected, vertex, video_file
):
    app = start_app()
    uploader = next(u for u in app.get("file_uploader") if u.key.startswith("ask.sources.uploads"))
    uploader.upload(video_file.name, video_file.read_bytes(), "video/mp4")
    app.run()
    clip = next(k for k in app.session_state if str(k).endswith(".end") and "clip" in str(k))
    app.text_input(key=clip).input("0:08").run()
    app.text_input(key="ask.sources.link_text").input("gs://my-bucket/holiday.mp4")
    app.button(key="ask.sources.add_link").click().run()
    app.text_area(key="ask.prompt").input("Describe both.")
    run_to_the_end(app)
    sent = vertex.parts_of()

    app.session_state["ask.sources.items"] = []  # a later visit: the page holds nothing now
    open_history(app)
    pick(app, 0)
    app.button(key="history.rerun").click().run()
    assert not app.exception, app.exception
    assert app.text_input(key=clip).value == "0:08"
    run_to_the_end(app)
    assert vertex.parts_of() == sent, "the same media, clip and link, from the library"


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
    # The words that differ, marked in Markdown (no raw HTML), their punctuation escaped.
    assert ":red-background[~~04\\:00~~]" in compared
    assert ":green-background[03\\:20]" in compared
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
    app.button(key="history.deleted.undo").click().run()
    assert sorted(table(app)["Prompt"]) == ["delete me", "keep me"]

    pick(app, 0)
    app.button(key="history.delete").click().run()
    app.switch_page("pages/models.py").run()
    open_history(app)
    assert list(table(app)["Prompt"]) == ["keep me"]
    assert app.get("button") and not [b for b in app.button if b.key == "history.deleted.undo"]
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
    assert not app.error
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


def delete_button(app):
    """The Delete button the page shows for what is picked, or None when nothing is picked."""
    shown = {b.key: b for b in app.button}
    for key in ("history.delete", "history.delete2", "history.delete_n"):
        if key in shown:
            return shown[key]
    return None


def test_the_reported_sequence_loses_no_run_and_deletes_only_what_was_picked(no_settings, tmp_path):
    older, newer = seed(tmp_path / "data", [("first run", "a b"), ("second run", "c d")])
    app = open_history(start_app())
    pick(app, 0)  # "second run"
    delete_button(app).click().run()
    assert list(table(app)["Prompt"]) == ["first run"]
    assert delete_button(app) is None, "the next run must not be picked in the deleted one's place"
    assert "Deleted the run “second run”" in texts(app.info)

    pick(app, 0)
    delete_button(app).click().run()
    assert "No runs yet" in texts(app.info)  # the table is gone: both deletes still undoable
    assert "Deleted 2 runs in 2 steps" in texts(app.info)

    app.button(key="history.deleted.undo").click().run()
    assert list(table(app)["Prompt"]) == ["first run"]
    assert app.session_state["history.picked"] == [older], "what came back is opened"
    assert "Deleted the run “second run”" in texts(app.info)
    app.button(key="history.deleted.undo").click().run()
    assert list(table(app)["Prompt"]) == ["second run", "first run"]
    assert not [b for b in app.button if b.key == "history.deleted.undo"]

    store = open_store(tmp_path / "data")
    assert not store.runs.get(older).deleted and not store.runs.get(newer).deleted
    exported = export_json(store.runs.get(newer), "0.1.0")
    store.close()

    pick(app, 0, 1)
    delete_button(app).click().run()
    app.switch_page("pages/models.py").run()
    open_history(app)
    assert "No runs yet" in texts(app.info) and "Deleted" not in texts(app.info)
    store = open_store(tmp_path / "data")
    assert store.runs.get(older) is None and store.runs.get(newer) is None, "purged for good"
    store.close()

    app.get("file_uploader")[0].upload("run.json", exported.encode(), "application/json")
    app.run()
    app.button(key="history.import_go").click().run()
    assert "Imported 1 run" in texts(app.success), "a purged run can be imported again"


def test_importing_a_deleted_run_brings_it_back_and_leaves_nothing_to_undo(no_settings, tmp_path):
    [run_id] = seed(tmp_path / "data", [("deleted then imported", "a b")])
    store = open_store(tmp_path / "data")
    exported = export_json(store.runs.get(run_id), "0.1.0")
    store.close()
    app = open_history(start_app())
    pick(app, 0)
    delete_button(app).click().run()
    app.get("file_uploader")[0].upload("run.json", exported.encode(), "application/json")
    app.run()
    app.button(key="history.import_go").click().run()
    assert "Brought back 1 run you had deleted" in texts(app.success)
    assert list(table(app)["Prompt"]) == ["deleted then imported"]
    assert list(table(app)["Status"]) == ["completed"], "the kept run, not a copy"
    app.run()
    assert not [b for b in app.button if b.key == "history.deleted.undo"]

    app.button(key="history.import_go").click().run()
    assert "already in your history" in texts(app.error)


def test_the_pick_follows_its_run_when_a_new_run_is_listed_above_it(no_settings, tmp_path):
    data = tmp_path / "data"
    [old] = seed(data, [("picked run", "a b")])
    app = open_history(start_app())
    pick(app, 0)
    seed(data, [("a newer run from another tab", "c d")])
    app.run()
    assert list(table(app)["Prompt"]) == ["a newer run from another tab", "picked run"]
    assert app.session_state["history.picked"] == [old]
    assert app.session_state[TABLE]["selection"]["rows"] == [1]


def keep(data_dir, events, prompt="Describe", model="gemini-3.5-flash", params=None, **spec):
    """One run with exactly these events, kept as an import or a server restart leaves it."""
    store = open_store(data_dir)
    run = Run(RunSpec(model, prompt, params or GenerationParams(temperature=0.5), **spec))
    for event in events:
        run.append(event)
    store.runs.record_whole(run, "0.1.0", "local")
    store.close()
    return run.id


PLAIN_TEXT_FIELDS = ("options",)  # a select's choices are drawn as text, not as Markdown


def shown_strings(app, markdown=False) -> list[str]:
    """Every string the page hands the browser (bodies, labels, values, help; table cells as
    drawn, a missing value as the table's placeholder), page and sidebar. With `markdown`,
    only those the browser renders as Markdown (not table cells or a select's choices)."""
    found: list[str] = []
    for node in app._tree:
        proto = getattr(node, "proto", None)
        if proto is None or not hasattr(proto, "ListFields"):
            continue
        if node.type == "html":
            continue  # the app's own st.html (the prefetcher's style rule), never model text
        if node.type == "dataframe":
            if markdown:
                continue
            shown_none = proto.placeholder if proto.HasField("placeholder") else "None"
            for column in node.value.columns:
                found.append(str(column))
                found += [shown_none if _missing(v) else str(v) for v in node.value[column]]
        else:
            found += _strings(proto, PLAIN_TEXT_FIELDS if markdown else ())
    return found


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _strings(message, skip=()) -> list[str]:
    strings = []
    for field, value in message.ListFields():
        if field.name in skip:
            continue
        values = value if field.is_repeated else [value]
        for item in values:
            if isinstance(item, str):
                strings.append(item)
            elif hasattr(item, "ListFields"):
                strings += _strings(item, skip)
    return strings


def test_an_interrupted_run_shows_what_arrived_and_that_the_server_stopped(no_settings, tmp_path):
    keep(tmp_path / "data", [TextDelta(0.4, "half an "), TextDelta(3.8, "answer")])
    app = open_history(start_app())
    assert list(table(app)["Status"]) == ["interrupted"]
    pick(app, 0)  # returns: the detail does not follow the kept run as if it were live
    assert "half an answer" in texts(app.markdown) and "▌" not in texts(app.markdown)
    assert "Interrupted: the server stopped while this run was streaming" in texts(app.error)
    assert "Streaming…" not in texts(app.caption)

    app.button(key="history.replay").click().run()
    replay = registry().get(app.session_state["history.replay_id"])
    assert replay.wait_done(timeout=10)
    app.run()
    assert replay.state().text == "half an answer"
    assert replay.state().error.message.startswith("Interrupted: the server stopped")


def test_a_stream_that_ended_early_is_incomplete_and_no_none_is_shown(no_settings, tmp_path):
    data = tmp_path / "data"
    early = keep(
        data, [TextDelta(0.2, "cut "), EndedEarly(0.3), Completed(0.31)], prompt="Ended early",
        params=GenerationParams(),  # every parameter left to the model: none of them "None"
        sources=(SourceRef("video", "video/mp4", "clip.mp4"),),  # neither a URI nor a hash
    )  # fmt: skip
    seed(data, [("Finished", "whole answer")])
    app = open_history(start_app())
    assert list(table(app)["Status"]) == ["completed", "incomplete"]
    app.multiselect(key="history.statuses").select("incomplete").run()
    assert list(table(app)["Prompt"]) == ["Ended early"]
    pick(app, 0)
    assert app.session_state["history.picked"] == [early]
    assert "The stream ended before the model said it was done" in texts(app.warning)
    assert not [s for s in shown_strings(app) if "None" in s]

    app.multiselect(key="history.statuses").unselect("incomplete").run()
    pick(app, 0, 1)  # the comparison: parameters set on one run only
    [params] = [d.value for d in app.dataframe if "Parameter" in d.value.columns]
    assert "not set" in list(params["Run 2"])  # the early run left temperature to the model
    assert not [s for s in shown_strings(app) if "None" in s]


LISTENER = "http://127.0.0.1:9/leak"
HOSTILE = f'![x]({LISTENER}.png) <img src="{LISTENER}-img"> ] [ :red[alarm] `tick'


def hostile_export() -> str:
    """An exported run whose every field a user could have edited holds markup."""
    store_dir = Path(tempfile.mkdtemp())
    events = [
        TextDelta(0.1, f"Answer {HOSTILE}"),
        Usage(0.2, 5, 5, 0, 10),
        Finished(0.3, f"STOP {HOSTILE}"),
        Failed(0.4, RunError(ErrorKind.UNKNOWN, f"Error {HOSTILE}", f"Hint {HOSTILE}")),
    ]
    run_id = keep(
        store_dir, events, prompt=f"# Prompt {HOSTILE}", model=f"gemini {HOSTILE}",
        sources=(SourceRef("video", "video/mp4", f"Label {HOSTILE}", uri=f"gs://b/{HOSTILE}"),),
    )  # fmt: skip
    store = open_store(store_dir)
    exported = export_json(store.runs.get(run_id), "0.1.0")
    store.close()
    return exported


def test_an_imported_run_with_hostile_fields_shows_them_as_text(no_settings, tmp_path):
    seed(tmp_path / "data", [("Plain run", "Answer plain")])
    app = open_history(start_app())
    app.get("file_uploader")[0].upload("run.json", hostile_export().encode(), "application/json")
    app.run()
    app.button(key="history.import_go").click().run()
    assert "Imported 1 run" in texts(app.success)

    pick(app, 0)  # the imported run, opened
    shown = shown_strings(app)
    for field in ("Prompt", "gemini", "Label", "gs://b/", "Answer", "Error", "Hint", "STOP"):
        assert [s for s in shown if field in s and "alarm" in s], f"{field} is not shown"
    unsafe = [s for s in shown_strings(app, markdown=True) if renders_unsafe(s)]
    assert not unsafe, unsafe
    assert not [h.value for h in app.subheader if h.value.startswith("#")]

    pick(app, 0, 1)  # compared with a plain run: the diff too
    unsafe = [s for s in shown_strings(app, markdown=True) if renders_unsafe(s)]
    assert not unsafe, unsafe
    assert [m for m in texts(app.markdown).splitlines() if "alarm" in m]

    pick(app, 0)
    app.button(key="history.delete").click().run()  # the notice quotes the deleted prompt
    assert "Prompt" in texts(app.info)
    assert not [s for s in shown_strings(app, markdown=True) if renders_unsafe(s)]


OPENERS = {":red-background[~~": "removed", ":green-background[": "added"}
CLOSERS = {"removed": "~~]", "added": "]"}


def read_diff(markdown: str) -> list[tuple[str, str]]:
    """(mark, words) of one side of a diff, read as Streamlit's Markdown reads it: escapes
    first, word joiners unseen; the diff's own marks are the only markup allowed."""
    pieces, mark, words, index = [], "same", "", 0
    while index < len(markdown):
        rest = markdown[index:]
        if rest.startswith(WORD_JOINER):  # invisible: read as nothing
            index += 1
            continue
        if rest.startswith("\\"):
            words, index = words + rest[1], index + 2
            continue
        opener = next((o for o in OPENERS if rest.startswith(o)), None)
        if mark == "same" and opener:
            pieces.append((mark, words))
            mark, words, index = OPENERS[opener], "", index + len(opener)
        elif mark != "same" and rest.startswith(CLOSERS[mark]):
            pieces.append((mark, words))
            mark, words, index = "same", "", index + len(CLOSERS[mark])
        else:
            assert rest[0] not in "[]:!<`*_~$&\\", f"unescaped {rest[0]!r} in {markdown!r}"
            words, index = words + rest[0], index + 1
    assert mark == "same", f"a mark left open in {markdown!r}"
    pieces.append((mark, words))
    return [(m, " ".join(w.split())) for m, w in pieces if w.strip()]


def test_a_diff_of_hostile_answers_marks_their_words_and_nothing_else():
    left = f"Same start {HOSTILE} ] ~~ only left [x]: end"
    right = f"Same start {HOSTILE} :green[only] right end"
    pieces = run_compare.word_diff(left, right)
    for hide, marked in (("added", "removed"), ("removed", "added")):
        shown = read_diff(run_compare.diff_markdown(pieces, hide))
        assert [piece for piece in shown if piece[0] != "same"] == [
            (op, text) for op, text in pieces if op == marked
        ]
        assert " ".join(words for _, words in shown) == " ".join(
            text for op, text in pieces if op != hide
        )
    assert run_compare.diff_markdown([], "added") == run_compare.NO_TEXT


def test_a_run_still_going_in_another_session_shows_what_arrived_and_is_not_followed(
    no_settings, tmp_path
):
    app = open_history(start_app())  # the server's store is open: it will not close the run
    other = open_store(tmp_path / "data")  # another session's recorder, in this process
    run = Run(RunSpec("gemini-3.5-flash", "Still going", GenerationParams()))
    other.recorder(run)
    run.append(TextDelta(0.1, "so far "))
    assert other.recorder.flush(5)
    app.run()
    assert list(table(app)["Status"]) == ["running"]
    pick(app, 0)  # returns at once: nothing of this session's to follow
    assert "still going in another tab" in texts(app.info)
    assert "so far" in texts(app.markdown) and not app.error
    run.append(Completed(0.2))
    other.close()


def test_a_run_on_the_api_key_says_which_backend_answered_and_costs_its_price(api_key_only):
    vertex = api_key_only
    app = start_app()
    app.text_area(key="ask.prompt").input("Which backend?")
    run_to_the_end(app)
    run = registry().get(app.session_state["ask.run_id"])
    assert run.spec.extra["backend"] == "gemini-api"
    assert vertex.last_request().backend == "gemini-api"

    open_history(app)
    pick(app, 0)
    assert "Answered by Gemini Developer API." in texts(app.caption)
    reader = open_store(Path(os.environ["REELSCOPE_DATA_DIR"]))
    try:
        kept = reader.runs.get(run.id)
    finally:
        reader.close()
    assert kept.spec.extra["backend"] == "gemini-api"
    price = load_catalog().get(run.spec.model_id).price_on("gemini-api")
    assert kept.cost_usd == usage_cost(price, run.state().usage).total_usd is not None
    assert vertex.api_key not in json.dumps(kept.spec.to_record())

    app.button(key="history.replay").click().run()
    sent = len(vertex.requests)
    banner = texts(app.info)
    assert "Nothing is sent" in banner
    assert registry().get(app.session_state["history.replay_id"]).wait_done(timeout=10)
    assert len(vertex.requests) == sent
