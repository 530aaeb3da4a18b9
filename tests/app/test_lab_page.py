"""The Lab page in AppTest: a grid defined from the library runs online through the emulator,
its cells kept as runs; what keeps a grid from running is said before anything is sent."""

from __future__ import annotations

import time

import pytest

from reelscope.library import MediaLibrary, library_dir
from reelscope.media import source_from_link
from reelscope.store import open_store
from reelscope.tasks import registry
from tests.app.conftest import start_app, texts

VIDEOS = ("gs://library/kitchen.mp4", "gs://library/dog.mp4")
MODELS = ("gemini-3.5-flash", "gemini-3.1-flash-lite")


@pytest.fixture
def app(connected, monkeypatch, tmp_path):
    data = tmp_path / "data"
    monkeypatch.setenv("REELSCOPE_DATA_DIR", str(data))
    library = MediaLibrary(library_dir(data))
    for link in VIDEOS:
        library.add_link(source_from_link(link))
    library.db.close()
    app = start_app()
    app.switch_page("pages/lab.py").run()
    assert not app.exception, app.exception
    return app


def define(app, variants=("Describe {video} for {audience}.", "List objects in {video}.")):
    app.multiselect(key="lab.form.library").set_value(list(VIDEOS)).run()
    app.segmented_control(key="lab.form.variant_count").set_value(len(variants)).run()
    for index, text in enumerate(variants):
        app.text_area(key=f"lab.form.variant.{index}").input(text).run()
    for index, model in enumerate(MODELS):
        app.selectbox(key=f"lab.form.model.{index}.model").set_value(model).run()


def test_a_variable_left_unfilled_is_said_and_nothing_is_sent(app, vertex):
    define(app)
    assert "Fill in {audience}" in texts(app.warning)
    assert app.button(key="lab.run").disabled
    assert not [r for r in vertex.requests if r.rpc and "generate" in r.rpc.lower()]


def test_a_two_by_two_by_two_grid_runs_online_and_its_cells_are_kept(app, vertex, tmp_path):
    vertex.set_reply("A kitchen with a dog.", chunks=2)
    define(app)
    app.text_input(key="lab.form.value.audience").input("kids").run()
    assert "8 cells" in texts(app.markdown)
    app.button(key="lab.run").click().run()
    assert not app.exception, app.exception
    grids = registry().tasks(kind="lab-grid")
    assert len(grids) == 1 and grids[0].wait(30)
    store = open_store(tmp_path / "data")
    try:
        deadline = time.monotonic() + 10
        while True:  # the recorder keeps each run within 0.2 s of its end
            labs = store.labs.labs()
            cells = store.labs.cells(labs[0].id)
            if {c.status for c in cells} == {"completed"} or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert len(cells) == 8 and {c.status for c in cells} == {"completed"}
        prompts = sorted({store.runs.get(c.run_id).spec.prompt for c in cells})
        assert prompts == ["Describe dog.mp4 for kids.", "Describe kitchen.mp4 for kids.",
                           "List objects in dog.mp4.", "List objects in kitchen.mp4."]  # fmt: skip
        assert {store.runs.get(c.run_id).spec.model_id for c in cells} == set(MODELS)
        assert all(c.ttft_s is not None for c in cells)
    finally:
        store.close()
    generated = [r for r in vertex.requests if r.model in MODELS]
    assert len(generated) == 8
    app.run()  # the ended grid, drawn from the store: two of its columns compared word by word
    assert not app.exception, app.exception
    assert "8 completed" in texts(app.markdown)
    assert "What differs in the ask" in texts(app.markdown)


def test_a_lab_is_deleted_once_ended_and_its_cells_stay_in_history(app, vertex, tmp_path):
    vertex.set_reply("A kitchen.", chunks=1)
    define(app, variants=("List objects in {video}.",))
    before = set(registry().tasks(kind="lab-grid"))  # the registry is the process's
    app.button(key="lab.run").click().run()
    grids = [g for g in registry().tasks(kind="lab-grid") if g not in before]
    assert len(grids) == 1 and grids[0].wait(30)
    store = open_store(tmp_path / "data")
    try:
        lab = store.labs.labs()[0]
        deadline = time.monotonic() + 10
        while not all(c.run_id for c in store.labs.cells(lab.id)):  # kept within 0.2 s
            assert time.monotonic() < deadline, "the grid's runs were not kept"
            time.sleep(0.1)
        run_ids = [c.run_id for c in store.labs.cells(lab.id)]
        app.run()
        assert not app.button(key="lab.delete.confirm").disabled
        app.button(key="lab.delete.confirm").click().run()
        assert not app.exception, app.exception
        assert store.labs.get(lab.id) is None
        assert not [s for s in app.selectbox if s.label == "Lab"]
        assert all(store.runs.get(run_id) is not None for run_id in run_ids)
        assert "Lab deleted" in texts(app.toast)
    finally:
        store.close()
