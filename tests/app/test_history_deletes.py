"""History never loses a run: random sequences of picks, deletes, undos and page visits.

Driven through AppTest, so the real page logic runs: AppTest cannot click a grid's row, but it
can set the table's selection in session state, the value the browser sends when rows are
ticked. One thing AppTest does not do as a server does: every AppTest run ends through
app_frame.run_through_entrypoint's st.stop() (Streamlit's legacy pages/ mode), which skips the
end-of-run cleanup of widgets a run did not draw; only a page change cleans them. So a widget
vanishing on a rerun of the same page (the table, when no run is listed: how the reported
bug lost a run) is checked in Chromium (tests/e2e/test_history_in_browser.py), and here
everything else. Each example is a new session over the same seeded runs; a model says what
must hold after every step:

- every run is either listed or restorable (in a pending delete) until the page is left;
- Undo brings back the last delete, Undo all every one, and what came back is picked;
- after a delete nothing is picked (the next row never slides into the deleted one's place);
- runs deleted and then left (a visit to another page) are purged for good.

Searches are part of the sequences: one that matches nothing hides the table, as deleting
every run does, and neither is leaving the page.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reelscope.database import SharedDatabase, sqlite_url
from reelscope.store import SCHEMA, STORE_FILENAME, open_store
from reelscope.store.runs import RunRepo
from tests.app.conftest import start_app
from tests.app.test_history_page import delete_button, open_history, pick, seed, table

RUNS = 3
SEARCHES = ("", "answer 1", "zzz")  # every run, one run, none
DELETED_KEY = "history.deleted"
PICKED_KEY = "history.picked"

actions = st.lists(
    st.one_of(
        st.tuples(st.just("pick"), st.sets(st.integers(0, RUNS - 1), min_size=1)),
        st.tuples(st.just("delete")),
        st.tuples(st.just("undo")),
        st.tuples(st.just("undo_all")),
        st.tuples(st.just("visit")),
        st.tuples(st.just("search"), st.sampled_from(SEARCHES)),
    ),
    min_size=1,
    max_size=14,
)


class Model:
    """What the user should see: listed runs, undoable steps, runs gone for good."""

    def __init__(self, ids: list[str]) -> None:
        self.ids = ids
        self.listed = set(ids)
        self.steps: list[list[str]] = []
        self.purged: set[str] = set()
        self.picked: list[str] = []
        self.search = ""

    def shown(self) -> set[str]:
        """The listed runs the search finds (run n's prompt is "run n", its answer "answer n")."""
        return {
            run_id
            for n, run_id in enumerate(self.ids)
            if run_id in self.listed
            and all(t in f"run {n} answer {n}" for t in self.search.split())
        }

    def find(self, text: str) -> None:
        self.search = text
        self.picked = [i for i in self.picked if i in self.shown()]

    def delete(self) -> None:
        if self.picked:
            self.steps.append(list(self.picked))
            self.listed -= set(self.picked)
        self.picked = []

    def undo(self, every: bool) -> None:
        back = [i for step in self.steps for i in step] if every else self.steps[-1]
        self.steps = [] if every else self.steps[:-1]
        self.listed |= set(back)
        self.picked = [i for i in back if i in self.shown()]

    def visit(self) -> None:
        self.purged |= {i for step in self.steps for i in step}
        self.steps = []


def by_prompt(ids: list[str]) -> dict[str, str]:
    return {f"run {n}": run_id for n, run_id in enumerate(ids)}


def listed_ids(app, prompts: dict[str, str]) -> list[str]:
    return [prompts[p] for p in table(app)["Prompt"]] if app.dataframe else []


def button(app, key):
    return next((b for b in app.button if b.key == key), None)


def step(app, model: Model, action: tuple, prompts: dict[str, str]) -> None:
    match action:
        case ("pick", rows):
            shown = listed_ids(app, prompts)
            rows = sorted({r % len(shown) for r in rows}) if shown else []
            if rows:
                pick(app, *rows)
                model.picked = [shown[r] for r in rows]
        case ("delete",):
            if (delete := delete_button(app)) is not None:
                delete.click().run()
                model.delete()
        case ("undo",) | ("undo_all",):
            key = DELETED_KEY + (".undo" if action == ("undo",) else ".undo_all")
            if (undo := button(app, key)) is not None:
                undo.click().run()
                model.undo(every=action == ("undo_all",))
        case ("visit",):
            app.switch_page("pages/models.py").run()
            open_history(app)
            model.visit()
        case ("search", text):
            app.text_input(key="history.text").input(text).run()
            model.find(text)
    assert not app.exception, app.exception


def check(app, model: Model, data_dir, prompts: dict[str, str]) -> None:
    assert set(listed_ids(app, prompts)) == model.shown()
    pending = app.session_state[DELETED_KEY]
    assert [sorted(s) for s in pending.steps] == [sorted(s) for s in model.steps]
    assert sorted(app.session_state[PICKED_KEY]) == sorted(model.picked)
    assert (delete_button(app) is None) == (not model.picked)
    # The file as it is: opening a Store would purge every deleted run, as a server start does.
    database = SharedDatabase(sqlite_url(data_dir / STORE_FILENAME), SCHEMA)
    try:
        for run_id in prompts.values():
            kept = RunRepo(database).get(run_id)
            if run_id in model.purged:
                assert kept is None, "deleted, then the page was left: purged"
            else:
                assert kept is not None, "lost while it was listed or undoable"
                assert kept.deleted == (run_id not in model.listed)
    finally:
        database.close()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=actions)
def test_random_picks_deletes_undos_and_visits_never_lose_a_run(no_settings, tmp_path, sequence):
    data_dir = tmp_path / "data"  # the app's (no_settings), the same for every example
    wipe(data_dir)
    ids = seed(data_dir, [(f"run {n}", f"answer {n}") for n in range(RUNS)])
    prompts = by_prompt(ids)
    app = open_history(start_app())
    model = Model(ids)
    for action in sequence:
        step(app, model, action, prompts)
        check(app, model, data_dir, prompts)
    while button(app, DELETED_KEY + ".undo") is not None:  # everything pending comes back
        step(app, model, ("undo",), prompts)
    check(app, model, data_dir, prompts)
    assert model.listed == set(ids) - model.purged
    app.text_input(key="history.text").input("").run()
    assert set(listed_ids(app, prompts)) == set(ids) - model.purged


def wipe(data_dir) -> None:
    """No runs left from the last example (the app's store is cached by its folder)."""
    store = open_store(data_dir)
    try:
        with store.db.transaction() as tx:
            tx.execute("DELETE FROM runs")
    finally:
        store.close()
