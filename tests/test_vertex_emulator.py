"""The Vertex AI emulator, driven by the real google-genai SDK over real HTTP.

These tests pin down both halves of the contract the product's tests rely on: the emulator
answers the way Vertex AI does, and google-genai 2.34.0 surfaces each answer/fault the way
/work/shared/SDK-NOTES.md says (exception classes, partial streams, usage metadata...).
"""

from __future__ import annotations

import datetime
import hashlib
import io
import threading
import time
from collections.abc import Callable, Iterator

import google.oauth2.credentials
import httpx
import pytest
from google import genai
from google.genai import errors, types

from tests.vertex_emulator import (
    DEFAULT_REPLY,
    FILES_URI_PREFIX,
    MEDIA_PART_TOKENS,
    BatchPace,
    Fault,
    FaultKind,
    VertexEmulator,
    decode_inline_data,
    generation_config_of,
    parts_of,
)

MODEL = "gemini-2.5-flash"
VIDEO_URI = "gs://reelscope-test/videos/three-scenes.mp4"
PROMPT = "Describe the video scene by scene, with timestamps."
MODEL_PATH = "/v1beta1/projects/test-project/locations/global/publishers/google/models"
PROMPT_TOKENS = len(PROMPT) // 4 + MEDIA_PART_TOKENS  # the emulator's documented rule
REPLY_TOKENS = len(DEFAULT_REPLY) // 4


@pytest.fixture(scope="module")
def _shared_emulator() -> Iterator[VertexEmulator]:
    with VertexEmulator() as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def vertex_emulator(_shared_emulator: VertexEmulator) -> VertexEmulator:
    """One server for the module, reset before every test (which also proves reset() is
    enough to reuse it): default reply, empty log, no faults, no hook."""
    _shared_emulator.reset()
    return _shared_emulator


def make_client(emulator: VertexEmulator, **http_options: object) -> genai.Client:
    """A Vertex-mode client pointed at the emulator, with a static token (no refresh)."""
    return genai.Client(
        vertexai=True,
        project="test-project",
        location="global",
        credentials=google.oauth2.credentials.Credentials(token="test-token"),
        http_options=types.HttpOptions(base_url=emulator.base_url, **http_options),
    )


@pytest.fixture(scope="module")
def client(_shared_emulator: VertexEmulator) -> Iterator[genai.Client]:
    """Shared too: building a genai.Client costs ~0.1 s here, a request ~3 ms."""
    client = make_client(_shared_emulator)
    yield client


@pytest.fixture
def new_client(vertex_emulator: VertexEmulator) -> Iterator[Callable[..., genai.Client]]:
    """Clients with their own HttpOptions (timeout, retry_options), closed after the test."""
    made: list[genai.Client] = []

    def factory(**http_options: object) -> genai.Client:
        made.append(make_client(vertex_emulator, **http_options))
        return made[-1]

    yield factory
    for client in made:
        client.close()


def video_prompt() -> list[types.Part]:
    return [
        types.Part.from_uri(file_uri=VIDEO_URI, mime_type="video/mp4"),
        types.Part.from_text(text=PROMPT),
    ]


def generate(client: genai.Client, stream: bool) -> list[types.GenerateContentResponse]:
    """Run one call; streaming returns every chunk, non-streaming a one-element list."""
    if stream:
        return list(client.models.generate_content_stream(model=MODEL, contents=video_prompt()))
    return [client.models.generate_content(model=MODEL, contents=video_prompt())]


def expected_slices(text: str, chunks: int) -> list[str]:
    bounds = [len(text) * i // chunks for i in range(chunks + 1)]
    return [text[bounds[i] : bounds[i + 1]] for i in range(chunks)]


# --------------------------------------------------------------------------- normal answers


def test_generate_content_returns_whole_reply_with_usage(
    vertex_emulator: VertexEmulator, client: genai.Client
) -> None:
    response = client.models.generate_content(model=MODEL, contents=video_prompt())

    assert response.text == DEFAULT_REPLY
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    usage = response.usage_metadata
    assert usage.prompt_token_count == PROMPT_TOKENS
    assert usage.candidates_token_count == REPLY_TOKENS
    assert usage.thoughts_token_count is None
    assert usage.total_token_count == PROMPT_TOKENS + REPLY_TOKENS
    assert response.model_version == MODEL

    request = vertex_emulator.last_request()
    assert request.path == f"{MODEL_PATH}/{MODEL}:generateContent"
    assert (request.method, request.rpc, request.model) == ("POST", "generateContent", MODEL)
    assert (request.project, request.location, request.version) == (
        "test-project",
        "global",
        "v1beta1",
    )
    assert request.headers["authorization"] == "Bearer test-token"


@pytest.mark.parametrize("chunks", [1, 3, 5, 8])
def test_stream_yields_n_chunks_that_join_to_the_reply(
    vertex_emulator: VertexEmulator, client: genai.Client, chunks: int
) -> None:
    vertex_emulator.set_reply(DEFAULT_REPLY, chunks=chunks, thoughts_tokens=42)

    received = generate(client, stream=True)

    assert [c.text for c in received] == expected_slices(DEFAULT_REPLY, chunks)
    for chunk in received[:-1]:
        assert chunk.candidates[0].finish_reason is None
        assert chunk.usage_metadata is None
    last = received[-1]
    assert last.candidates[0].finish_reason == types.FinishReason.STOP
    assert last.usage_metadata.prompt_token_count == PROMPT_TOKENS
    assert last.usage_metadata.candidates_token_count == REPLY_TOKENS
    assert last.usage_metadata.thoughts_token_count == 42
    assert last.usage_metadata.total_token_count == PROMPT_TOKENS + REPLY_TOKENS + 42
    request = vertex_emulator.last_request()
    assert request.rpc == "streamGenerateContent"
    assert request.query == {"alt": "sse"}


def test_stream_chunks_are_flushed_one_by_one(
    vertex_emulator: VertexEmulator, client: genai.Client
) -> None:
    """With chunk_delay the chunks must arrive spread out, not all at once at the end.

    The last chunk leaves the emulator two delays after the first; buffered, all three would
    arrive together. The client only ever sees a chunk late (it may be descheduled for a
    moment on a busy machine), so the first one arriving a whole delay before the last is what
    flushing guarantees, whatever the load; gaps between neighbours are not (a late read of the
    first can meet the second already there)."""
    delay = 0.3
    vertex_emulator.set_reply("abcdefghij", chunks=3, chunk_delay=delay)
    started = time.monotonic()
    arrivals = []
    for _chunk in client.models.generate_content_stream(model=MODEL, contents="hi"):
        arrivals.append(time.monotonic() - started)

    assert len(arrivals) == 3
    assert arrivals[2] - arrivals[0] >= delay, arrivals


def test_candidate_count_returns_that_many_candidates(client: genai.Client) -> None:
    config = types.GenerateContentConfig(candidate_count=3)
    response = client.models.generate_content(model=MODEL, contents="hi", config=config)

    assert [c.index for c in response.candidates] == [0, 1, 2]
    texts = [c.content.parts[0].text for c in response.candidates]
    assert texts == [
        DEFAULT_REPLY,
        f"Candidate 1: {DEFAULT_REPLY}",
        f"Candidate 2: {DEFAULT_REPLY}",
    ]
    assert all(c.finish_reason == types.FinishReason.STOP for c in response.candidates)


# --------------------------------------------------------------------------- request log


def test_request_log_records_what_the_sdk_sent(
    vertex_emulator: VertexEmulator, client: genai.Client
) -> None:
    image = bytes(range(256))  # every byte value: exercises URL-safe base64 decoding
    video = types.Part(
        file_data=types.FileData(file_uri=VIDEO_URI, mime_type="video/mp4"),
        video_metadata=types.VideoMetadata(start_offset="2s", end_offset="8s", fps=2.0),
    )
    config = types.GenerateContentConfig(
        system_instruction="You are a film analyst.",
        temperature=0.2,
        top_p=0.9,
        top_k=20,
        max_output_tokens=512,
        stop_sequences=["END"],
        thinking_config=types.ThinkingConfig(thinking_budget=128),
        safety_settings=[
            types.SafetySetting(
                category=types.HarmCategory.HARM_CATEGORY_DANGEROUS_CONTENT,
                threshold=types.HarmBlockThreshold.BLOCK_ONLY_HIGH,
            )
        ],
    )

    client.models.generate_content(
        model=MODEL,
        contents=[video, types.Part.from_bytes(data=image, mime_type="image/png"), PROMPT],
        config=config,
    )

    request = vertex_emulator.last_request("generateContent")
    parts = vertex_emulator.parts_of()
    assert parts == request.parts
    assert parts[0]["fileData"] == {"fileUri": VIDEO_URI, "mimeType": "video/mp4"}
    assert parts[0]["videoMetadata"] == {"startOffset": "2s", "endOffset": "8s", "fps": 2.0}
    assert parts[1]["inlineData"]["mimeType"] == "image/png"
    assert decode_inline_data(parts[1]) == image
    assert parts[2] == {"text": PROMPT}
    assert request.texts == [PROMPT]
    assert request.system_parts == [{"text": "You are a film analyst."}]

    generation_config = vertex_emulator.generation_config_of()
    assert generation_config["temperature"] == 0.2
    assert generation_config["topP"] == 0.9
    assert generation_config["topK"] == 20.0
    assert isinstance(generation_config["topK"], float)  # SDK-NOTES: topK arrives as a float
    assert generation_config["maxOutputTokens"] == 512
    assert generation_config["stopSequences"] == ["END"]
    assert generation_config["thinkingConfig"] == {"thinkingBudget": 128}
    assert vertex_emulator.safety_settings_of() == [
        {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "threshold": "BLOCK_ONLY_HIGH"}
    ]


@pytest.mark.parametrize(
    "part",
    [
        {"file_data": {"file_uri": VIDEO_URI, "mime_type": "video/mp4"}},
        {"fileData": {"fileUri": VIDEO_URI, "mimeType": "video/mp4"}},
        {"fileData": {"file_uri": VIDEO_URI, "mime_type": "video/mp4"}},  # what 2.34.0 sends
    ],
    ids=["snake", "camel", "sdk-2.34-mixed"],
)
def test_parts_are_normalised_to_camel_case(part: dict) -> None:
    body = {
        "contents": [{"role": "user", "parts": [part, {"text": "hi"}]}],
        "generation_config": {"top_k": 3.0, "thinking_config": {"thinking_level": "LOW"}},
    }

    assert parts_of(body) == [
        {"fileData": {"fileUri": VIDEO_URI, "mimeType": "video/mp4"}},
        {"text": "hi"},
    ]
    assert generation_config_of(body) == {"topK": 3.0, "thinkingConfig": {"thinkingLevel": "LOW"}}


def test_response_schema_keys_are_not_renamed() -> None:
    schema = {"type": "OBJECT", "properties": {"start_time": {"type": "STRING"}}}
    body = {"generation_config": {"response_schema": schema}}

    assert generation_config_of(body) == {"responseSchema": schema}


def test_requests_are_recorded_from_concurrent_clients(
    vertex_emulator: VertexEmulator, client: genai.Client
) -> None:
    def call(i: int) -> None:
        client.models.generate_content(model=MODEL, contents=f"question {i}")

    threads = [threading.Thread(target=call, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)

    seen = sorted(r.texts[0] for r in vertex_emulator.requests)
    assert seen == [f"question {i}" for i in range(6)]
    vertex_emulator.clear()
    assert vertex_emulator.requests == []
    with pytest.raises(LookupError):
        vertex_emulator.last_request()


# --------------------------------------------------------------------------- HTTP errors


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
@pytest.mark.parametrize(
    ("status", "error_class", "status_name", "message"),
    [
        (429, errors.ClientError, "RESOURCE_EXHAUSTED", None),
        (500, errors.ServerError, "INTERNAL", None),
        (503, errors.ServerError, "UNAVAILABLE", None),
        (400, errors.ClientError, "INVALID_ARGUMENT", "Video is longer than the model allows."),
        (403, errors.ClientError, "PERMISSION_DENIED", None),
        (404, errors.ClientError, "NOT_FOUND", "Publisher model was not found."),
    ],
)
def test_http_error_faults_map_to_genai_errors(
    vertex_emulator: VertexEmulator,
    client: genai.Client,
    stream: bool,
    status: int,
    error_class: type[errors.APIError],
    status_name: str,
    message: str | None,
) -> None:
    vertex_emulator.fail(status, message)

    with pytest.raises(error_class) as caught:
        generate(client, stream)

    assert caught.value.code == status
    assert caught.value.status == status_name
    if message is not None:
        assert caught.value.message == message
    assert vertex_emulator.pending_faults == []
    assert generate(client, stream)[-1].candidates[0].finish_reason == "STOP"  # one-shot


def test_stream_error_is_raised_on_first_iteration_not_on_call(
    vertex_emulator: VertexEmulator, client: genai.Client
) -> None:
    vertex_emulator.fail(429)

    iterator = client.models.generate_content_stream(model=MODEL, contents="hi")
    assert vertex_emulator.requests == []  # nothing sent yet
    with pytest.raises(errors.ClientError) as caught:
        next(iter(iterator))
    assert caught.value.code == 429


def test_fault_times_and_rpc_matching(
    vertex_emulator: VertexEmulator, client: genai.Client
) -> None:
    """countTokens never eats a generation fault; rpc="countTokens" targets it explicitly."""
    vertex_emulator.fail(503, times=2)
    vertex_emulator.fail(500, rpc="countTokens")

    with pytest.raises(errors.ServerError) as caught:
        client.models.count_tokens(model=MODEL, contents="hi")
    assert caught.value.code == 500
    assert client.models.count_tokens(model=MODEL, contents="hi").total_tokens == 0
    for _ in range(2):
        with pytest.raises(errors.ServerError, match="503"):
            client.models.generate_content(model=MODEL, contents="hi")
    assert client.models.generate_content(model=MODEL, contents="hi").text == DEFAULT_REPLY
    assert vertex_emulator.pending_faults == []


def test_throttle_answers_every_third_generate_request_with_429_while_it_lasts(
    vertex_emulator: VertexEmulator, client: genai.Client
) -> None:
    """Counted, not random: requests 3, 6, 9 get 429; countTokens neither counts nor fails;
    once its time is over every request is answered."""
    throttle = vertex_emulator.throttle(every=3, seconds=3.0)
    outcomes = []
    for index in range(9):
        if index == 4:
            assert client.models.count_tokens(model=MODEL, contents="hi").total_tokens == 0
        try:
            generate(client, stream=index % 2 == 0)
            outcomes.append("ok")
        except errors.ClientError as caught:
            assert caught.code == 429 and caught.status == "RESOURCE_EXHAUSTED"
            outcomes.append(429)
    assert outcomes == ["ok", "ok", 429] * 3
    assert (throttle.seen, throttle.hits) == (9, 3)

    time.sleep(max(0.0, throttle.until - time.monotonic()) + 0.05)
    for _ in range(3):
        assert generate(client, stream=True)[-1].candidates[0].finish_reason == "STOP"
    assert throttle.seen == 9, "requests after the squeeze are not counted"


# --------------------------------------------------------------------------- stream faults


@pytest.mark.parametrize("after_chunks", [0, 1, 3])
def test_cut_stream_raises_remote_protocol_error_after_k_chunks(
    vertex_emulator: VertexEmulator, client: genai.Client, after_chunks: int
) -> None:
    vertex_emulator.cut_stream(after_chunks=after_chunks)
    received = []

    with pytest.raises(httpx.RemoteProtocolError):
        for chunk in client.models.generate_content_stream(model=MODEL, contents="hi"):
            received.append(chunk.text)

    assert received == expected_slices(DEFAULT_REPLY, 5)[:after_chunks]


def test_cut_unary_call_raises_remote_protocol_error(
    vertex_emulator: VertexEmulator, client: genai.Client
) -> None:
    vertex_emulator.cut_stream()

    with pytest.raises(httpx.RemoteProtocolError):
        client.models.generate_content(model=MODEL, contents="hi")


@pytest.mark.parametrize("after_chunks", [1, 2, 4])
def test_end_early_finishes_cleanly_without_finish_reason_or_usage(
    vertex_emulator: VertexEmulator, client: genai.Client, after_chunks: int
) -> None:
    vertex_emulator.end_early(after_chunks=after_chunks)

    received = generate(client, stream=True)

    assert [c.text for c in received] == expected_slices(DEFAULT_REPLY, 5)[:after_chunks]
    assert received[-1].candidates[0].finish_reason is None
    assert all(c.usage_metadata is None for c in received)


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
def test_blocked_prompt_has_no_candidates_and_prompt_feedback(
    vertex_emulator: VertexEmulator, client: genai.Client, stream: bool
) -> None:
    vertex_emulator.block_prompt(category="HARM_CATEGORY_HARASSMENT")

    received = generate(client, stream)

    assert len(received) == 1
    response = received[0]
    assert not response.candidates
    assert response.text is None
    feedback = response.prompt_feedback
    assert feedback.block_reason == types.BlockedReason.SAFETY
    assert feedback.safety_ratings[0].category == types.HarmCategory.HARM_CATEGORY_HARASSMENT
    assert feedback.safety_ratings[0].blocked is True
    assert response.usage_metadata.prompt_token_count == PROMPT_TOKENS


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
def test_blocked_response_stops_with_safety_after_partial_text(
    vertex_emulator: VertexEmulator, client: genai.Client, stream: bool
) -> None:
    vertex_emulator.block_response(after_chunks=2)
    partial = "".join(expected_slices(DEFAULT_REPLY, 5)[:2])

    received = generate(client, stream)

    assert "".join(c.text or "" for c in received) == partial
    final = received[-1].candidates[0]
    assert final.finish_reason == types.FinishReason.SAFETY
    assert final.safety_ratings[0].category == types.HarmCategory.HARM_CATEGORY_DANGEROUS_CONTENT
    assert final.safety_ratings[0].probability == types.HarmProbability.HIGH
    assert final.safety_ratings[0].blocked is True
    assert len(received) == (3 if stream else 1)


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
@pytest.mark.parametrize(("after_chunks", "thoughts"), [(1, 300), (0, 1024)])
def test_max_tokens_reports_partial_text_and_thought_tokens(
    vertex_emulator: VertexEmulator,
    client: genai.Client,
    stream: bool,
    after_chunks: int,
    thoughts: int,
) -> None:
    vertex_emulator.max_tokens(after_chunks=after_chunks, thoughts_tokens=thoughts)
    partial = "".join(expected_slices(DEFAULT_REPLY, 5)[:after_chunks])

    received = generate(client, stream)

    assert "".join(c.text or "" for c in received) == partial
    assert received[-1].candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    usage = received[-1].usage_metadata
    assert usage.thoughts_token_count == thoughts
    assert usage.candidates_token_count == len(partial) // 4
    assert usage.total_token_count == PROMPT_TOKENS + len(partial) // 4 + thoughts


# ----------------------------------------------------------------- tokens, timeouts, retries


def test_count_tokens_uses_the_prompt_rule(
    vertex_emulator: VertexEmulator, client: genai.Client
) -> None:
    response = client.models.count_tokens(model=MODEL, contents=video_prompt())

    assert response.total_tokens == PROMPT_TOKENS
    request = vertex_emulator.last_request()
    assert request.rpc == "countTokens"
    assert request.parts[0]["fileData"]["fileUri"] == VIDEO_URI


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
def test_delay_beyond_client_timeout_raises_read_timeout(
    vertex_emulator: VertexEmulator, new_client: Callable[..., genai.Client], stream: bool
) -> None:
    vertex_emulator.delay(2.0)
    client = new_client(timeout=200)
    started = time.monotonic()

    with pytest.raises(httpx.ReadTimeout):
        generate(client, stream)

    assert time.monotonic() - started < 1.5


def test_delay_within_timeout_still_answers(
    vertex_emulator: VertexEmulator, new_client: Callable[..., genai.Client]
) -> None:
    vertex_emulator.delay(0.2)
    client = new_client(timeout=5000)
    started = time.monotonic()

    assert client.models.generate_content(model=MODEL, contents="hi").text == DEFAULT_REPLY
    assert time.monotonic() - started >= 0.2


FAST_RETRY = types.HttpRetryOptions(attempts=3, initial_delay=0.01, max_delay=0.02, jitter=0)


@pytest.mark.parametrize(
    ("retry", "status", "failures", "stream", "expected_error", "expected_requests"),
    [
        (FAST_RETRY, 503, 2, False, None, 3),
        (FAST_RETRY, 429, 2, True, None, 3),
        (FAST_RETRY, 503, 3, False, errors.ServerError, 3),
        (FAST_RETRY, 400, 1, False, errors.ClientError, 1),
        (None, 503, 1, False, errors.ServerError, 1),
    ],
    ids=["503x2-recovers", "stream-429x2-recovers", "503x3-gives-up", "400-no-retry", "default"],
)
def test_sdk_retry_options_against_queued_failures(
    vertex_emulator: VertexEmulator,
    new_client: Callable[..., genai.Client],
    retry: types.HttpRetryOptions | None,
    status: int,
    failures: int,
    stream: bool,
    expected_error: type[Exception] | None,
    expected_requests: int,
) -> None:
    vertex_emulator.fail(status, times=failures)
    client = new_client(retry_options=retry)

    if expected_error is None:
        assert "".join(c.text for c in generate(client, stream)) == DEFAULT_REPLY
    else:
        with pytest.raises(expected_error):
            generate(client, stream)

    assert len(vertex_emulator.requests) == expected_requests


# --------------------------------------------------------------------------- routing and hooks


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1beta1/projects/p/locations/l/publishers/google/models/m:fooBar"),
        ("POST", "/v2/projects/p/locations/l/publishers/google/models/m:generateContent"),
        ("GET", "/v1/projects/p/locations/l/publishers/google/models/m:generateContent"),
        ("POST", "/"),
    ],
)
def test_unknown_routes_answer_google_style_404(
    vertex_emulator: VertexEmulator, method: str, path: str
) -> None:
    response = httpx.request(method, vertex_emulator.base_url + path, json={})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == 404
    assert response.json()["error"]["status"] == "NOT_FOUND"
    assert vertex_emulator.last_request().path == path


def test_v1_and_encoded_model_ids_are_routed_and_decoded(
    vertex_emulator: VertexEmulator,
) -> None:
    url = f"{vertex_emulator.base_url}/v1/projects/p/locations/us-central1/publishers/google"
    response = httpx.post(f"{url}/models/gemini-2.5-flash%40001:countTokens", json={})

    assert response.json() == {"totalTokens": 0, "totalBillableCharacters": 0}
    request = vertex_emulator.last_request()
    assert (request.version, request.model) == ("v1", "gemini-2.5-flash@001")


def test_hook_can_answer_or_inject_faults(
    vertex_emulator: VertexEmulator, client: genai.Client
) -> None:
    def hook(request):
        if "canned" in request.texts[0]:
            return [{"candidates": [{"content": {"parts": [{"text": "canned"}]}, "index": 0}]}]
        if "forbidden" in request.texts[0]:
            return Fault(FaultKind.ERROR, status=403)
        return None

    vertex_emulator.on_request(hook)

    chunks = list(client.models.generate_content_stream(model=MODEL, contents="canned please"))
    assert [c.text for c in chunks] == ["canned"]
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=MODEL, contents="forbidden topic")
    assert caught.value.code == 403
    assert client.models.generate_content(model=MODEL, contents="other").text == DEFAULT_REPLY


def test_a_broken_hook_answers_500_with_the_error(
    vertex_emulator: VertexEmulator, client: genai.Client
) -> None:
    vertex_emulator.on_request(lambda request: request.body["no-such-key"])

    with pytest.raises(errors.ServerError, match="VertexEmulator error: KeyError"):
        client.models.generate_content(model=MODEL, contents="hi")


def test_reset_restores_a_fresh_emulator(
    vertex_emulator: VertexEmulator, client: genai.Client
) -> None:
    vertex_emulator.set_reply("short", chunks=2)
    vertex_emulator.fail(500, times=3)
    vertex_emulator.on_request(lambda request: Fault(FaultKind.ERROR, status=403))

    vertex_emulator.reset()

    assert vertex_emulator.pending_faults == []
    assert vertex_emulator.requests == []
    assert client.models.generate_content(model=MODEL, contents="hi").text == DEFAULT_REPLY


# --------------------------------------------------------------------------- embeddings


def test_embed_content_is_deterministic_and_sized(
    vertex_emulator: VertexEmulator, client: genai.Client
) -> None:
    config = types.EmbedContentConfig(output_dimensionality=256)

    first = client.models.embed_content(model="gemini-embedding-2", contents="red", config=config)
    again = client.models.embed_content(model="gemini-embedding-2", contents="red", config=config)
    other = client.models.embed_content(model="gemini-embedding-2", contents="blue", config=config)

    assert len(first.embeddings[0].values) == 256
    assert first.embeddings[0].values == again.embeddings[0].values
    assert first.embeddings[0].values != other.embeddings[0].values
    assert abs(sum(v * v for v in first.embeddings[0].values) - 1.0) < 1e-9
    request = vertex_emulator.last_request("embedContent")
    assert request.body["embedContentConfig"] == {"outputDimensionality": 256}
    assert request.parts == [{"text": "blue"}]


def test_predict_multimodal_embedding_via_aiplatform(vertex_emulator: VertexEmulator) -> None:
    aiplatform_v1 = pytest.importorskip("google.cloud.aiplatform_v1")
    from google.api_core import exceptions
    from google.protobuf import json_format, struct_pb2

    def value(data: dict) -> struct_pb2.Value:
        return json_format.ParseDict(data, struct_pb2.Value())

    prediction_client = aiplatform_v1.PredictionServiceClient(
        transport="rest",
        client_options={"api_endpoint": vertex_emulator.base_url},
        credentials=google.oauth2.credentials.Credentials(token="test-token"),
    )
    endpoint = "projects/p/locations/us-central1/publishers/google/models/multimodalembedding@001"
    video = {"gcsUri": VIDEO_URI, "videoSegmentConfig": {"intervalSec": 4}}

    response = prediction_client.predict(
        endpoint=endpoint,
        instances=[value({"text": "a red square", "video": video})],
        parameters=value({"dimension": 256}),
    )

    prediction = json_format.MessageToDict(response._pb)["predictions"][0]
    assert len(prediction["textEmbedding"]) == 256
    segments = prediction["videoEmbeddings"]
    assert [(s["startOffsetSec"], s["endOffsetSec"]) for s in segments] == [
        (0, 4),
        (4, 8),
        (8, 12),
    ]
    assert all(len(s["embedding"]) == 1408 for s in segments)
    request = vertex_emulator.last_request("predict")
    assert (request.version, request.model) == ("v1", "multimodalembedding@001")

    video["videoSegmentConfig"]["intervalSec"] = 2
    with pytest.raises(exceptions.BadRequest):
        prediction_client.predict(endpoint=endpoint, instances=[value({"video": video})])


# --------------------------------------------------------------------------- batch prediction jobs

JOBS_PATH = "/v1beta1/projects/test-project/locations/global/batchPredictionJobs"


def create_job(client: genai.Client, model: str = MODEL) -> types.BatchJob:
    """A job whose input is never read unless it starts running (no storage is involved)."""
    return client.batches.create(
        model=model,
        src="gs://reelscope-test/batches/requests.jsonl",
        config=types.CreateBatchJobConfig(dest="gs://reelscope-test/batches/output/"),
    )


def states_until(client: genai.Client, name: str, final: str, timeout: float = 10) -> list[str]:
    """The states a job shows, polled until `final` (the test fails past `timeout`)."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while not seen or seen[-1] != final:
        assert time.monotonic() < deadline, f"the job went through {seen} only"
        state = client.batches.get(name=name).state.value
        if not seen or seen[-1] != state:
            seen.append(state)
        time.sleep(0.02)
    return seen


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", f"{JOBS_PATH}/4000000000000000001"),
        ("GET", f"{JOBS_PATH}/4000000000000000001:cancel"),
        ("PUT", JOBS_PATH),
        ("GET", "/v1/projects/p/locations/l/batchPredictionJobs/1/extra"),
    ],
)
def test_batch_routes_the_sdk_does_not_use_answer_404(
    vertex_emulator: VertexEmulator, method: str, path: str
) -> None:
    response = httpx.request(method, vertex_emulator.base_url + path)

    assert response.status_code == 404
    assert response.json()["error"]["status"] == "NOT_FOUND"
    assert vertex_emulator.last_request().rpc is None


def test_a_job_advances_at_the_set_pace_and_fails_without_storage(
    vertex_emulator: VertexEmulator, client: genai.Client
) -> None:
    vertex_emulator.set_batch_pace(BatchPace(queued_s=0.3, pending_s=0.3))
    job = create_job(client)

    seen = states_until(client, job.name, "JOB_STATE_FAILED")
    assert seen == ["JOB_STATE_QUEUED", "JOB_STATE_PENDING", "JOB_STATE_FAILED"]
    failed = client.batches.get(name=job.name.rsplit("/", 1)[-1])  # the bare id works too
    assert "no storage emulator set" in failed.error.message
    # it started after queued_s + pending_s (0.599: the times are truncated to microseconds)
    assert failed.start_time - failed.create_time >= datetime.timedelta(seconds=0.599)
    assert failed.completion_stats is None and failed.output_info is None
    assert vertex_emulator.last_request().rpc == "batchPredictionJobs.get"


def test_a_queued_job_is_cancelled_and_then_cannot_be_cancelled_again(
    vertex_emulator: VertexEmulator, client: genai.Client
) -> None:
    vertex_emulator.set_batch_pace(BatchPace(queued_s=30, cancelling_s=0.2))
    job = create_job(client)

    assert client.batches.cancel(name=job.name) is None
    seen = states_until(client, job.name, "JOB_STATE_CANCELLED")
    assert seen == ["JOB_STATE_CANCELLING", "JOB_STATE_CANCELLED"]
    cancelled = client.batches.get(name=job.name)
    assert cancelled.error.code == 1 and cancelled.output_info is None
    assert cancelled.start_time is None  # it never ran: no input was read

    with pytest.raises(errors.ClientError) as caught:
        client.batches.cancel(name=job.name)
    assert (caught.value.code, caught.value.status) == (400, "FAILED_PRECONDITION")


def test_create_refuses_what_the_emulator_does_not_take(
    vertex_emulator: VertexEmulator, client: genai.Client
) -> None:
    body = {
        "model": "publishers/google/models/m",
        "inputConfig": {"instancesFormat": "jsonl", "gcsSource": {"uris": ["/tmp/x.jsonl"]}},
        "outputConfig": {
            "predictionsFormat": "jsonl",
            "gcsDestination": {"outputUriPrefix": "gs://b/o"},
        },
    }
    response = httpx.post(vertex_emulator.base_url + JOBS_PATH, json=body)
    assert response.status_code == 400
    assert "gcsSource.uris must be gs:// URIs" in response.json()["error"]["message"]
    with pytest.raises(errors.ClientError, match="predictionsFormat jsonl"):
        client.batches.create(
            model=MODEL,
            src="gs://reelscope-test/batches/requests.jsonl",
            config=types.CreateBatchJobConfig(dest="bq://project.dataset.table"),
        )
    with pytest.raises(errors.ClientError, match="does not exist"):
        client.batches.get(name="123")


def test_list_pages_newest_first_and_reset_forgets_the_jobs(
    vertex_emulator: VertexEmulator, client: genai.Client
) -> None:
    vertex_emulator.set_batch_pace(BatchPace(queued_s=30))
    names = [create_job(client, model).name for model in "abc"]

    listed = list(client.batches.list(config=types.ListBatchJobsConfig(page_size=2)))
    assert [job.name for job in listed] == names[::-1]
    assert [job.model for job in listed] == [f"publishers/google/models/{m}" for m in "cba"]
    pages = [r.query for r in vertex_emulator.requests if r.rpc == "batchPredictionJobs.list"]
    assert pages == [{"pageSize": "2"}, {"pageSize": "2", "pageToken": "2"}]
    assert {job.state.value for job in listed} == {"JOB_STATE_QUEUED"}
    assert vertex_emulator.batch_job(names[0])["state"] == "JOB_STATE_QUEUED"

    vertex_emulator.reset()
    assert list(client.batches.list()) == []


# --------------------------------------------------------------------------- Developer API


def make_api_key_client(emulator: VertexEmulator, api_key: str) -> genai.Client:
    """A Gemini Developer API client (api_key=), as google-genai builds its requests."""
    return genai.Client(
        vertexai=False, api_key=api_key, http_options=types.HttpOptions(base_url=emulator.base_url)
    )


def test_the_developer_api_paths_answer_with_the_same_replies_and_faults(
    vertex_emulator: VertexEmulator,
) -> None:
    client = make_api_key_client(vertex_emulator, vertex_emulator.api_key)
    vertex_emulator.set_reply("Red, green, blue.", chunks=3)
    streamed = list(client.models.generate_content_stream(model=MODEL, contents=PROMPT))
    assert [c.text for c in streamed] == ["Red, ", "green,", " blue."]
    assert streamed[-1].usage_metadata.prompt_token_count == len(PROMPT) // 4
    whole = client.models.generate_content(model=MODEL, contents=PROMPT)
    assert whole.text == "Red, green, blue."
    assert client.models.count_tokens(model=MODEL, contents=PROMPT).total_tokens == len(PROMPT) // 4

    stream, unary, count = vertex_emulator.requests
    assert (stream.path, stream.query) == (
        f"/v1beta/models/{MODEL}:streamGenerateContent",
        {"alt": "sse"},
    )
    assert (unary.rpc, count.rpc) == ("generateContent", "countTokens")
    assert {r.backend for r in vertex_emulator.requests} == {"gemini-api"}
    assert stream.headers["x-goog-api-key"] == vertex_emulator.api_key
    assert "authorization" not in stream.headers  # a key, not a bearer token

    vertex_emulator.fail(429, "Quota exceeded")
    with pytest.raises(errors.ClientError) as quota:
        client.models.generate_content(model=MODEL, contents=PROMPT)
    assert (quota.value.code, quota.value.message) == (429, "Quota exceeded")
    vertex_emulator.cut_stream(after_chunks=1)
    with pytest.raises(httpx.RemoteProtocolError):
        list(client.models.generate_content_stream(model=MODEL, contents=PROMPT))


def test_developer_api_embeddings_match_vertex_for_the_same_content(
    vertex_emulator: VertexEmulator, client: genai.Client
) -> None:
    """google-genai sends embed_content to :batchEmbedContents there, one request per content."""
    api = make_api_key_client(vertex_emulator, vertex_emulator.api_key)
    config = types.EmbedContentConfig(output_dimensionality=16)
    by_key = api.models.embed_content(model="gemini-embedding-2", contents="a", config=config)
    sent = vertex_emulator.last_request()
    assert sent.path == "/v1beta/models/gemini-embedding-2:batchEmbedContents"
    assert sent.body["requests"][0]["outputDimensionality"] == 16
    on_vertex = client.models.embed_content(model="gemini-embedding-2", contents="a", config=config)
    assert len(by_key.embeddings[0].values) == 16
    assert by_key.embeddings[0].values == on_vertex.embeddings[0].values


def test_a_missing_or_wrong_api_key_gets_googles_answer(vertex_emulator: VertexEmulator) -> None:
    wrong_key = make_api_key_client(vertex_emulator, "not-the-key")  # held: a temporary closes
    with pytest.raises(errors.ClientError) as wrong:
        wrong_key.models.generate_content(model=MODEL, contents=PROMPT)
    assert (wrong.value.code, wrong.value.status) == (400, "INVALID_ARGUMENT")
    assert wrong.value.details["error"]["details"][0]["reason"] == "API_KEY_INVALID"

    with httpx.Client() as http:
        missing = http.post(
            f"{vertex_emulator.base_url}/v1beta/models/{MODEL}:generateContent", json={}
        )
    assert missing.status_code == 403
    assert missing.json()["error"]["status"] == "PERMISSION_DENIED"


def test_vertex_only_rpcs_are_not_found_on_the_developer_api(
    vertex_emulator: VertexEmulator,
) -> None:
    headers = {"x-goog-api-key": vertex_emulator.api_key}
    with httpx.Client(base_url=vertex_emulator.base_url, headers=headers) as http:
        predict = http.post("/v1beta/models/multimodalembedding@001:predict", json={})
        batch_on_vertex = http.post(f"{MODEL_PATH}/gemini-embedding-2:batchEmbedContents", json={})
    assert predict.status_code == 404
    assert batch_on_vertex.status_code == 404


# --------------------------------------------------------------------------- Files API


def test_files_api_takes_a_resumable_upload_in_chunks_and_processes_it(
    vertex_emulator: VertexEmulator,
) -> None:
    """client.files.upload as google-genai sends it: a start, then 8 MB chunks, the last one
    finalising; the file is PROCESSING for the set time, then ACTIVE, and lives 48 h."""
    client = make_api_key_client(vertex_emulator, vertex_emulator.api_key)
    vertex_emulator.files.set_processing(0.4)
    data = bytes(range(256)) * (9 * 1024 * 1024 // 256)  # 9 MB: two chunks
    uploaded = client.files.upload(
        file=io.BytesIO(data), config=types.UploadFileConfig(mime_type="video/mp4")
    )
    assert uploaded.state == types.FileState.PROCESSING
    assert uploaded.uri == FILES_URI_PREFIX + uploaded.name.removeprefix("files/")
    assert uploaded.size_bytes == len(data)
    assert uploaded.expiration_time - uploaded.create_time == datetime.timedelta(hours=48)
    start, first, last = vertex_emulator.requests
    assert (start.rpc, start.path) == ("files.create", "/upload/v1beta/files")
    assert start.headers["x-goog-upload-protocol"] == "resumable"
    assert start.headers["x-goog-upload-header-content-length"] == str(len(data))
    assert [r.headers["x-goog-upload-command"] for r in (first, last)] == [
        "upload",
        "upload, finalize",
    ]
    assert [r.headers["x-goog-upload-offset"] for r in (first, last)] == ["0", str(8 << 20)]
    assert "x-goog-api-key" not in first.headers  # the upload id is the chunk's authority
    assert vertex_emulator.files.uploads == [
        {
            "name": uploaded.name,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "mime_type": "video/mp4",
        }
    ]
    part = types.Part.from_uri(file_uri=uploaded.uri, mime_type="video/mp4")
    with pytest.raises(errors.ClientError) as early:
        client.models.generate_content(model=MODEL, contents=[part, "What is it?"])
    assert (early.value.code, early.value.status) == (400, "FAILED_PRECONDITION")
    time.sleep(0.45)
    assert client.files.get(name=uploaded.name).state == types.FileState.ACTIVE
    assert client.models.generate_content(model=MODEL, contents=[part, "What is it?"]).text


def test_files_api_faults_a_chunk_fails_processing_and_forgets(
    vertex_emulator: VertexEmulator,
) -> None:
    client = make_api_key_client(vertex_emulator, vertex_emulator.api_key)
    config = types.UploadFileConfig(mime_type="video/mp4")
    vertex_emulator.files.fail_chunk(503)
    with pytest.raises(errors.ServerError) as chunk:
        client.files.upload(file=io.BytesIO(b"x" * 1000), config=config)
    assert chunk.value.code == 503
    assert vertex_emulator.files.uploads == []

    vertex_emulator.files.fail_processing()
    failed = client.files.upload(file=io.BytesIO(b"y" * 1000), config=config)
    assert failed.state == types.FileState.FAILED
    assert failed.error.message

    kept = client.files.upload(file=io.BytesIO(b"z" * 1000), config=config)
    vertex_emulator.files.forget(kept.name)
    with pytest.raises(errors.ClientError) as gone:
        client.files.get(name=kept.name)
    assert (gone.value.code, gone.value.status) == (403, "PERMISSION_DENIED")
    part = types.Part.from_uri(file_uri=kept.uri, mime_type="video/mp4")
    with pytest.raises(errors.ClientError) as unknown:
        client.models.generate_content(model=MODEL, contents=[part])
    assert unknown.value.code == 403
    client.files.delete(name=failed.name)
    assert vertex_emulator.files.file(failed.name) is None


def test_held_chunks_wait_on_the_wire_until_released(vertex_emulator: VertexEmulator) -> None:
    client = make_api_key_client(vertex_emulator, vertex_emulator.api_key)
    vertex_emulator.files.hold_chunks()
    done: list[types.File] = []
    config = types.UploadFileConfig(mime_type="video/mp4")
    sender = threading.Thread(
        target=lambda: done.append(client.files.upload(file=io.BytesIO(b"v" * 500), config=config))
    )
    sender.start()
    sender.join(timeout=0.5)
    assert sender.is_alive() and vertex_emulator.files.uploads == []  # its chunk is held
    vertex_emulator.files.release_chunks()
    sender.join(timeout=10)
    assert done and len(vertex_emulator.files.uploads) == 1
