"""Each component on its own, through AppTest.from_function: show(key, …) -> value."""

from streamlit.testing.v1 import AppTest

from tests.app.conftest import texts


def model_params_app():
    import datetime as dt

    import streamlit as st

    from components.common import model_params
    from reelscope.catalog import load_catalog

    model, params = model_params.show("p", load_catalog(), dt.date(2026, 11, 23), "us-central1")
    st.text(f"model={model.id}")
    st.text(f"params={params!r}")


def source_picker_app():
    import streamlit as st

    from components.media import source_picker
    from reelscope.catalog import load_catalog
    from reelscope.media_rules import check_for_model

    catalog = load_catalog()
    sources, refused = source_picker.show("s", catalog.media)
    checked = check_for_model(sources, catalog.default_model, catalog.media)
    for problem in checked.problems:
        st.error(problem)
    st.text(f"refused={refused!r}")
    st.text(f"sources={[(s.kind.value, s.uri, s.mime_type) for s in sources]!r}")


def start(function) -> AppTest:
    app = AppTest.from_function(function, default_timeout=30)
    app.run()
    assert not app.exception
    return app


def test_model_params_returns_the_defaults_of_the_default_model():
    app = start(model_params_app)
    shown = texts(app.text)
    assert "model=gemini-3.5-flash" in shown
    assert "temperature=1.0" in shown and "top_p=0.95" in shown
    assert "thinking_level='MEDIUM'" in shown


def test_model_params_picker_says_a_status_once():
    app = start(model_params_app)
    app.toggle(key="p.show_retired").set_value(True).run()
    options = app.selectbox(key="p.model").options
    assert "Gemini 3.1 Pro (preview)" in options  # the name already says "preview"
    assert "Gemini 3.7 Flash · retiring" in options
    assert "Gemini 3 Pro (preview) · retired" in options
    assert "Gemini 3.5 Flash" in options


def test_model_params_warns_when_the_location_does_not_serve_the_model():
    app = start(model_params_app)
    app.selectbox(key="p.model").set_value("gemini-3.1-pro-preview").run()
    assert "is served in global, not in us-central1" in texts(app.warning)


def test_model_params_budget_thinking_for_a_2_5_model():
    app = start(model_params_app)
    app.toggle(key="p.show_retired").set_value(True).run()
    app.selectbox(key="p.model").set_value("gemini-2.5-flash").run()
    app.radio(key="p.thinking_mode").set_value("custom").run()
    app.slider(key="p.thinking_budget").set_value(2048).run()
    assert "thinking_budget=2048" in texts(app.text)


def test_model_params_returned_values_are_clamped_stop_sequences():
    app = start(model_params_app)
    app.text_area(key="p.stop_sequences").input("a\nb\nc\nd\ne\nf\ng").run()
    assert "stop_sequences=('a', 'b', 'c', 'd', 'e')" in texts(app.text)
    assert "Stop sequences: 7 → 5 (at most 5)" in texts(app.warning)


def test_source_picker_adds_and_removes_links():
    app = start(source_picker_app)
    app.text_input(key="s.link_text").input("gs://bucket/a.webm")
    app.button(key="s.add_link").click().run()
    assert "('gcs', 'gs://bucket/a.webm', 'video/webm')" in texts(app.text)
    app.button(key="s.items.remove.0.gs://bucket/a.webm").click().run()
    assert "sources=[]" in texts(app.text)


def test_source_picker_refuses_an_oversized_upload_with_the_way_out(
    monkeypatch, tmp_path, video_file
):
    monkeypatch.setenv("REELSCOPE_DATA_DIR", str(tmp_path))
    app = start(source_picker_app)
    big = video_file.read_bytes() + b"\x00" * 7_500_000  # a real MP4, padded past the limit
    app.file_uploader(key="s.uploads.0").upload("long.mp4", big, "video/mp4")
    app.run()
    assert "at most 7.0 MB inline" in texts(app.error)  # the gate refuses it, with the way out
    assert "gs:// URI" in texts(app.error)
    assert "sources=[('upload', None, 'video/mp4')]" in texts(app.text)  # kept in the library


def prefetch_app():
    import streamlit as st

    from components.common import prefetch

    st.title("The page")
    if st.session_state.pop("tick", False):  # what the fragment's timer runs, without the page
        prefetch.tick((("reelscope-prefetch", prefetch.HISTORY_ELEMENTS),))
    else:
        prefetch.show()


def test_the_prefetcher_waits_hidden_after_the_page_then_draws_the_elements_once():
    app = AppTest.from_function(prefetch_app, default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    *page, hidden = app.main.children.values()
    assert [type(e).__name__ for e in page] == ["Title"]
    assert not [e for e in hidden.children.values() if type(e).__name__ == "Dataframe"]
    style = [e.proto.body for e in app.get("html")]  # in the event container: no space taken
    assert style == ["<style>.st-key-reelscope-prefetch { display: none; }</style>"]

    app.session_state["tick"] = True
    app.run()  # the first tick draws the elements
    *_, hidden = app.main.children.values()
    kinds = [type(e).__name__ for e in hidden.children.values()]
    assert kinds == ["Dataframe", "Multiselect", "DateInput", "ButtonGroup"]
    app.session_state["tick"] = True
    app.run()  # the second reruns the app, whose script no longer draws the prefetcher
    assert [type(e).__name__ for e in app.main.children.values()] == ["Title"]
    app.run()  # the tab has the code now: later runs draw nothing more
    assert [type(e).__name__ for e in app.main.children.values()] == ["Title"]


def prefetch_also_app():
    import streamlit as st

    from components.common import prefetch

    st.title("The page")
    groups = (("page-extra", (prefetch._segments,)), ("reelscope-prefetch", (prefetch._dates,)))
    if st.session_state.pop("tick", False):
        prefetch.tick(groups)
    else:
        prefetch.also("page-extra", (prefetch._segments,))
        prefetch.show(elements=(prefetch._dates,))


def test_what_a_page_asks_for_is_drawn_by_the_one_prefetcher_first_and_ends_with_it():
    from components.common import prefetch

    app = AppTest.from_function(prefetch_also_app, default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    style = [e.proto.body for e in app.get("html")]
    assert style == [
        "<style>.st-key-page-extra { display: none; }</style>",
        "<style>.st-key-reelscope-prefetch { display: none; }</style>",
    ]  # one fragment holds both, the page's wish first
    app.session_state["tick"] = True
    app.run()
    kinds = [type(e).__name__ for e in app.get("button_group") + app.get("date_input")]
    assert kinds == ["ButtonGroup", "DateInput"]
    app.session_state["tick"] = True
    app.run()  # the second tick: both loaded, one rerun of the app, nothing drawn since
    assert prefetch.loaded_key("page-extra") in app.session_state
    assert prefetch.loaded_key("reelscope-prefetch") in app.session_state
    assert [type(e).__name__ for e in app.main.children.values()] == ["Title"]


def test_the_prefetcher_refuses_a_key_that_is_not_a_css_class():
    import pytest

    from components.common import prefetch

    with pytest.raises(ValueError, match="lower case"):
        prefetch.show("My key")


def follow_page():
    import streamlit as st

    from components.common import follow
    from reelscope.tasks import Task, TaskState

    follow.begin()
    task = st.session_state.setdefault("task", Task(label="quick"))
    slot = st.empty()
    slot.text(f"done={task.done}")
    if not task.done:
        follow.watch(task, paint=lambda: slot.text(f"done={task.done}"))
        task.finish(TaskState.DONE)  # it ends after its view was drawn, before it is followed
    follow.run()


def test_a_task_that_ends_before_it_is_followed_still_leaves_the_page_showing_its_end():
    app = start(follow_page)
    assert [t.value for t in app.text] == ["done=True"]


def ends_while_drawn_app():
    """A page that draws a task as running, the task ending before the page asks to follow
    it (as a run can end between a disabled Run button and the answer below it)."""
    import streamlit as st

    from components.common import follow
    from reelscope.tasks import Task, TaskState, registry

    follow.begin()
    draws = st.session_state["draws"] = st.session_state.get("draws", 0) + 1
    if "task" not in st.session_state:
        task = st.session_state["task"] = registry().add(Task(owner="test", label="t"))
    task = st.session_state["task"]
    st.text(f"draw {draws}: {'running' if not task.done else 'ended'}")
    task.finish(TaskState.DONE)  # ends while this script run is drawing it
    follow.watch(task)
    follow.run()


def test_a_task_that_ends_while_the_page_draws_it_running_reruns_the_page_once():
    app = start(ends_while_drawn_app)
    assert app.session_state["draws"] == 2, "one rerun, then it settles"
    assert texts(app.text) == "draw 2: ended"
    app.run()
    assert app.session_state["draws"] == 3  # nothing ended during this run: no rerun
