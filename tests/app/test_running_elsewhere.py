"""The sidebar's Running list with a run streaming on another instance of the app.

The other instance is a second store on the app's history (its own instance id), recording a
run it streams; the app lists it with Stop and Open. Stop writes a stop request that the other
instance acts on; Open goes to History, which says the run goes on elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reelscope.generation.events import Completed, TextDelta
from reelscope.parameters import GenerationParams
from reelscope.runs import Run, RunSpec
from reelscope.store import open_store
from reelscope.tasks import LOCAL_OWNER
from tests.app.conftest import start_app, texts

OTHER = "other-host-7-abcdef"


@pytest.fixture
def other_instance(no_settings):
    """Another instance on the app's history, opened after the app's own (a store opening a
    file closes what was left running in it)."""
    app = start_app()
    store = open_store(Path(os.environ["REELSCOPE_DATA_DIR"]), instance=OTHER)
    runs: list[Run] = []

    def streaming(prompt: str) -> Run:
        run = Run(RunSpec("gemini-3.5-flash", prompt, GenerationParams()), owner=LOCAL_OWNER)
        store.recorder(run)
        run.append(TextDelta(0.1, "so far "))
        assert store.recorder.flush(5)
        runs.append(run)
        return run

    yield app, streaming, store
    for run in runs:
        run.append(Completed(0.2))
    store.close()


def test_a_run_on_another_instance_is_listed_and_stop_stops_it_there(other_instance):
    app, streaming, store = other_instance
    run = streaming("Describe the harbour")
    app.run()
    assert not app.exception, app.exception
    sidebar = texts(app.sidebar.markdown) + texts(app.sidebar.caption)
    assert "**Running** · 1" in sidebar
    assert "Running on another instance" in sidebar and OTHER in sidebar
    assert "Describe the harbour" in sidebar

    app.sidebar.button(key=f"running.stop.{run.id}").click().run()
    assert not app.exception, app.exception
    assert run.wait_done(2.0), "the other instance stops it on the request"
    assert run.state().stopped
    assert store.recorder.flush(5)
    app.run()
    assert "Describe the harbour" not in texts(app.sidebar.caption), "an ended run is not listed"


def test_open_on_a_run_on_another_instance_goes_to_history_which_says_where_it_runs(
    other_instance,
):
    app, streaming, _store = other_instance
    run = streaming("Count the boats")
    app.run()
    app.sidebar.button(key=f"running.open.{run.id}").click().run()
    assert not app.exception, app.exception
    assert app.title[0].value == "History"
    info = texts(app.info)
    assert "This run is still going on another instance" in info
    assert "so far" in texts(app.markdown)
