"""System instructions on the Ask page: typed in the parameter panel, sent as the request's
systemInstruction, counted, kept with the run (History, Open in Ask, replay) and in Get code;
not sent, and said so, to a model that takes none."""

from __future__ import annotations

from reelscope.tasks import registry
from tests.app.conftest import start_app, texts
from tests.app.test_ask_page import add_link, run_to_the_end
from tests.app.test_history_page import open_history, pick
from tests.vertex_emulator import system_parts_of

BOX = "ask.params.system_instruction"
INSTRUCTION = "You are a football analyst.\nAnswer in French, in three bullet points."


def test_the_instruction_is_sent_kept_and_brought_back_into_ask(connected, vertex):
    app = start_app()
    app.text_area(key=BOX).input(INSTRUCTION)
    app.text_area(key="ask.prompt").input("Who scores?")
    run_to_the_end(app)
    assert system_parts_of(vertex.last_request().body) == [{"text": INSTRUCTION}]
    assert [p.get("text") for p in vertex.parts_of()] == ["Who scores?"]
    run = registry().get(app.session_state["ask.run_id"])
    assert run.spec.params.system_instruction == INSTRUCTION

    open_history(app)
    pick(app, 0)
    shown = texts(app.caption)
    assert "System instructions: You are a football analyst. Answer in French" in shown
    app.button(key="history.replay").click().run()
    replay = registry().get(app.session_state["history.replay_id"])
    assert replay.spec.params.system_instruction == INSTRUCTION

    app.button(key="history.rerun").click().run()
    assert not app.exception, app.exception
    assert app.text_area(key=BOX).value == INSTRUCTION


def test_get_code_carries_the_instruction_in_both_tabs(connected, vertex):
    app = start_app()
    app.text_area(key=BOX).input(INSTRUCTION)
    app.text_area(key="ask.prompt").input("Who scores?").run()
    app.toggle(key="ask.show_code").set_value(True).run()
    python, curl = (block.value for block in app.code)
    assert "system_instruction=types.Content(" in python
    assert '"You are a football analyst.\\nAnswer in French' in python
    assert '"systemInstruction": {' in curl
    assert vertex.requests == []


def test_count_tokens_counts_the_instruction(connected, vertex):
    app = start_app()
    add_link(app, "gs://my-bucket/holiday.mp4")
    app.text_area(key="ask.prompt").input("Four words of prompt")
    app.button(key="ask.count").click().run()
    without = len("Four words of prompt") // 4 + 258  # the emulator's rule
    assert f"Prompt: {without:,} tokens" in texts(app.info)
    app.text_area(key=BOX).input(INSTRUCTION)
    app.button(key="ask.count").click().run()
    assert system_parts_of(vertex.last_request().body) == [{"text": INSTRUCTION}]
    counted = without + len(INSTRUCTION) // 4
    assert f"Prompt: {counted:,} tokens" in texts(app.info)


def test_a_model_without_system_instructions_says_so_and_gets_none(connected):
    app = start_app()
    app.text_area(key=BOX).input(INSTRUCTION).run()
    app.toggle(key="ask.params.show_retired").set_value(True).run()
    app.selectbox(key="ask.params.model").set_value("gemini-1.0-pro-vision").run()
    assert app.text_area(key=BOX).disabled
    assert app.text_area(key=BOX).value == INSTRUCTION, "kept, for the next model"
    assert "Gemini 1.0 Pro Vision takes no system instructions" in texts(app.caption)
    app.toggle(key="ask.show_code").set_value(True).run()
    assert not any("system_instruction" in block.value for block in app.code)
    app.selectbox(key="ask.params.model").set_value("gemini-3.5-flash").run()
    assert not app.text_area(key=BOX).disabled
    assert "system_instruction=" in app.code[0].value


def test_reset_leaves_the_instruction(connected):
    app = start_app()
    app.text_area(key=BOX).input(INSTRUCTION).run()
    app.button(key="ask.params.reset").click().run()
    assert app.text_area(key=BOX).value == INSTRUCTION


def test_the_chapters_page_has_no_box(connected):
    app = start_app()
    app.switch_page("pages/chapters.py").run()
    assert not app.exception, app.exception
    assert not [area for area in app.text_area if area.key.endswith("system_instruction")]
