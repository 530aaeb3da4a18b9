"""The real google-genai SDK, over real HTTP, against the local emulator: every test runs on
both backends (Vertex AI and the Gemini Developer API, `backend_settings`) unless it says why
it is Vertex's alone."""

from __future__ import annotations

import base64
import logging
from dataclasses import replace

import pytest

from reelscope.catalog import load_catalog
from reelscope.generation.events import (
    Blocked,
    Completed,
    EndedEarly,
    ErrorKind,
    Failed,
    Finished,
    Retrying,
    TextDelta,
    Usage,
)
from reelscope.generation.request import build_request
from reelscope.generation.runner import Target
from reelscope.generation.tokens import count_prompt_tokens
from reelscope.media import accept_upload, source_from_link
from reelscope.parameters import GenerationParams, defaults_for
from reelscope.retries import RetryPolicy
from reelscope.runs import Runs, RunSpec
from reelscope.settings import BACKEND_GEMINI_API, BACKEND_VERTEX, choose_backend
from reelscope.spool import Spool
from reelscope.tasks import TaskRegistry
from reelscope.vertex import NotConnected, make_genai_client
from tests.requests import checked

CATALOG = load_catalog()
FAST_RETRY = RetryPolicy(attempts=3, initial_delay_s=0.01, jitter=0)
REPLY = "First scene red. Second scene green. Third scene blue. That is all there is to see."


MODEL_PATHS = {
    BACKEND_VERTEX: "/v1beta1/projects/test-project/locations/global/publishers/google/models/",
    BACKEND_GEMINI_API: "/v1beta/models/",
}


@pytest.fixture
def client(backend_settings):
    return make_genai_client(backend_settings)


@pytest.fixture
def backend(backend_settings):
    return choose_backend(backend_settings).backend


def vertex_only(backend, why):
    if backend != BACKEND_VERTEX:
        pytest.skip(f"Vertex AI only: {why}")


def ask(client, model_id="gemini-3.5-flash", sources=(), prompt="Describe", params=None,
        stream=True, retry=FAST_RETRY):  # fmt: skip
    """One run through the app's own path (a session's runs, the worker), to its end."""
    model = CATALOG.get(model_id)
    params = params or defaults_for(model)
    request = build_request(model, checked(model, sources), prompt, params)
    spec = RunSpec(model_id, prompt, params, stream=stream)
    runs = Runs(TaskRegistry())  # held until the run ends, as a session's state holds it
    run = runs.start(spec, client, request, target=Target("test-project", "global"), retry=retry)
    assert run.wait_done(timeout=20), run
    state = run.state()
    state.events = run.events()  # the fold and the list it came from, for the assertions
    return state


def of_type(run, kind):
    return [e for e in run.events if isinstance(e, kind)]


def test_streamed_answer_arrives_in_chunks_with_usage_and_stop(client, vertex, backend):
    vertex.set_reply(REPLY, chunks=6)
    run = ask(client)
    assert len(of_type(run, TextDelta)) == 6
    assert run.text == REPLY
    assert run.finish_reasons == {0: "STOP"}
    assert run.usage.output_tokens == len(REPLY) // 4
    assert run.usage.prompt_tokens > 0
    assert not run.incomplete
    assert vertex.last_request().rpc == "streamGenerateContent"
    assert (
        vertex.last_request().path
        == MODEL_PATHS[backend] + "gemini-3.5-flash:streamGenerateContent"
    )
    assert vertex.last_request().backend == backend


def test_usage_keeps_input_tokens_by_modality_and_cached_tokens(client, vertex):
    """What Vertex AI reports per modality is what a cost prices audio by (reelscope/costs.py)."""
    usage = {
        "promptTokenCount": 1_300,
        "candidatesTokenCount": 20,
        "totalTokenCount": 1_320,
        "cachedContentTokenCount": 1_000,
        "promptTokensDetails": [
            {"modality": "VIDEO", "tokenCount": 840},
            {"modality": "AUDIO", "tokenCount": 300},
            {"modality": "TEXT", "tokenCount": 160},
        ],
    }
    text = {"role": "model", "parts": [{"text": REPLY}]}
    vertex.on_request(
        lambda request: [
            {"candidates": [{"index": 0, "content": text, "finishReason": "STOP"}],
             "usageMetadata": usage}
        ]
    )  # fmt: skip
    run = ask(client)
    assert run.text == REPLY
    assert run.usage.prompt_by_modality == (("VIDEO", 840), ("AUDIO", 300), ("TEXT", 160))
    assert run.usage.cached_tokens == 1_000


def test_non_streaming_mode_gives_the_same_answer_in_one_piece(client, vertex):
    vertex.set_reply(REPLY)
    run = ask(client, stream=False)
    assert [e.text for e in of_type(run, TextDelta)] == [REPLY]
    assert run.finish_reasons == {0: "STOP"}
    assert vertex.last_request().rpc == "generateContent"


def test_what_the_app_sends(client, vertex, video_file, tmp_path, backend):
    vertex_only(backend, "gs:// media are read from Cloud Storage")
    sources = [
        source_from_link("gs://my-bucket/clips/a.mov"),
        source_from_link("https://example.com/b.webm"),
        source_from_link("https://youtu.be/dQw4w9WgXcQ"),
        accept_upload(Spool(tmp_path, 10**8), "clip.mp4", video_file.open("rb"), CATALOG.media),
    ]
    params = GenerationParams(
        temperature=0.3,
        top_p=0.8,
        max_output_tokens=777,
        stop_sequences=("THE END", "###"),
        candidate_count=1,
        thinking_level="LOW",
        safety={"HARM_CATEGORY_DANGEROUS_CONTENT": "BLOCK_ONLY_HIGH"},
    )
    ask(client, sources=sources, prompt="What happens?", params=params)

    config = vertex.generation_config_of()
    assert config["temperature"] == pytest.approx(0.3)
    assert config["topP"] == pytest.approx(0.8)
    assert "topK" not in config  # fixed on Gemini 3.5 Flash
    assert config["maxOutputTokens"] == 777
    assert config["stopSequences"] == ["THE END", "###"]
    assert "candidateCount" not in config
    assert config["thinkingConfig"]["thinkingLevel"] == "LOW"
    assert vertex.safety_settings_of() == [
        {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "threshold": "BLOCK_ONLY_HIGH"}
    ]

    parts = vertex.parts_of()
    files = [
        (p["fileData"]["fileUri"], p["fileData"]["mimeType"]) for p in parts if "fileData" in p
    ]
    assert files == [
        ("gs://my-bucket/clips/a.mov", "video/quicktime"),
        ("https://example.com/b.webm", "video/webm"),
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "video/mp4"),
    ]
    inline = [p["inlineData"] for p in parts if "inlineData" in p]
    assert inline[0]["mimeType"] == "video/mp4"
    assert base64.urlsafe_b64decode(inline[0]["data"]) == video_file.read_bytes()
    assert parts[-1]["text"] == "What happens?"


def test_top_k_and_temperature_of_the_seed_model_are_sent(client, vertex):
    # The catalog keeps retired models; their request shape is still right (Vertex refuses it).
    model = CATALOG.get("gemini-1.0-pro-vision")
    ask(client, model_id=model.id, params=replace(defaults_for(model), top_k=12))
    config = vertex.generation_config_of()
    assert (config["topK"], config["temperature"], config["topP"]) == (12, 0.4, 1.0)


def test_model_that_ignores_sampling_is_sent_none_of_it(client, vertex):
    params = GenerationParams(temperature=0.1, top_p=0.1, top_k=1, candidate_count=4)
    ask(client, model_id="gemini-3.8-flash", params=params)
    config = vertex.generation_config_of()
    assert not {"temperature", "topP", "topK", "candidateCount"} & set(config)


def test_several_responses_stream_side_by_side(client, vertex):
    vertex.set_reply(REPLY, chunks=3)
    run = ask(client, params=GenerationParams(candidate_count=2))
    assert vertex.generation_config_of()["candidateCount"] == 2
    assert run.candidates == [0, 1]
    assert run.texts[0] == REPLY
    assert run.texts[1].endswith(REPLY) and run.texts[1] != REPLY


@pytest.mark.parametrize("status", [408, 429, 500, 503])
def test_transient_errors_are_retried_visibly_then_succeed(client, vertex, status):
    vertex.set_reply(REPLY)
    vertex.fail(status, "try later", times=2)
    run = ask(client)
    retries = of_type(run, Retrying)
    assert [r.attempt for r in retries] == [1, 2]
    assert run.text == REPLY
    assert run.error is None
    assert vertex.pending_faults == []


def test_a_timeout_is_retried_like_any_transient_failure(backend_settings, vertex):
    impatient = make_genai_client(replace(backend_settings, request_timeout_s=0.5))
    vertex.set_reply(REPLY)
    vertex.delay(3.0)  # the first request outlives the client's timeout; the second does not
    run = ask(impatient)
    retries = of_type(run, Retrying)
    assert len(retries) == 1 and "did not answer in time" in retries[0].reason
    assert run.text == REPLY and run.error is None
    assert len(vertex.requests) == 2
    second = vertex.requests[1].answer
    assert second.wait(5), "the emulator ends its answer just after the client read it all"
    assert second.how == "complete"


def test_quota_that_never_recovers_fails_with_the_quota_message(client, vertex):
    vertex.fail(429, "Quota exceeded for aiplatform.googleapis.com/generate_content", times=5)
    run = ask(client)
    assert len(of_type(run, Retrying)) == 2  # 3 attempts in all
    assert run.error.kind is ErrorKind.QUOTA
    assert "Quota exceeded for aiplatform" in run.error.message


@pytest.mark.parametrize(
    ("status", "message", "kind", "on_vertex", "on_gemini_api"),
    [
        (400, "Request contains an invalid argument: fps must be <= 24.", ErrorKind.INVALID_ARGUMENT,
         "fps must be <= 24", "fps must be <= 24"),
        (403, "Permission denied", ErrorKind.PERMISSION,
         "roles/aiplatform.user", "API restrictions allow the Generative Language API"),
        (404, "Publisher Model gemini-3.5-flash was not found", ErrorKind.NOT_FOUND,
         "not yet available to your project", "served only on Vertex AI"),
        (401, "Request had invalid authentication credentials.", ErrorKind.CREDENTIALS,
         "gcloud auth application-default login", "https://aistudio.google.com/apikey"),
    ],
)  # fmt: skip
def test_client_errors_are_not_retried_and_say_what_to_do(
    client, vertex, backend, status, message, kind, on_vertex, on_gemini_api
):
    """Each backend's own hint (reelscope/generation/errors.py): on the Developer API none
    names gcloud, IAM roles or a project."""
    vertex.fail(status, message)
    run = ask(client)
    assert of_type(run, Retrying) == []
    assert run.error.kind is kind
    said = run.error.message + run.error.hint
    assert (on_vertex if backend == BACKEND_VERTEX else on_gemini_api) in said
    if backend == BACKEND_GEMINI_API:
        assert "gcloud" not in said and "roles/" not in said


def test_a_wrong_api_key_says_where_to_make_one(backend_settings, vertex, backend):
    if backend != BACKEND_GEMINI_API:
        pytest.skip("Vertex AI takes no API key")
    wrong = replace(backend_settings, gemini_api_key="not-the-emulators-key")
    run = ask(make_genai_client(wrong))
    assert of_type(run, Retrying) == [] and run.error.kind is ErrorKind.CREDENTIALS
    assert run.error.message.startswith("The key in GEMINI_API_KEY is not valid")
    assert "https://aistudio.google.com/apikey" in run.error.hint
    assert "not-the-emulators-key" not in run.error.message + run.error.hint


def test_cut_stream_keeps_the_partial_text(client, vertex):
    vertex.set_reply(REPLY, chunks=5)
    vertex.cut_stream(after_chunks=2)
    run = ask(client)
    assert run.text and REPLY.startswith(run.text) and run.text != REPLY
    assert run.error.kind is ErrorKind.STREAM_CUT
    assert of_type(run, Retrying) == []  # text arrived: a retry would duplicate it
    assert run.incomplete


def test_stream_ending_without_finish_reason_is_marked_incomplete(client, vertex):
    vertex.set_reply(REPLY, chunks=5)
    vertex.end_early(after_chunks=3)
    run = ask(client)
    assert of_type(run, EndedEarly) == [EndedEarly(pytest.approx(0, abs=10), 0)]
    assert run.finish_reasons == {}
    assert run.incomplete and run.error is None
    assert run.text and run.text != REPLY


def test_blocked_prompt_names_the_category(client, vertex):
    vertex.block_prompt(category="HARM_CATEGORY_HATE_SPEECH")
    run = ask(client)
    (block,) = of_type(run, Blocked)
    assert (block.where, block.reason, block.categories) == (
        "prompt",
        "SAFETY",
        ("HARM_CATEGORY_HATE_SPEECH",),
    )
    assert run.text == ""
    assert of_type(run, EndedEarly) == []


def test_blocked_response_keeps_text_before_the_block(client, vertex):
    vertex.set_reply(REPLY, chunks=5)
    vertex.block_response(after_chunks=2, category="HARM_CATEGORY_DANGEROUS_CONTENT")
    run = ask(client)
    (block,) = of_type(run, Blocked)
    assert (block.where, block.categories) == ("response", ("HARM_CATEGORY_DANGEROUS_CONTENT",))
    assert run.finish_reasons == {0: "SAFETY"}
    assert run.text and run.text != REPLY


def test_max_tokens_reports_the_thinking_tokens(client, vertex):
    vertex.set_reply(REPLY, chunks=4)
    vertex.max_tokens(after_chunks=2, thoughts_tokens=900)
    run = ask(client)
    assert run.finish_reasons == {0: "MAX_TOKENS"}
    assert run.usage.thinking_tokens == 900
    assert of_type(run, Finished)[0].reason == "MAX_TOKENS"


def test_timeout_becomes_a_timeout_message(backend_settings, vertex):
    client = make_genai_client(replace(backend_settings, request_timeout_s=0.3))
    vertex.delay(2.0, times=FAST_RETRY.attempts)  # every try times out
    run = ask(client)
    assert len(of_type(run, Retrying)) == FAST_RETRY.attempts - 1
    assert run.error.kind is ErrorKind.TIMEOUT
    assert "REELSCOPE_REQUEST_TIMEOUT" in run.error.hint


def test_usage_and_timings_are_measured(client, vertex):
    vertex.set_reply(REPLY, chunks=5, chunk_delay=0.05)
    run = ask(client)
    assert run.time_to_first_token is not None and run.time_to_first_token < 5
    assert run.tokens_per_second and run.tokens_per_second > 0
    assert isinstance(of_type(run, Usage)[-1].total_tokens, int)


def test_failed_events_end_the_run(client, vertex):
    vertex.fail(400, "bad")
    run = ask(client)
    assert isinstance(run.events[-1], Failed)


def test_a_complete_answer_ends_with_completed(client, vertex):
    run = ask(client)
    assert isinstance(run.events[-1], Completed)
    assert run.done and not run.incomplete


def test_no_credentials_or_project_is_a_clear_refusal(emulator_settings, tmp_path):
    missing = replace(emulator_settings, credentials_file=str(tmp_path / "nope.json"), project=None)
    with pytest.raises(NotConnected) as refused:
        make_genai_client(missing)
    assert "does not exist" in str(refused.value)
    assert "export GOOGLE_CLOUD_PROJECT=your-project-id" in refused.value.fixes


def test_the_prompt_is_counted_with_its_system_instruction(client, vertex):
    model = CATALOG.get("gemini-3.5-flash")
    instruction = "Answer in French, in three sentences at most."
    params = replace(defaults_for(model), system_instruction=instruction)
    request = build_request(model, checked(model, ()), "Describe the opening scene", params)
    counted = count_prompt_tokens(client, request, Target("test-project", "global"))
    assert counted == len("Describe the opening scene") // 4 + len(instruction) // 4
    assert vertex.last_request().rpc == "countTokens"


def test_the_api_key_goes_in_its_header_and_nowhere_else(backend_settings, vertex, caplog, backend):
    if backend != BACKEND_GEMINI_API:
        pytest.skip("Vertex AI takes no API key")
    caplog.set_level(logging.DEBUG)
    vertex.fail(400, "bad")  # the error path too: an exception's text must not carry the key
    failed = ask(make_genai_client(backend_settings))
    run = ask(make_genai_client(backend_settings))
    assert run.text and failed.error is not None
    key = backend_settings.gemini_api_key
    assert [r.headers["x-goog-api-key"] for r in vertex.requests] == [key, key]
    assert all(key not in r.path and key not in str(r.query) for r in vertex.requests)
    assert key not in caplog.text
    assert key not in repr(run) + repr(failed) + repr(backend_settings)
