"""Side by side in AppTest: three models stream at once, each in its own column, no cross-talk;
a Stop stops one column only. The prompt library fills variables and saves prompts."""

from __future__ import annotations

import itertools

import pytest

from reelscope.costs import format_usd
from reelscope.store import open_store
from reelscope.tasks import registry
from tests.app.conftest import start_app, texts
from tests.vertex_emulator import Fault, FaultKind

MODELS = ("gemini-3.5-flash", "gemini-3.5-flash-lite", "gemini-3.8-flash")
WORDS = {model: word for model, word in zip(MODELS, ("alpha", "bravo", "charlie"), strict=True)}


def reply(model: str, chunks: int) -> str:
    return " ".join(f"{WORDS[model]}{i:02d}" for i in range(chunks))


@pytest.fixture
def app(connected, monkeypatch, tmp_path):
    monkeypatch.setenv("REELSCOPE_DATA_DIR", str(tmp_path / "data"))
    app = start_app()
    app.switch_page("pages/compare.py").run()
    assert not app.exception, app.exception
    return app


def paced(vertex, chunks: int, delays: dict[str, float], first: dict[str, float]) -> None:
    """Each model its own words, chunk pace and time to first chunk."""
    for model in MODELS:
        vertex.set_model_reply(
            model, reply(model, chunks), chunks=chunks, chunk_delay=delays[model]
        )
    vertex.on_request(
        lambda request: (
            Fault(FaultKind.DELAY, delay_seconds=first[request.model])
            if first.get(request.model)
            else None
        )
    )


def choose_models(app, models=MODELS) -> None:
    for index, model in enumerate(models):
        app.selectbox(key=f"compare.params.{index}.model").set_value(model)
    app.run()


def column(app, index: int):
    """The column holding column `index`'s Stop button (and its answer)."""
    return next(c for c in app.columns if any(b.key == f"compare.stop.{index}" for b in c.button))


def runs_of(app):
    owner = registry()
    return [owner.get(run_id) for run_id in app.session_state["compare.run_ids"]]


def leave(app, button: str) -> None:
    """Press `button` and leave the script run while the columns stream (AppTest times out)."""
    app.button(key=button).click()
    with pytest.raises(RuntimeError, match="timed out"):
        app.run(timeout=1)
    app.button(key=button).set_value(False)  # AppTest keeps the click of a cut-short run


def test_three_models_stream_interleaved_each_in_its_column(app, vertex):
    chunks = 12
    paced(
        vertex,
        chunks,
        delays={MODELS[0]: 0.05, MODELS[1]: 0.08, MODELS[2]: 0.11},
        first={MODELS[1]: 0.1, MODELS[2]: 0.2},
    )
    choose_models(app)
    app.text_area(key="compare.prompt").input("Describe the video.")
    app.text_input(key="compare.sources.link_text").input("gs://my-bucket/holiday.mp4")
    app.button(key="compare.sources.add_link").click().run()
    app.button(key="compare.run").click().run()  # the page follows all three to their end
    assert not app.exception, app.exception

    runs = runs_of(app)
    assert [run.spec.model_id for run in runs] == list(MODELS)
    for index, (model, run) in enumerate(zip(MODELS, runs, strict=True)):
        state = run.state()
        assert state.completed and state.text == reply(model, chunks)  # no cross-talk
        shown = texts(column(app, index).markdown)
        assert reply(model, chunks) in shown
        assert all(WORDS[other] not in shown for other in MODELS if other != model)
        assert "TTFT" in shown and "tokens/s" in shown
    # cost per column from its own usage at its own model's price (input, output per million)
    for index, (per_input, per_output) in enumerate([(1.50, 9.00), (0.30, 2.50), (0.75, 3.75)]):
        usage = runs[index].state().usage
        cost = (usage.prompt_tokens * per_input + usage.output_tokens * per_output) / 1e6
        assert f"cost **{format_usd(cost)}**" in texts(column(app, index).markdown)

    # Same media and prompt to each model, all at once: the streams overlap on the wire.
    requests = [r for r in vertex.requests if r.rpc == "streamGenerateContent"]
    assert sorted(r.model for r in requests) == sorted(MODELS)
    assert len({str(r.parts) for r in requests}) == 1
    firsts = [r.answer.chunk_times[0] for r in requests]
    lasts = [r.answer.chunk_times[-1] for r in requests]
    assert max(firsts) < min(lasts)
    arrivals = sorted((t, r.model) for r in requests for t in r.answer.chunk_times)
    switches = sum(a[1] != b[1] for a, b in itertools.pairwise(arrivals))
    assert switches >= chunks  # interleaved, not one model after another
    # and in the app: each run's tokens arrived while the others' did
    spans = [
        (
            run.started_at.timestamp() + s.first_token_at,
            run.started_at.timestamp() + s.last_token_at,
        )
        for run in runs
        if (s := run.state())
    ]
    assert max(first for first, _ in spans) < min(last for _, last in spans)
    print("TTFT", [run.state().time_to_first_token for run in runs])
    assert [run.state().time_to_first_token < 0.1 for run in runs] == [True, False, False]


def test_a_stopped_column_leaves_the_others_going(app, vertex):
    chunks = 30
    paced(vertex, chunks, delays=dict.fromkeys(MODELS, 0.1), first={})
    choose_models(app)
    app.text_area(key="compare.prompt").input("Describe the video.")
    leave(app, "compare.run")
    runs = runs_of(app)
    assert not any(run.done for run in runs)

    # AppTest cannot press a button drawn in a cut-short run: the Stop button itself is pressed
    # in Chromium (tests/e2e/test_compare_in_browser.py); here its callback's effect.
    runs[1].stop()
    assert runs[1].state().stopped
    assert not runs[0].done and not runs[2].done  # the other two go on
    assert runs[0].wait_done(timeout=20) and runs[2].wait_done(timeout=20)
    app.run()
    assert not app.exception, app.exception

    stopped = next(r for r in vertex.requests if r.model == MODELS[1])
    assert stopped.answer.wait(5) and stopped.answer.how == "client_closed"
    assert "Stopped by you" in texts(column(app, 1).info)
    for index in (0, 2):
        assert runs[index].state().completed
        assert reply(MODELS[index], chunks) in texts(column(app, index).markdown)
        assert not texts(column(app, index).info)
    assert all(app.button(key=f"compare.stop.{i}").disabled for i in range(3))


def test_each_column_sends_its_own_parameters(app, vertex):
    choose_models(app, ("gemini-3.5-flash", "gemini-3.1-flash-lite", "gemini-3.8-flash"))
    app.slider(key="compare.params.1.temperature").set_value(0.2)
    app.number_input(key="compare.params.0.max_output_tokens").set_value(321)
    app.text_area(key="compare.prompt").input("Describe.")
    app.button(key="compare.run").click().run()
    assert not app.exception, app.exception
    sent = {r.model: r.generation_config for r in vertex.requests}
    assert sent["gemini-3.5-flash"]["maxOutputTokens"] == 321
    assert sent["gemini-3.1-flash-lite"]["temperature"] == pytest.approx(0.2)
    assert sent["gemini-3.5-flash"].get("temperature") != pytest.approx(0.2)
    assert sent["gemini-3.1-flash-lite"].get("maxOutputTokens") != 321
    assert "temperature" not in sent["gemini-3.8-flash"]  # a model that ignores it gets none
    assert [run.spec.params.temperature for run in runs_of(app)][1] == pytest.approx(0.2)


def test_two_columns(app, vertex):
    app.segmented_control(key="compare.count").set_value(2).run()
    app.text_area(key="compare.prompt").input("Describe.")
    app.button(key="compare.run").click().run()
    assert not app.exception, app.exception
    assert len(runs_of(app)) == 2
    assert len(vertex.requests) == 2


def test_library_fills_variables_into_the_prompt(app):
    app.selectbox(key="compare.library.choice").set_value("builtin.key_moments").run()
    app.text_input(key="compare.library.var.count").input("3")
    app.text_input(key="compare.library.var.language").input("French")
    app.button(key="compare.library.use").click().run()
    prompt = app.text_area(key="compare.prompt").value
    assert "List the 3 most important moments" in prompt and "in French" in prompt
    assert "MM:SS" in prompt and "{" not in prompt


def test_library_says_which_variable_is_empty(app):
    app.selectbox(key="compare.library.choice").set_value("builtin.qa").run()
    app.button(key="compare.library.use").click().run()
    assert "Fill in {question} first." in texts(app.error)
    assert app.text_area(key="compare.prompt").value == ""


def test_saved_prompt_is_kept_in_the_store_and_reused(app, tmp_path):
    app.text_area(key="compare.prompt").input("Recap for {audience} in {language}.")
    app.text_input(key="compare.library.save_name").input("Recap")
    app.button(key="compare.library.save").click().run()
    assert "Saved “Recap” with {audience}, {language}." in texts(app.info)

    store = open_store(tmp_path / "data")
    saved = store.prompts.list(built_in=False)
    assert [(p.name, p.variables) for p in saved] == [("Recap", ("audience", "language"))]
    assert {p.id for p in store.prompts.list(built_in=True)} >= {"builtin.describe", "builtin.qa"}

    assert app.selectbox(key="compare.library.choice").value == saved[0].id
    app.text_area(key="compare.prompt").input("")
    app.text_input(key="compare.library.var.audience").input("the board")
    app.button(key="compare.library.use").click().run()
    assert app.text_area(key="compare.prompt").value == "Recap for the board in English."


def test_saving_an_empty_prompt_says_what_to_do(app):
    app.text_input(key="compare.library.save_name").input("Nothing")
    app.button(key="compare.library.save").click().run()
    assert "The prompt is empty" in texts(app.error)


def get_code_page(video: str) -> None:
    """A page showing Get code for a request with an inline video and a link."""
    from pathlib import Path

    from components.ask import get_code
    from components.common import resources
    from reelscope.catalog import load_catalog
    from reelscope.generation.request import build_request
    from reelscope.media import accept_upload, source_from_link
    from reelscope.media_rules import check_for_model
    from reelscope.parameters import defaults_for
    from reelscope.spool import Spool

    catalog = load_catalog()
    model = catalog.get("gemini-3.5-flash")
    spool = Spool(Path(video).parent / "spool", 10**8)
    with open(video, "rb") as data:
        upload = accept_upload(spool, "my clip.mp4", data, catalog.media)
    sources = [upload, source_from_link("gs://my-bucket/a.mov")]
    checked = check_for_model(sources, model, catalog.media)
    request = build_request(model, checked, "Describe.", defaults_for(model))
    get_code.show("test.code", request, resources.settings(), sources=sources)


def test_get_code_shows_script_and_a_body_file_for_large_media(connected, video_file):
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_function(get_code_page, args=(str(video_file),), default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    python, curl = (block.value for block in app.code)
    assert 'Path("my clip.mp4").read_bytes()' in python
    assert f'project="{connected.project}"' in python
    assert "--data-binary @request.json" in curl  # the video is too big to paste
    assert f"{connected.vertex_base_url}/v1beta1/projects/{connected.project}/" in curl
