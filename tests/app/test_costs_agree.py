"""One run's cost reads the same on Ask, in History and in Side by side (reelscope/costs.py)."""

from __future__ import annotations

from reelscope.costs import format_usd
from tests.app.conftest import start_app, texts
from tests.app.test_ask_page import current_run, metrics, run_to_the_end
from tests.app.test_compare_page import column
from tests.app.test_history_page import open_history, table

PROMPT = "Which colour comes second, and why does it matter to the story?"
REPLY = "Green comes second. It marks the turn from the calm opening to the chase."
THOUGHTS = 40  # billed as output


def test_ask_history_and_side_by_side_show_one_cost_for_one_run(connected, vertex):
    vertex.set_reply(REPLY, chunks=3, thoughts_tokens=THOUGHTS)
    app = start_app()  # Ask, on the catalog's default model: Gemini 3.5 Flash
    app.text_area(key="ask.prompt").input(PROMPT)
    run_to_the_end(app)
    assert not app.exception, app.exception
    usage = current_run(app).state().usage
    assert usage.thinking_tokens == THOUGHTS
    # Gemini 3.5 Flash, third-party table: $1.50 a million input tokens, $9.00 output
    expected = format_usd(
        (usage.prompt_tokens * 1.50 + (usage.output_tokens + THOUGHTS) * 9.00) / 1_000_000
    )
    on_ask = metrics(app)["Actual cost"]
    assert on_ask == expected

    open_history(app)
    rows = table(app)
    assert list(rows["Cost"]) == [expected]

    app.switch_page("pages/compare.py").run()
    app.text_area(key="compare.prompt").input(PROMPT)
    app.button(key="compare.run").click().run()  # the page follows the columns to their end
    assert not app.exception, app.exception
    assert app.selectbox(key="compare.params.0.model").value == "gemini-3.5-flash"
    assert f"cost **{expected}**" in texts(column(app, 0).markdown)

    open_history(app)
    costs = dict(zip(table(app)["Model"], table(app)["Cost"], strict=True))
    assert costs["gemini-3.5-flash"] == expected
