import gc
import hashlib
import os
import time
import uuid
from pathlib import Path

import pytest

from reelscope.generation.events import StopReason
from reelscope.retries import RetryPolicy
from reelscope.tasks import registry
from tests.app.conftest import start_app, texts
from tests.media_files import make_corrupt_mp4, make_long_video, make_text_file

REPLY = "Scene one is red. Scene two is green. Scene three is blue."
SLOW_REPLY = " ".join(f"w{i:03d}" for i in range(60))


def add_link(app, link):
    app.text_input(key="ask.sources.link_text").input(link)
    app.button(key="ask.sources.add_link").click().run()


def run_button(app):
    return app.button(key="ask.run")


def current_run(app):
    return registry().get(app.session_state["ask.run_id"])


def run_to_the_end(app):
    """Press Run, let the worker finish, and look again (what the page's polling does)."""
    run_button(app).click().run()
    if "ask.run_id" in app.session_state:
        assert current_run(app).wait_done(timeout=20)
        app.run()


def run_and_leave(app, button="ask.run"):
    """Press a button and leave the script run while the answer streams (as a page visit does).

    The page follows a live run until it ends; AppTest stops that script run at its timeout.
    The run itself belongs to the worker and goes on.
    """
    app.button(key=button).click()
    leave(app)
    return current_run(app)


def leave(app):
    with pytest.raises(RuntimeError, match="timed out"):
        app.run(timeout=1)
    for button in app.button:  # AppTest keeps the click of a cut-short run
        if button.key == "ask.run":
            button.set_value(False)


def upload(app, name, data, mime="video/mp4"):
    uploader = next(u for u in app.get("file_uploader") if u.key.startswith("ask.sources.uploads"))
    uploader.upload(name, data, mime)
    app.run()


def test_ask_streams_the_answer_about_a_linked_video(connected, vertex):
    vertex.set_reply(REPLY, chunks=4)
    app = start_app()
    add_link(app, "gs://my-bucket/holiday.mp4")
    app.text_area(key="ask.prompt").input("What colours appear?")
    run_to_the_end(app)

    assert not app.exception
    assert REPLY in texts(app.markdown)
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Output tokens"] == f"{len(REPLY) // 4:,}"
    assert metrics["Finish"] == "STOP"
    parts = vertex.parts_of()
    assert parts[0]["fileData"] == {
        "fileUri": "gs://my-bucket/holiday.mp4",
        "mimeType": "video/mp4",
    }
    assert parts[1]["text"] == "What colours appear?"


def test_uploaded_video_is_sent_inline(connected, vertex, video_file):
    app = start_app()
    upload(app, "scenes.mp4", video_file.read_bytes())
    app.text_area(key="ask.prompt").input("Describe").run()
    run_to_the_end(app)
    assert not app.exception
    assert vertex.parts_of()[0]["inlineData"]["mimeType"] == "video/mp4"
    assert "The video shows" in texts(app.markdown)


def test_with_only_an_api_key_a_small_upload_gets_a_streamed_answer(api_key_only, video_file):
    vertex = api_key_only
    vertex.set_reply(REPLY, chunks=4)
    app = start_app()
    upload(app, "scenes.mp4", video_file.read_bytes())
    app.text_area(key="ask.prompt").input("Describe").run()
    run_to_the_end(app)
    assert not app.exception
    assert REPLY in texts(app.markdown)
    sent = vertex.last_request()
    assert (sent.backend, sent.rpc) == ("gemini-api", "streamGenerateContent")
    assert sent.path == "/v1beta/models/gemini-3.8-flash:streamGenerateContent"
    assert sent.parts[0]["inlineData"]["mimeType"] == "video/mp4"
    app.toggle(key="ask.show_code").set_value(True).run()  # Get code reads the key, never shows it
    code = texts(app.code)
    assert 'genai.Client(api_key=os.environ["GEMINI_API_KEY"])' in code
    assert "x-goog-api-key: $GEMINI_API_KEY" in code
    assert vertex.api_key not in texts(app.markdown) + code + texts(app.caption)
    written = [f for f in Path(os.environ["REELSCOPE_DATA_DIR"]).rglob("*") if f.is_file()]
    assert any(f.suffix in (".sqlite", ".db", ".sqlite3") for f in written), "history was kept"
    assert not [f.name for f in written if vertex.api_key.encode() in f.read_bytes()]


def test_with_only_an_api_key_a_gs_link_is_refused_with_the_reason(api_key_only):
    app = start_app()
    add_link(app, "gs://my-bucket/holiday.mp4")
    assert "the Gemini Developer API cannot read Cloud Storage" in texts(app.error)
    assert app.button(key="ask.run").disabled
    assert not api_key_only.requests  # nothing was sent


def test_with_a_wrong_api_key_the_page_says_where_to_make_one(api_key_only, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "not-the-emulators-key")  # Google's 400 API_KEY_INVALID
    app = start_app()
    app.text_area(key="ask.prompt").input("Describe").run()
    run_to_the_end(app)
    assert not app.exception
    shown = texts(app.error)
    assert "The key in GEMINI_API_KEY is not valid: API key not valid" in shown
    assert "Make a key at https://aistudio.google.com/apikey" in shown
    assert "gcloud" not in shown and "not-the-emulators-key" not in shown
    assert api_key_only.last_request().backend == "gemini-api"


def test_the_answer_survives_a_rerun(connected, vertex):
    vertex.set_reply(REPLY)
    app = start_app()
    app.text_area(key="ask.prompt").input("Hello")
    run_to_the_end(app)
    app.run()  # any later interaction reruns the script
    assert REPLY in texts(app.markdown)
    assert len(vertex.requests) == 1


def test_a_bad_link_is_refused_and_the_typed_text_kept(connected):
    app = start_app()
    add_link(app, "http://example.com/clip.mp4")
    assert "use https://" in texts(app.error)
    assert app.text_input(key="ask.sources.link_text").value == "http://example.com/clip.mp4"


def test_two_youtube_links_block_the_run(connected):
    app = start_app()
    add_link(app, "https://youtu.be/dQw4w9WgXcQ")
    add_link(app, "https://www.youtube.com/watch?v=9bZkp7q19f0")
    app.text_area(key="ask.prompt").input("Compare").run()
    assert "1 YouTube URL per request" in texts(app.error)
    assert run_button(app).disabled


def test_switching_model_clamps_values_and_says_so(connected):
    app = start_app()
    app.slider(key="ask.params.temperature").set_value(1.8).run()
    app.toggle(key="ask.params.show_retired").set_value(True).run()
    app.selectbox(key="ask.params.model").set_value("gemini-1.0-pro-vision").run()
    assert "Temperature: 1.8 → 1.0" in texts(app.info)
    assert app.slider(key="ask.params.temperature").value == 1.0
    assert app.slider(key="ask.params.top_k").value == 32
    assert "retired" in texts(app.error)
    app.text_area(key="ask.prompt").input("Hi").run()
    assert run_button(app).disabled


def test_model_that_ignores_sampling_shows_no_sliders(connected):
    app = start_app()
    app.selectbox(key="ask.params.model").set_value("gemini-3.8-flash").run()
    keys = {s.key for s in app.slider}
    assert "ask.params.temperature" not in keys and "ask.params.top_p" not in keys
    assert "ignores temperature, top-P and top-K" in texts(app.info)
    assert [b.key for b in app.number_input if b.key == "ask.params.candidate_count"] == []


def test_reset_to_defaults(connected):
    app = start_app()
    app.slider(key="ask.params.temperature").set_value(0.3).run()
    app.button(key="ask.params.reset").click().run()
    assert app.slider(key="ask.params.temperature").value == 1.0


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        (400, "Video exceeds the maximum length.", "Video exceeds the maximum length."),
        (404, "Publisher model not found", "not yet available to your project"),
    ],
)
def test_errors_become_clear_messages(connected, vertex, status, message, expected):
    vertex.fail(status, message)
    app = start_app()
    app.text_area(key="ask.prompt").input("Hi")
    run_to_the_end(app)
    assert not app.exception
    assert expected in texts(app.error)
    assert app.text_area(key="ask.prompt").value == "Hi"


HOSTILE = "![x](http://127.0.0.1:9/leak.png) <img src=x> :red[gone]"


def test_the_servers_error_message_and_finish_reason_are_shown_sanitised(connected, vertex):
    """An error message or a finish reason is the server's text: untrusted, like the answer."""
    vertex.fail(400, HOSTILE)
    app = start_app()
    app.text_area(key="ask.prompt").input("Hi")
    run_to_the_end(app)
    sanitised = "[x](http://127.0.0.1:9/leak.png) \\<img src=x> \\:red[gone]"
    assert f"Vertex AI refused the request: {sanitised}" in texts(app.error)

    chunk = {"candidates": [{"index": 0, "finishReason": HOSTILE}]}
    chunk["candidates"][0]["content"] = {"role": "model", "parts": [{"text": "Hello."}]}
    vertex.on_request(lambda request: [chunk])
    run_to_the_end(app)
    assert f"The model stopped with finish reason {sanitised}." in texts(app.warning)
    finish = next(m for m in app.metric if m.label == "Finish")
    assert finish.value == sanitised


def test_run_without_connection_says_what_to_set_up(no_settings):
    app = start_app()
    app.text_area(key="ask.prompt").input("Hi")
    run_to_the_end(app)
    assert not app.exception
    assert "No Application Default Credentials found." in texts(app.error)
    assert app.button(key="ask.stop").disabled, "nothing is running: Stop must look it"
    assert "gcloud auth application-default login" in texts(app.main.code)
    assert app.text_area(key="ask.prompt").value == "Hi"


def test_count_tokens_before_sending(connected, vertex):
    app = start_app()
    add_link(app, "gs://my-bucket/holiday.mp4")
    app.text_area(key="ask.prompt").input("Four words of prompt")
    app.button(key="ask.count").click().run()
    assert vertex.last_request().rpc == "countTokens"
    expected = len("Four words of prompt") // 4 + 258  # the emulator's rule: text/4 + 258 a file
    assert f"Prompt: {expected:,} tokens" in texts(app.info)
    assert [r.rpc for r in vertex.requests] == ["countTokens"]


FAULTS = [
    # (inject the fault, message the user reads, partial text kept on screen)
    (lambda v: v.cut_stream(after_chunks=2), "Stream cut mid-way", True),
    (lambda v: v.end_early(after_chunks=2), "ended before the model said it was done", True),
    (
        lambda v: v.block_prompt(category="HARM_CATEGORY_HATE_SPEECH"),
        "prompt was blocked (SAFETY); category: hate speech",
        False,
    ),
    (
        lambda v: v.block_response(after_chunks=2, category="HARM_CATEGORY_DANGEROUS_CONTENT"),
        "blocked part-way (SAFETY); category: dangerous content",
        True,
    ),
    (lambda v: v.max_tokens(after_chunks=2, thoughts_tokens=512), "Thinking used 512 tokens", True),
    (
        lambda v: v.fail(429, "Resource exhausted, retry later."),
        "Answered after 1 retry: Quota exhausted (429)",
        False,
    ),
    (
        lambda v: v.fail(503, "The service is currently unavailable."),
        "Answered after 1 retry: Vertex AI had a server error (503)",
        False,
    ),
]


@pytest.mark.parametrize(("inject", "message", "partial"), FAULTS)
def test_each_fault_gives_its_message_and_keeps_what_arrived(
    connected, vertex, inject, message, partial
):
    vertex.set_reply(REPLY, chunks=4)
    inject(vertex)
    app = start_app()
    app.text_area(key="ask.prompt").input("Hi")
    run_to_the_end(app)
    assert not app.exception
    shown = texts(app.error) + texts(app.warning) + texts(app.info)
    assert message in shown
    answer = texts(app.markdown)
    if partial:
        assert "Scene one is red." in answer and REPLY not in answer
    assert vertex.pending_faults == []


def test_timeout_says_how_to_wait_longer(connected, vertex, monkeypatch):
    monkeypatch.setenv("REELSCOPE_REQUEST_TIMEOUT", "0.3")
    vertex.delay(2.0, times=RetryPolicy().attempts)  # a timeout is retried: every try times out
    app = start_app()
    app.text_area(key="ask.prompt").input("Hi")
    run_to_the_end(app)
    assert "did not answer in time" in texts(app.error)
    assert "REELSCOPE_REQUEST_TIMEOUT" in texts(app.error)


def test_prompt_and_parameters_survive_a_visit_to_another_page(connected):
    app = start_app()
    app.text_area(key="ask.prompt").input("Keep me").run()
    app.slider(key="ask.params.temperature").set_value(0.4).run()
    app.switch_page("pages/models.py").run()
    app.switch_page("pages/ask.py").run()
    assert not app.exception
    assert app.text_area(key="ask.prompt").value == "Keep me"
    assert app.slider(key="ask.params.temperature").value == 0.4


def test_non_streaming_toggle_sends_one_generate_content(connected, vertex):
    vertex.set_reply(REPLY)
    app = start_app()
    app.toggle(key="ask.params.stream").set_value(False).run()
    add_link(app, "https://example.com/frames/cover.png")
    app.text_area(key="ask.prompt").input("What is on the cover?")
    run_to_the_end(app)
    assert [r.rpc for r in vertex.requests] == ["generateContent"]
    assert vertex.parts_of()[0]["fileData"]["mimeType"] == "image/png"
    assert REPLY in texts(app.markdown)


def test_a_failed_run_shows_no_cursor_and_says_its_error_once(connected, vertex):
    vertex.fail(429, "Resource exhausted, retry later.", times=5)
    app = start_app()
    app.text_area(key="ask.prompt").input("Hi")
    run_to_the_end(app)
    shown = texts(app.error) + texts(app.info)
    assert shown.count("Resource exhausted, retry later.") == 1
    assert "Gave up after" in shown and "Answered" not in shown
    assert "▌" not in texts(app.markdown)


def test_leaving_mid_stream_and_moving_a_slider_leave_the_run_going(connected, vertex):
    vertex.set_reply(SLOW_REPLY, chunks=30, chunk_delay=0.1)
    app = start_app()
    app.text_area(key="ask.prompt").input("Hi")
    run = run_and_leave(app)
    assert run.state().text and not run.done
    app.toggle(key="ask.params.show_retired").set_value(True)  # any widget: a rerun
    leave(app)
    assert not run.done

    app.run(timeout=20)  # the page follows it to the end
    state = run.state()
    assert state.completed and not state.stopped and state.text == SLOW_REPLY
    assert SLOW_REPLY in texts(app.markdown)
    assert "Stopped" not in texts(app.info)


def test_a_late_click_on_run_replaces_nothing_while_a_run_streams(connected, vertex):
    """Run is disabled while a run streams (Chromium checks the button); a click that arrives
    once the run is going (sent before the button greyed out) must not replace it."""
    vertex.set_reply(SLOW_REPLY, chunks=30, chunk_delay=0.1)
    app = start_app()
    app.text_area(key="ask.prompt").input("Hi")
    first = run_and_leave(app)
    app.button(key="ask.run").set_value(True)
    leave(app)
    assert current_run(app) is first and not first.done
    first.stop()
    app.run()
    assert not app.button(key="ask.run").disabled
    assert app.button(key="ask.stop").disabled
    assert len(vertex.requests) == 1 and first.state().stop_reason is StopReason.USER


def test_a_reload_leaves_the_run_going_for_its_owner(connected, vertex):
    # 60 chunks 0.1 s apart: the answer outlasts the reload by seconds even on a busy machine
    # (30 left 1.7 s, which a loaded run of the suite could use up); it is stopped at the end.
    vertex.set_reply(SLOW_REPLY, chunks=60, chunk_delay=0.1)
    app = start_app()
    app.text_area(key="ask.prompt").input("Hi")
    run = run_and_leave(app)
    del app  # the tab is reloaded: a new session, the old one's state goes
    gc.collect()
    time.sleep(0.3)
    assert not run.done, "a reload must not stop the user's run"
    assert [task.id for task in registry().tasks(owner=run.owner, live=True)] == [run.id]
    run.stop()


@pytest.mark.parametrize(
    ("make", "name", "says"),
    [
        (make_text_file, "notes.mp4", "not a video"),
        (make_corrupt_mp4, "broken.mp4", "damaged"),
    ],
)
def test_a_refused_upload_stays_listed_and_keeps_run_disabled(
    connected, vertex, tmp_path, make, name, says
):
    app = start_app()
    upload(app, name, make(tmp_path / name).read_bytes())
    app.text_area(key="ask.prompt").input("Describe").run()
    assert name in texts(app.error) and says in texts(app.error).lower()
    assert run_button(app).disabled
    remove = next(b for b in app.button if b.key.startswith("ask.sources.items.remove"))
    remove.click().run()
    assert not run_button(app).disabled
    assert vertex.requests == []


# ---------------------------------------------------------------- media: probe, clip, estimate


def metrics(app):
    return {m.label: m.value for m in app.metric}


def clip_input(app, field):
    return next(
        w
        for w in app.text_input
        if w.key.startswith("ask.sources.clip.") and w.key.endswith(f".{field}")
    )


def test_upload_probe_clip_estimate_run_and_actual_usage(connected, vertex, video_file):
    app = start_app()
    upload(app, "scenes.mp4", video_file.read_bytes())
    facts = texts(app.caption)
    assert "video/mp4" in facts and "0:12 · 320×240 · 24 fps · h264 + aac · with audio" in facts
    app.text_area(key="ask.prompt").input("abcd" * 5).run()
    # 12 s at 1 fps on Gemini 3.5 Flash: 12 x 70 + 12 s x 25 + 12 x 7 + 20 chars / 4
    assert metrics(app)["Estimated tokens"] == f"{12 * 70 + 12 * 25 + 12 * 7 + 5:,}"

    clip_input(app, "start").input("0:02")
    clip_input(app, "end").input("10").run()
    clipped = 8 * 70 + 8 * 25 + 8 * 7 + 5
    assert metrics(app)["Estimated tokens"] == f"{clipped:,}"
    run_to_the_end(app)

    assert not app.exception
    assert vertex.parts_of()[0]["videoMetadata"] == {"startOffset": "2s", "endOffset": "10s"}
    shown = metrics(app)
    assert shown["Estimated at Run"] == f"{clipped:,}"
    expected_prompt = 258 + len("abcd" * 5) // 4  # the emulator's rule: 258 a file + text / 4
    assert shown["Actual input tokens"] == f"{expected_prompt:,}"
    assert shown["Prompt tokens"] == f"{expected_prompt:,}"  # the run view agrees
    captions = texts(app.caption)
    assert "third-party table, as of 2026-08-21" in captions
    assert "not Google's list price" in captions


def test_fps_and_request_resolution_change_the_estimate_and_the_request(
    connected, vertex, video_file
):
    app = start_app()
    upload(app, "scenes.mp4", video_file.read_bytes())
    fps = next(w for w in app.number_input if w.key.endswith(".fps"))
    fps.set_value(2.0).run()
    assert metrics(app)["Estimated tokens"] == f"{24 * 70 + 12 * 25 + 24 * 7:,}"
    app.selectbox(key="ask.media_resolution").set_value("HIGH").run()
    assert metrics(app)["Estimated tokens"] == f"{24 * 280 + 12 * 25 + 24 * 7:,}"
    app.text_area(key="ask.prompt").input("Describe").run()
    run_to_the_end(app)
    assert vertex.parts_of()[0]["videoMetadata"] == {"fps": 2.0}
    assert vertex.generation_config_of()["mediaResolution"] == "MEDIA_RESOLUTION_HIGH"


def test_a_clip_past_the_end_is_refused_here_and_keeps_run_disabled(connected, vertex, video_file):
    app = start_app()
    upload(app, "scenes.mp4", video_file.read_bytes())
    clip_input(app, "start").input("0:05")
    clip_input(app, "end").input("0:30").run()
    assert "the end 0:30 is after the video's end (0:12)" in texts(app.error)
    clip_input(app, "end").input("soon").run()
    assert "is not a time" in texts(app.error)
    app.text_area(key="ask.prompt").input("Describe").run()
    assert run_button(app).disabled
    assert vertex.requests == []


def test_clip_settings_survive_a_visit_to_another_page(connected, video_file):
    app = start_app()
    upload(app, "scenes.mp4", video_file.read_bytes())
    clip_input(app, "end").input("0:08").run()
    app.switch_page("pages/models.py").run()
    app.switch_page("pages/ask.py").run()
    assert not app.exception
    assert clip_input(app, "end").value == "0:08"
    assert metrics(app)["Estimated tokens"] == f"{8 * 70 + 8 * 25 + 8 * 7:,}"


def test_count_tokens_sits_beside_the_estimate_until_the_request_changes(connected, vertex):
    app = start_app()
    add_link(app, "gs://my-bucket/holiday.mp4")
    app.text_area(key="ask.prompt").input("Four words of prompt")
    app.button(key="ask.count").click().run()
    expected = len("Four words of prompt") // 4 + 258
    assert metrics(app)["Counted tokens"] == f"{expected:,}"
    assert "length is unknown" in texts(app.caption)  # a link: not estimated, counted
    app.text_area(key="ask.prompt").input("Another prompt").run()
    assert metrics(app)["Counted tokens"] == "–"


def test_a_fifty_minute_talk_is_refused_with_its_fix_and_clipping_fixes_it(connected, tmp_path):
    talk = make_long_video(tmp_path / "talk.mp4", 3000)
    app = start_app()
    upload(app, "talk.mp4", talk.read_bytes())
    app.text_area(key="ask.prompt").input("Summarise").run()
    assert "takes at most 45:00 with audio (1:00:00 without audio)" in texts(app.error)
    assert run_button(app).disabled
    next(w for w in app.number_input if w.key.endswith(".fps")).set_value(24.0).run()
    warning = texts(app.warning)
    assert "Vertex AI would refuse it" in warning and "talk.mp4: Sample" in warning
    next(w for w in app.number_input if w.key.endswith(".fps")).set_value(1.0).run()
    clip_input(app, "end").input("45:00").run()
    assert not run_button(app).disabled


def test_a_large_upload_without_a_bucket_says_how_to_set_one(connected, tmp_path):
    big = make_long_video(tmp_path / "big.mp4", 60, video_kbps=1100)  # ~8 MB
    app = start_app()
    upload(app, "big.mp4", big.read_bytes())
    refusal = texts(app.error)
    assert "at most 7.0 MB inline" in refusal and "REELSCOPE_BUCKET" in refusal
    assert "gcloud storage buckets create" in refusal


@pytest.fixture
def bucket(connected, monkeypatch, storage_emulator):
    from reelscope.settings import Settings
    from reelscope.vertex import make_storage_client

    name = f"app-{uuid.uuid4().hex[:10]}"
    make_storage_client(Settings(storage_emulator_host=storage_emulator)).create_bucket(name)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", storage_emulator)
    monkeypatch.setenv("REELSCOPE_BUCKET", name)
    return name


def test_a_large_upload_is_staged_once_and_sent_by_its_gs_uri(bucket, vertex, tmp_path):
    """With a bucket the library keeps every upload there (reelscope/bucket_copies.py): that
    object is the staged copy, so nothing is staged apart and nothing is sent twice."""
    big = make_long_video(tmp_path / "big.mp4", 60, video_kbps=1100)  # ~8 MB
    digest = hashlib.sha256(big.read_bytes()).hexdigest()
    uri = f"gs://{bucket}/reelscope/{digest}.mp4"
    app = start_app()
    upload(app, "big.mp4", big.read_bytes())  # kept in the bucket as it is added
    assert not app.exception, app.exception
    assert f"Staged: sent as {uri}" in texts(app.caption)
    assert "1:00 · 64×36" in texts(app.caption)  # the probe is kept
    assert registry().find("staging", digest) is None
    blob = _storage(bucket).get_blob(f"reelscope/{digest}.mp4")
    assert blob is not None and blob.size == big.stat().st_size
    app.text_area(key="ask.prompt").input("Describe").run()
    run_to_the_end(app)
    assert vertex.parts_of()[0]["fileData"] == {"fileUri": uri, "mimeType": "video/mp4"}

    remove = next(b for b in app.button if b.key.startswith("ask.sources.items.remove"))
    remove.click().run()
    upload(app, "big-again.mp4", big.read_bytes())  # the library knows these bytes, staged
    assert f"Staged: sent as {uri}" in texts(app.caption)
    again = _storage(bucket).get_blob(f"reelscope/{digest}.mp4")
    assert again.generation == blob.generation, "never uploaded twice"


def _storage(bucket):
    import os

    from reelscope.settings import Settings
    from reelscope.vertex import make_storage_client

    emulator = os.environ["STORAGE_EMULATOR_HOST"]
    return make_storage_client(Settings(storage_emulator_host=emulator)).bucket(bucket)


def test_a_missing_gs_object_is_refused_where_cloud_storage_is_set_up(bucket):
    app = start_app()
    add_link(app, f"gs://{bucket}/nothing-here.mp4")
    assert "does not exist" in texts(app.error)
    assert "gcloud storage ls" in texts(app.error)


def test_a_ready_prompt_fills_the_prompt_box(connected):
    app = start_app()
    app.button(key="ask.library.use").click().run()
    prompt = app.text_area(key="ask.prompt").value
    assert "MM:SS" in prompt, "ready prompts follow the seed: timestamps as MM:SS"


def test_get_code_shows_this_request_as_python_and_curl(connected, vertex):
    app = start_app()
    add_link(app, "gs://my-bucket/holiday.mp4")
    app.text_area(key="ask.prompt").input("What colours appear?").run()
    app.toggle(key="ask.show_code").set_value(True).run()
    code = "\n".join(block.value for block in app.code)
    assert "gemini-3.5-flash" in code and "gs://my-bucket/holiday.mp4" in code
    assert "What colours appear?" in code and "curl" in code
    assert vertex.requests == [], "showing code sends nothing"


def test_a_recycled_instance_reads_a_kept_upload_back_from_the_bucket(bucket, vertex, video_file):
    import os
    from pathlib import Path

    import streamlit as st

    app = start_app()
    upload(app, "scenes.mp4", video_file.read_bytes())
    assert not app.exception, app.exception
    sha = hashlib.sha256(video_file.read_bytes()).hexdigest()
    kept = Path(os.environ["REELSCOPE_DATA_DIR"]) / "media" / sha
    kept.unlink()  # the instance is recycled: a new disk, a new process
    st.cache_resource.clear()

    again = start_app()
    again.multiselect(key="ask.sources.from_library").set_value([f"sha256:{sha}"]).run()
    again.button(key="ask.sources.add_library").click().run()
    assert not again.exception, again.exception
    assert kept.read_bytes() == video_file.read_bytes()  # fetched, checked by its hash
    assert "scenes.mp4" in texts(again.markdown)
    again.text_area(key="ask.prompt").input("Describe").run()
    run_to_the_end(again)
    assert not again.exception, again.exception
    assert vertex.parts_of()[0]["inlineData"]["mimeType"] == "video/mp4"
    assert "The video shows" in texts(again.markdown)


def test_with_only_an_api_key_a_large_upload_goes_through_the_files_api_once(
    api_key_only, tmp_path
):
    vertex = api_key_only
    big = make_long_video(tmp_path / "big.mp4", 60, video_kbps=1100)  # ~8 MB: above 7 MB
    digest = hashlib.sha256(big.read_bytes()).hexdigest()
    vertex.set_reply(REPLY, chunks=3)
    app = start_app()
    upload(app, "big.mp4", big.read_bytes())
    assert not app.exception, app.exception
    task = registry().find("files_api", digest)
    assert task is not None and task.wait(timeout=30)
    app.run()
    assert "big.mp4: uploaded to the Gemini Files API" in texts(app.caption)
    assert not any("Cloud Storage" in e.value or "bucket" in e.value for e in app.error)
    (sent,) = vertex.files.uploads
    uri = vertex.files.file(sent["name"])["uri"]
    app.text_area(key="ask.prompt").input("Describe").run()
    run_to_the_end(app)
    assert REPLY in texts(app.markdown)
    assert vertex.last_request("streamGenerateContent").parts[0]["fileData"] == {
        "fileUri": uri,
        "mimeType": "video/mp4",
    }
    remove = next(b for b in app.button if b.key.startswith("ask.sources.items.remove"))
    remove.click().run()
    upload(app, "big-again.mp4", big.read_bytes())
    assert "uploaded to the Gemini Files API" in texts(app.caption)
    assert len(vertex.files.uploads) == 1, "the same content is not sent twice"
