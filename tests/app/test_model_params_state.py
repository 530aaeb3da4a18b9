"""The model picker keeps its own values: notices said once, Reset that sticks, page visits.

Two levels: the component alone (AppTest.from_function, a run that does not draw it stands for
a visit to another page: Streamlit drops the keys of widgets it did not draw), and the whole
app (the Ask page's "ask.params" panel, with a real switch to the Models page and back).
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import start_app, texts

# ---------------------------------------------------------------- the component on its own


def params_app():
    import datetime as dt

    import streamlit as st

    from components.common import model_params
    from reelscope.catalog import load_catalog

    if st.session_state.get("elsewhere"):  # "another page": the panel is not drawn
        st.text("elsewhere")
    else:
        model, params = model_params.show("p", load_catalog(), dt.date(2026, 11, 23), "global")
        st.text(f"model={model.id}")
        st.text(f"params={params!r}")


def start_component() -> AppTest:
    app = AppTest.from_function(params_app, default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    return app


def visit_elsewhere_and_back(app: AppTest) -> None:
    app.session_state["elsewhere"] = True
    app.run()
    assert "elsewhere" in texts(app.text)
    app.session_state["elsewhere"] = False
    app.run()
    assert not app.exception, app.exception


def test_component_alone_keeps_model_and_values_while_not_drawn():
    app = start_component()
    app.selectbox(key="p.model").set_value("gemini-3.1-pro-preview").run()
    app.slider(key="p.temperature").set_value(0.3).run()
    app.number_input(key="p.max_output_tokens").set_value(1024).run()
    app.toggle(key="p.stream").set_value(False).run()
    before = texts(app.text)

    visit_elsewhere_and_back(app)

    assert texts(app.text) == before
    assert app.selectbox(key="p.model").value == "gemini-3.1-pro-preview"
    assert app.slider(key="p.temperature").value == 0.3
    assert app.number_input(key="p.max_output_tokens").value == 1024
    assert app.toggle(key="p.stream").value is False


def test_component_alone_adjustment_notice_is_said_once():
    app = start_component()
    app.segmented_control(key="p.thinking_level").set_value("MINIMAL").run()
    app.selectbox(key="p.model").set_value("gemini-3.8-flash").run()  # takes no MINIMAL
    assert "Adjusted for Gemini 3.8 Flash: Thinking level: MINIMAL → MEDIUM" in texts(app.info)
    app.run()
    assert "Adjusted for" not in texts(app.info)


def test_component_alone_values_of_hidden_controls_do_not_come_back_after_reset():
    app = start_component()
    app.slider(key="p.temperature").set_value(0.3).run()
    app.selectbox(key="p.model").set_value("gemini-3.8-flash").run()  # no temperature
    app.button(key="p.reset").click().run()
    app.selectbox(key="p.model").set_value("gemini-3.5-flash").run()
    assert app.slider(key="p.temperature").value == 1.0


def test_custom_thinking_budget_starts_at_the_slider_value_and_is_sent():
    app = start_component()
    app.toggle(key="p.show_retired").set_value(True).run()
    app.selectbox(key="p.model").set_value("gemini-2.5-pro").run()
    app.radio(key="p.thinking_mode").set_value("custom").run()
    # 2.5 Pro: 128–32,768; the slider shows 128 and that is what is returned (and sent)
    assert app.slider(key="p.thinking_budget").value == 128
    assert "thinking_budget=128" in texts(app.text)
    visit_elsewhere_and_back(app)
    assert app.radio(key="p.thinking_mode").value == "custom"


# ---------------------------------------------------------------- the whole app


def test_the_adjustment_notice_clears_on_the_next_rerun(connected):
    app = start_app()
    app.slider(key="ask.params.temperature").set_value(1.8).run()
    app.toggle(key="ask.params.show_retired").set_value(True).run()
    app.selectbox(key="ask.params.model").set_value("gemini-1.0-pro-vision").run()
    assert "Adjusted for Gemini 1.0 Pro Vision: Temperature: 1.8 → 1.0" in texts(app.info)
    app.text_area(key="ask.prompt").input("Hi").run()
    assert "Adjusted for" not in texts(app.info)
    app.button(key="ask.params.reset").click().run()
    assert "Adjusted for" not in texts(app.info)


def test_reset_sticks_after_a_model_switch_and_back(connected):
    app = start_app()
    app.slider(key="ask.params.temperature").set_value(0.3).run()
    app.selectbox(key="ask.params.model").set_value("gemini-3.8-flash").run()
    app.button(key="ask.params.reset").click().run()
    app.selectbox(key="ask.params.model").set_value("gemini-3.5-flash").run()
    assert app.slider(key="ask.params.temperature").value == 1.0


@pytest.mark.parametrize("visits", [1, 2])
def test_model_and_parameters_unchanged_after_the_models_page(connected, visits):
    app = start_app()
    app.selectbox(key="ask.params.model").set_value("gemini-3.1-pro-preview").run()
    app.slider(key="ask.params.temperature").set_value(0.3).run()
    app.number_input(key="ask.params.max_output_tokens").set_value(2048).run()
    app.toggle(key="ask.params.stream").set_value(False).run()
    app.segmented_control(key="ask.params.thinking_level").set_value("LOW").run()

    for _ in range(visits):
        app.switch_page("pages/models.py").run()
        assert not app.exception, app.exception
        app.switch_page("pages/ask.py").run()
        assert not app.exception, app.exception

    assert app.selectbox(key="ask.params.model").value == "gemini-3.1-pro-preview"
    assert app.slider(key="ask.params.temperature").value == 0.3
    assert app.number_input(key="ask.params.max_output_tokens").value == 2048
    assert app.toggle(key="ask.params.stream").value is False
    assert app.segmented_control(key="ask.params.thinking_level").value == "LOW"
    assert "Adjusted for" not in texts(app.info)


def test_the_picker_names_a_preview_model_once(connected):
    app = start_app()
    app.toggle(key="ask.params.show_retired").set_value(True).run()
    options = app.selectbox(key="ask.params.model").options
    assert "Gemini 3.1 Pro (preview)" in options
    assert "Gemini 3.7 Flash · retiring" in options
    assert "Gemini 3 Pro (preview) · retired" in options
    assert not [o for o in options if o.count("preview") > 1]


# ---------------------------------------------------------------- defaults, notes and Reset


def returned(app: AppTest) -> str:
    return next(t for t in texts(app.text).splitlines() if t.startswith("params="))


def test_a_models_own_default_is_shown_and_returned_with_its_note():
    app = start_component()
    app.toggle(key="p.show_retired").set_value(True).run()
    app.selectbox(key="p.model").set_value("gemini-1.0-pro-vision").run()
    # 3.5 Flash's default 1.0 was never touched: 1.0 Pro Vision's own default replaces it
    assert app.slider(key="p.temperature").value == 0.4
    assert "temperature=0.4," in returned(app)
    assert "Its default is 0.4" in texts(app.caption)
    assert "Default on Gemini 1.0 Pro Vision: 0.4." in app.slider(key="p.temperature").help
    assert "Adjusted for" not in texts(app.info), "nothing the user set was changed"


def test_a_value_the_user_set_survives_a_slider_whose_range_changed():
    app = start_component()
    app.slider(key="p.temperature").set_value(0.8).run()
    app.toggle(key="p.show_retired").set_value(True).run()
    app.selectbox(key="p.model").set_value("gemini-1.0-pro-vision").run()  # 0–2 becomes 0–1
    assert app.slider(key="p.temperature").value == 0.8
    assert "temperature=0.8," in returned(app), "what is sent is what the slider shows"


def set_every_control(app: AppTest) -> None:
    app.slider(key="ask.params.temperature").set_value(0.3).run()
    app.slider(key="ask.params.top_p").set_value(0.5).run()
    app.number_input(key="ask.params.max_output_tokens").set_value(1024).run()
    app.text_area(key="ask.params.stop_sequences").input("END").run()
    app.number_input(key="ask.params.candidate_count").set_value(3).run()
    app.segmented_control(key="ask.params.thinking_level").set_value("LOW").run()
    app.selectbox(key="ask.params.safety.HARM_CATEGORY_HARASSMENT").set_value("BLOCK_NONE").run()
    app.toggle(key="ask.params.stream").set_value(False).run()
    app.selectbox(key="ask.media_resolution").set_value("HIGH").run()


PANEL = (
    "temperature", "top_p", "max_output_tokens", "stop_sequences", "candidate_count",
    "thinking_level", "safety.HARM_CATEGORY_HARASSMENT", "stream",
)  # fmt: skip


def panel_values(app: AppTest) -> dict[str, object]:
    values = {name: app.session_state[f"ask.params.{name}"] for name in PANEL}
    return values | {"media_resolution": app.selectbox(key="ask.media_resolution").value}


def test_reset_puts_every_control_of_the_panel_back_media_resolution_included(connected):
    fresh = panel_values(start_app())
    app = start_app()
    set_every_control(app)
    changed = panel_values(app)
    assert all(changed[name] != fresh[name] for name in fresh), changed
    app.button(key="ask.params.reset").click().run()
    assert panel_values(app) == fresh
    assert app.selectbox(key="ask.media_resolution").value == "Default"


def test_reset_starts_a_custom_thinking_budget_again_from_its_default():
    app = start_component()
    app.toggle(key="p.show_retired").set_value(True).run()
    app.selectbox(key="p.model").set_value("gemini-2.5-pro").run()
    app.radio(key="p.thinking_mode").set_value("custom").run()
    app.slider(key="p.thinking_budget").set_value(4096).run()
    app.button(key="p.reset").click().run()
    assert app.radio(key="p.thinking_mode").value == "dynamic"
    app.radio(key="p.thinking_mode").set_value("custom").run()
    assert app.slider(key="p.thinking_budget").value == 128


def test_with_only_an_api_key_the_picker_offers_the_developer_apis_models(api_key_only):
    app = start_app()
    picker = app.selectbox(key="ask.params.model")
    assert picker.value == "gemini-3.8-flash"  # the catalog's default is Vertex's alone
    assert "Gemini 3.5 Flash-Lite" in picker.options
    assert "Gemini 3.5 Flash" not in picker.options
    assert "Not on the Gemini Developer API: Gemini 3.5 Flash, " in texts(app.caption)
    app.toggle(key="ask.params.show_retired").set_value(True).run()
    assert "Gemini 1.0 Pro Vision · retired" not in app.selectbox(key="ask.params.model").options


def test_on_vertex_every_model_is_offered_without_a_note(connected):
    app = start_app()
    assert app.selectbox(key="ask.params.model").value == "gemini-3.5-flash"
    assert "Not on the" not in texts(app.caption)
