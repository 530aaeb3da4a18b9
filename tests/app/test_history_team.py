"""Mine / Team in AppTest: History lists the user's runs by default, the team's on the switch,
others' runs read-only (opened, replayed, exported, put on Ask, compared; never deleted); the
Library and the prompt library likewise.

AppTest sends no HTTP request, so no gate puts a verified user in its headers: the session is
the local user (`LOCAL_OWNER`), as with `make run`. A teammate's runs are seeded in the same
history under their email, as a shared database holds them.
"""

from __future__ import annotations

from reelscope.library import MediaLibrary, library_dir
from reelscope.media import source_from_link
from reelscope.store import open_store
from tests.app.conftest import start_app, texts
from tests.app.test_history_page import delete_button, open_history, pick, table
from tests.app.test_history_page import seed as seed_history

WHOSE = "history.whose"
TEAMMATE = "bob@example.com"
# An email is text from elsewhere: the grid must show it as it is, never as Markdown.
MARKDOWN_EMAIL = "**bob**_[x](https://e.example)@example.com"
READ_ONLY = "Only a run's owner can delete it"


def seed(data_dir, runs: list[tuple[str, str]]) -> list[str]:
    """Runs (prompt, owner), oldest first, kept as the recorder keeps them."""
    answers = [(prompt, f"Answer to {prompt}") for prompt, _ in runs]
    return seed_history(data_dir, answers, owners=[owner for _, owner in runs])


def team(app):
    app.segmented_control(key=WHOSE).set_value("Team").run()
    assert not app.exception, app.exception
    return app


def test_mine_is_the_default_and_team_adds_the_teammates_runs_with_their_owner(
    no_settings, tmp_path
):
    seed(tmp_path / "data", [("my question", "local"), ("bob's question", MARKDOWN_EMAIL)])
    app = open_history(start_app())
    assert app.segmented_control(key=WHOSE).value == "Mine"
    assert list(table(app)["Prompt"]) == ["my question"]
    assert "Owner" not in table(app).columns, "mine needs no owner column"

    team(app)
    listed = table(app)
    assert list(listed["Prompt"]) == ["bob's question", "my question"]
    assert list(listed["Owner"]) == [MARKDOWN_EMAIL, "you"], "the email as text, unchanged"


def test_a_teammates_run_opens_replays_and_exports_but_offers_no_delete(no_settings, tmp_path):
    seed(tmp_path / "data", [("my question", "local"), ("bob's question", TEAMMATE)])
    app = team(open_history(start_app()))
    pick(app, 0)  # Bob's, the newest
    assert "Answer to bob's question" in texts(app.markdown)
    shown = {b.key for b in app.button}
    assert {"history.rerun", "history.replay"} <= shown
    assert {b.key for b in app.get("download_button")} >= {"history.json", "history.md"}
    assert delete_button(app) is None
    assert READ_ONLY in texts(app.caption)

    pick(app, 0, 1)  # his and mine: compared, not deleted together
    assert delete_button(app) is None
    assert {b.key for b in app.get("download_button")} >= {"history.cmp_json", "history.cmp_md"}

    pick(app, 1)  # mine alone, in the team view: mine to delete
    assert delete_button(app) is not None
    assert READ_ONLY not in texts(app.caption)


def test_open_in_ask_works_for_a_teammates_run(no_settings, tmp_path):
    seed(tmp_path / "data", [("bob's question", TEAMMATE)])
    app = team(open_history(start_app()))
    pick(app, 0)
    app.button(key="history.rerun").click().run()
    assert not app.exception, app.exception
    assert app.text_area(key="ask.prompt").value == "bob's question"


def test_the_choice_is_kept_across_a_visit_to_another_page(no_settings, tmp_path):
    seed(tmp_path / "data", [("my question", "local"), ("bob's question", TEAMMATE)])
    app = team(open_history(start_app()))
    app.switch_page("pages/ask.py").run()
    open_history(app)
    assert app.segmented_control(key=WHOSE).value == "Team"
    assert len(table(app)) == 2


def test_deleting_my_runs_in_the_team_view_leaves_the_teammates(no_settings, tmp_path):
    mine, bobs = seed(tmp_path / "data", [("my question", "local"), ("bob's", TEAMMATE)])
    app = team(open_history(start_app()))
    pick(app, 1)
    delete_button(app).click().run()
    assert not app.exception, app.exception
    assert list(table(app)["Prompt"]) == ["bob's"]
    app.switch_page("pages/models.py").run()  # leaving the page makes the delete final
    open_history(app)
    assert list(table(app)["Prompt"]) == ["bob's"]
    store = open_store(tmp_path / "data")
    assert store.runs.get(mine) is None and store.runs.get(bobs) is not None
    store.close()


def test_a_teammates_saved_prompt_is_offered_but_only_mine_can_be_deleted(no_settings, tmp_path):
    store = open_store(tmp_path / "data")
    theirs = store.prompts.save("Bob's recap", "Recap in {language}.", owner=TEAMMATE)
    mine = store.prompts.save("My recap", "Recap briefly.", owner="local")
    store.close()
    app = start_app()
    app.selectbox(key="ask.library.choice").set_value(theirs.id).run()
    assert not [b for b in app.button if b.key == "ask.library.delete"], "Bob's is read-only"
    app.button(key="ask.library.use").click().run()
    assert app.text_area(key="ask.prompt").value.startswith("Recap in ")
    app.selectbox(key="ask.library.choice").set_value(mine.id).run()
    app.button(key="ask.library.delete").click().run()
    assert not app.exception, app.exception
    assert "Deleted “My recap”." in texts(app.info)


def test_the_library_lists_my_files_and_on_the_switch_the_teams_read_only(no_settings, tmp_path):
    library = MediaLibrary(library_dir(tmp_path / "data"))
    library.add_link(source_from_link("https://example.com/mine.mp4"), owner="local")
    library.add_link(source_from_link("https://example.com/bobs.mp4"), owner=TEAMMATE)
    library.db.close()
    app = start_app()
    app.switch_page("pages/library.py").run()
    assert not app.exception, app.exception
    grid = "library.table"
    assert list(app.dataframe(key=grid).value["Name"]) == ["mine.mp4"]

    app.segmented_control(key="library.whose").set_value("Team").run()
    listed = app.dataframe(key=grid).value
    assert dict(zip(listed["Name"], listed["Owner"], strict=True)) == {
        "mine.mp4": "you",
        "bobs.mp4": TEAMMATE,
    }
    bobs = list(listed["Owner"]).index(TEAMMATE)
    app.session_state[grid] = {"selection": {"rows": [bobs], "columns": [], "cells": []}}
    app.run()
    shown = {b.key for b in app.button}
    assert "library.to_ask" in shown and "library.delete" not in shown
    assert "Only a file's owner can delete it" in texts(app.caption)
    app.session_state[grid] = {"selection": {"rows": [1 - bobs], "columns": [], "cells": []}}
    app.run()
    assert "library.delete" in {b.key for b in app.button}


def test_a_delete_the_store_refuses_is_said_plainly_and_the_run_stays(no_settings, tmp_path):
    [run_id] = seed(tmp_path / "data", [("my question", "local")])
    app = open_history(start_app())
    pick(app, 0)
    store = open_store(tmp_path / "data")  # meanwhile the run became a teammate's
    with store.db.transaction() as tx:
        tx.execute(
            "UPDATE runs SET owner = :owner WHERE id = :id", {"owner": TEAMMATE, "id": run_id}
        )
    store.close()
    delete_button(app).click().run()
    assert not app.exception, app.exception
    assert "1 of the runs picked stayed. Only a run's owner can delete it" in texts(app.error)
    assert "Deleted" not in texts(app.info)
    team(app)
    assert list(table(app)["Prompt"]) == ["my question"]
