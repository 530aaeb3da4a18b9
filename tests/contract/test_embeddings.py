"""Both embedding clients over real HTTP against the Vertex emulator: bodies, windows, jobs.

Every test runs on both backends (Vertex AI and the Gemini Developer API, `backend_settings`)
unless it says why it is Vertex AI's alone: multimodalembedding@001 is a Vertex AI prediction
endpoint, and the Developer API reads no gs:// link. Gemini Embedding 2 is served by both; on
the Developer API google-genai sends `embed_content` as :batchEmbedContents."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from reelscope.embeddings.items import (
    EmbeddingError,
    Item,
    ItemKind,
    SegmentConfig,
    item_from_file,
    text_items,
)
from reelscope.embeddings.jobs import start_job
from reelscope.embeddings.models import (
    GEMINI_EMBEDDING_2,
    MULTIMODAL_001,
    embed_query,
    make_embedder,
)
from reelscope.embeddings.queries import FROM_CACHE, FROM_COLLECTION, query_vector
from reelscope.embeddings.store import EmbeddingStore
from reelscope.retries import RetryPolicy
from reelscope.settings import BACKEND_GEMINI_API, BACKEND_VERTEX, Settings, choose_backend
from reelscope.tasks import TaskState
from reelscope.vertex import NotConnected
from tests.vertex_emulator import Fault, FaultKind, VertexEmulator, camelize, fake_embedding

FAST_RETRY = RetryPolicy(attempts=4, initial_delay_s=0.01, max_delay_s=0.05)


MULTIMODAL_ONLY_ON_VERTEX = "multimodalembedding@001 is a Vertex AI prediction endpoint"
GCS_ONLY_ON_VERTEX = "a gs:// video: the Gemini Developer API cannot read Cloud Storage"
EMBED_RPC = {BACKEND_VERTEX: "embedContent", BACKEND_GEMINI_API: "batchEmbedContents"}


@pytest.fixture
def settings(backend_settings: Settings) -> Settings:
    """The emulator's settings once per backend (tests/conftest.py)."""
    return backend_settings


@pytest.fixture
def backend(settings: Settings) -> str:
    return choose_backend(settings).backend


def vertex_only(backend: str, why: str) -> None:
    if backend != BACKEND_VERTEX:
        pytest.skip(f"Vertex AI only: {why}")


@pytest.fixture
def store(settings: Settings) -> EmbeddingStore:
    return EmbeddingStore(settings.data_dir)


def _gemini_calls(vertex: VertexEmulator, backend: str) -> list:
    """Gemini Embedding 2's calls, each on its backend's path."""
    calls = [r for r in vertex.requests if r.rpc == EMBED_RPC[backend]]
    assert all(c.backend == backend for c in calls)
    return calls


def _embedded(call) -> list[dict]:
    """The contents one call asked to embed, each with its own settings: Vertex AI's body is
    one, the Developer API's :batchEmbedContents a list of `requests`."""
    return [camelize(r) for r in call.body.get("requests", [call.body])]


def _parts(call) -> list[dict]:
    return [camelize(p) for one in _embedded(call) for p in one["content"]["parts"]]


def _size(one: dict) -> int:
    """The output size asked for: in embedContentConfig on Vertex AI, at the top otherwise."""
    return camelize(one.get("embedContentConfig", one))["outputDimensionality"]


def _embed(store, embedder, items, **kwargs):
    info = store.create("c", embedder.model.id, embedder.dimension)
    job = start_job(store, embedder, info.id, items, retry=FAST_RETRY, **kwargs)
    assert job.wait(30)
    return info.id, job.details()


def _calls(vertex: VertexEmulator, rpc: str) -> list:
    return [r for r in vertex.requests if r.rpc == rpc]


# -- multimodalembedding@001 through PredictionServiceClient.predict --


def test_multimodal_text_image_bodies(vertex, settings, store, image_file, backend):
    vertex_only(backend, MULTIMODAL_ONLY_ON_VERTEX)
    embedder = make_embedder(settings, MULTIMODAL_001, 256)
    items = [*text_items("a red square"), item_from_file(image_file, store.blobs)]
    collection_id, progress = _embed(store, embedder, items)
    assert progress.state is TaskState.DONE and progress.items_done == 2
    calls = _calls(vertex, "predict")
    assert len(calls) == 2
    # global has no regional aiplatform host: @001 goes to us-central1 (the seed's location)
    assert {c.location for c in calls} == {"us-central1"}
    assert {c.model for c in calls} == {"multimodalembedding@001"}
    bodies = {json.dumps(c.body["instances"][0], sort_keys=True): c.body for c in calls}
    text_body = next(b for b in bodies.values() if "text" in b["instances"][0])
    assert text_body["instances"] == [{"text": "a red square"}]
    assert text_body["parameters"] == {"dimension": 256}
    image_body = next(b for b in bodies.values() if "image" in b["instances"][0])
    sent = base64.b64decode(image_body["instances"][0]["image"]["bytesBase64Encoded"])
    assert sent == image_file.read_bytes()
    collection = store.open(collection_id)
    assert collection.vectors.shape == (2, 256)
    text_row = collection.rows.kind.tolist().index("text")
    expected = fake_embedding("text:a red square", 256)
    assert np.array_equal(collection.vectors[text_row], np.float16(expected))  # kept as float16


def test_multimodal_gcs_video_windows(vertex, settings, store, backend):
    vertex_only(backend, MULTIMODAL_ONLY_ON_VERTEX)
    vertex.video_duration_sec = 300.0  # a five-minute video: three requests of <= 120 s
    embedder = make_embedder(settings, MULTIMODAL_001, 1408)
    video = Item(
        kind=ItemKind.VIDEO,
        label="long.mp4",
        uri="gs://bucket/long.mp4",
        mime_type="video/mp4",
        duration_s=300.0,
        has_audio=True,
        segments=SegmentConfig(interval_s=16),
    )
    collection_id, progress = _embed(store, embedder, [video])
    assert progress.items_done == 1 and progress.calls == 3
    configs = sorted(
        (c.body["instances"][0]["video"] for c in _calls(vertex, "predict")),
        key=lambda v: v["videoSegmentConfig"]["startOffsetSec"],
    )
    assert all(v["gcsUri"] == "gs://bucket/long.mp4" for v in configs)
    assert all("bytesBase64Encoded" not in v for v in configs)
    assert [v["videoSegmentConfig"] for v in configs] == [
        {"startOffsetSec": 0, "endOffsetSec": 112, "intervalSec": 16},
        {"startOffsetSec": 112, "endOffsetSec": 224, "intervalSec": 16},
        {"startOffsetSec": 224, "endOffsetSec": 300, "intervalSec": 16},
    ]
    assert all(
        "parameters" not in c.body or not c.body["parameters"] for c in _calls(vertex, "predict")
    )
    rows = store.open(collection_id).rows
    starts = rows.start_s.tolist()
    assert starts == [float(s) for s in range(0, 300, 16)]  # segments joined in order
    assert rows.end_s[-1] == 300.0


def test_multimodal_video_needs_1408(settings, store, video_file, backend):
    vertex_only(backend, MULTIMODAL_ONLY_ON_VERTEX)
    embedder = make_embedder(settings, MULTIMODAL_001, 512)
    item = item_from_file(video_file, store.blobs, SegmentConfig(interval_s=4))
    _, progress = _embed(store, embedder, [item])
    assert progress.items_failed == 1 and "1408" in progress.failures[0].reason


def test_multimodal_interval_below_4_refused(vertex, settings, store, video_file, backend):
    vertex_only(backend, MULTIMODAL_ONLY_ON_VERTEX)
    embedder = make_embedder(settings, MULTIMODAL_001, 1408)
    item = item_from_file(video_file, store.blobs, SegmentConfig(interval_s=2))
    _, progress = _embed(store, embedder, [item])
    assert progress.items_failed == 1 and "at least 4" in progress.failures[0].reason
    assert _calls(vertex, "predict") == []  # refused before any call


# -- gemini-embedding-2 through google-genai embed_content --


def test_gemini_bodies_and_dimension(vertex, settings, store, image_file, video_file, backend):
    embedder = make_embedder(settings, GEMINI_EMBEDDING_2, 768)
    items = [
        *text_items("a green circle"),
        item_from_file(image_file, store.blobs),
        item_from_file(video_file, store.blobs),
    ]
    collection_id, progress = _embed(store, embedder, items)
    assert progress.items_done == 3 and progress.calls == 3  # one content per call
    calls = _gemini_calls(vertex, backend)
    assert len(calls) == 3 and {c.model for c in calls} == {"gemini-embedding-2"}
    for call in calls:
        [one] = _embedded(call)  # one content a call, on either path
        assert len(one["content"]["parts"]) == 1
        assert _size(one) == 768
    parts = [p for c in calls for p in _parts(c)]
    mimes = sorted(p["inlineData"]["mimeType"] for p in parts if "inlineData" in p)
    assert mimes == ["image/png", "video/mp4"]
    video_part = next(
        p for p in parts if "inlineData" in p and p["inlineData"]["mimeType"] == "video/mp4"
    )
    assert "videoMetadata" not in video_part  # a 12 s video fits one call whole
    assert store.open(collection_id).vectors.shape == (3, 768)


def test_gemini_long_video_windows(vertex, settings, store, backend):
    vertex_only(backend, GCS_ONLY_ON_VERTEX)
    embedder = make_embedder(settings, GEMINI_EMBEDDING_2, 3072)
    video = Item(
        kind=ItemKind.VIDEO,
        label="talk.mp4",
        uri="gs://b/talk.mp4",
        mime_type="video/mp4",
        duration_s=200.0,
        has_audio=True,
    )
    collection_id, progress = _embed(store, embedder, [video])
    assert progress.items_done == 1 and progress.calls == 3
    # with audio, at most 80 s a call (model card, the conservative limit)
    offsets = sorted(
        (p["videoMetadata"]["startOffset"], p["videoMetadata"]["endOffset"])
        for c in _calls(vertex, "embedContent")
        for p in c.parts
    )
    assert offsets == sorted([("0s", "80s"), ("80s", "160s"), ("160s", "200s")])
    parts = [p for c in _calls(vertex, "embedContent") for p in c.parts]
    assert all(p["fileData"]["fileUri"] == "gs://b/talk.mp4" for p in parts)
    rows = store.open(collection_id).rows
    assert rows.start_s.tolist() == [0.0, 80.0, 160.0]


def test_gemini_window_over_limit_refused(settings, store):
    embedder = make_embedder(settings, GEMINI_EMBEDDING_2, 256)
    video = Item(
        kind=ItemKind.VIDEO,
        label="v.mp4",
        uri="gs://b/v.mp4",
        mime_type="video/mp4",
        duration_s=200.0,
        has_audio=True,
        segments=SegmentConfig(interval_s=100),
    )
    _, progress = _embed(store, embedder, [video])
    assert "at most 80 s" in progress.failures[0].reason


def test_collection_never_mixes_models(settings, store, backend):
    vertex_only(backend, MULTIMODAL_ONLY_ON_VERTEX)
    info = store.create("g", GEMINI_EMBEDDING_2, 3072)
    embedder = make_embedder(settings, MULTIMODAL_001, 1408)
    with pytest.raises(EmbeddingError, match="cannot take"):
        start_job(store, embedder, info.id, text_items("x"))


@pytest.mark.parametrize("model", [GEMINI_EMBEDDING_2, MULTIMODAL_001])
def test_a_query_equal_to_an_item_uses_its_stored_vector(
    vertex, settings, store, image_file, model, backend
):
    if model == MULTIMODAL_001:
        vertex_only(backend, MULTIMODAL_ONLY_ON_VERTEX)
    embedder = make_embedder(settings, model, 256)
    image = item_from_file(image_file, store.blobs)
    collection_id, _ = _embed(store, embedder, [*text_items("a red scene\na blue sea"), image])
    collection = store.open(collection_id)
    rows = collection.rows.kind.tolist()
    vertex.clear()

    typed = query_vector(embedder, collection, store.cache, text="  a blue sea ")
    picked = query_vector(embedder, collection, store.cache, image=image)
    assert vertex.requests == [], "the text and the image are items: no call"
    assert typed.stored_in == picked.stored_in == FROM_COLLECTION
    text_row = collection.rows.text.index("a blue sea")
    assert np.array_equal(typed.vector, collection.vectors[text_row])
    assert np.array_equal(picked.vector, collection.vectors[rows.index("image")])

    new = query_vector(embedder, collection, store.cache, text="a green field")
    assert new.stored_in is None and len(vertex.requests) == 1  # not an item: one call
    assert "a green field" in json.dumps(vertex.requests[0].body) and new.vector.shape == (256,)


def test_a_stored_vector_is_reused_only_in_the_same_model_and_size(
    vertex, settings, store, backend
):
    vertex_only(backend, MULTIMODAL_ONLY_ON_VERTEX)
    small = make_embedder(settings, GEMINI_EMBEDDING_2, 256)
    _embed(store, small, text_items("a cat"))  # "a cat" is in the vector cache, at 256-d
    dogs, _ = _embed(store, small, text_items("a dog"))
    large = make_embedder(settings, GEMINI_EMBEDDING_2, 768)
    large_dogs, _ = _embed(store, large, text_items("a dog"))
    other = make_embedder(settings, MULTIMODAL_001, 256)
    vertex.clear()

    cat = query_vector(small, store.open(dogs), store.cache, text="a cat")
    assert cat.stored_in == FROM_CACHE and vertex.requests == []  # same model and size
    cat_768 = query_vector(large, store.open(large_dogs), store.cache, text="a cat")
    assert cat_768.stored_in is None and cat_768.vector.shape == (768,)
    dog_001 = query_vector(other, store.open(dogs), store.cache, text="a dog")
    assert dog_001.stored_in is None  # the collection's row is Gemini's vector, not @001's
    assert [r.model for r in vertex.requests] == [GEMINI_EMBEDDING_2, MULTIMODAL_001]


def test_query_vector_matches_collection_space(vertex, settings, store, backend):
    vertex_only(backend, MULTIMODAL_ONLY_ON_VERTEX)
    embedder = make_embedder(settings, MULTIMODAL_001, 128)
    vector = embed_query(embedder, text="a cat")
    assert vector.shape == (128,)
    assert np.allclose(vector, fake_embedding("text:a cat", 128), atol=1e-6)


# -- cache --


def test_repeat_makes_zero_calls(vertex, settings, store, video_file, backend):
    vertex_only(backend, MULTIMODAL_ONLY_ON_VERTEX)
    embedder = make_embedder(settings, MULTIMODAL_001, 1408)
    items = [*text_items("one\ntwo"), item_from_file(video_file, store.blobs)]
    collection_id, first = _embed(store, embedder, items)
    assert first.calls == 3 and first.cache_hits == 0
    vertex.clear()
    job = start_job(store, embedder, collection_id, items)
    assert job.wait(30)
    again = job.details()
    assert again.calls == 0 and again.cache_hits == 3 and vertex.requests == []
    assert len(store.open(collection_id).rows) == first.rows_added  # replaced, not duplicated


def test_changed_segment_config_reembeds_only_that(vertex, settings, store, backend):
    vertex_only(backend, MULTIMODAL_ONLY_ON_VERTEX)
    vertex.video_duration_sec = 240.0
    embedder = make_embedder(settings, MULTIMODAL_001, 1408)

    def video(end: float) -> Item:
        return Item(
            kind=ItemKind.VIDEO,
            label="v",
            uri="gs://b/v.mp4",
            mime_type="video/mp4",
            duration_s=240.0,
            segments=SegmentConfig(end_s=end, interval_s=8),
        )

    items = [*text_items("kept text"), video(120)]
    collection_id, first = _embed(store, embedder, items)
    assert first.calls == 2
    vertex.clear()
    job = start_job(store, embedder, collection_id, [*text_items("kept text"), video(240)])
    assert job.wait(30)
    progress = job.details()
    # [0,120) was answered before; only the new window [120,240) is asked for
    assert progress.calls == 1 and progress.cache_hits == 2
    sent = vertex.requests[0].body["instances"][0]["video"]["videoSegmentConfig"]
    assert sent == {"startOffsetSec": 120, "endOffsetSec": 240, "intervalSec": 8}
    rows = store.open(collection_id).rows
    assert rows.start_s[~np.isnan(rows.start_s)].tolist() == [float(s) for s in range(0, 240, 8)]


# -- faults --


def test_429_then_success(vertex, settings, store, backend):
    vertex.fail(429, times=2, rpc=EMBED_RPC[backend])
    embedder = make_embedder(settings, GEMINI_EMBEDDING_2, 128)
    _, progress = _embed(store, embedder, text_items("retry me"))
    assert progress.items_done == 1 and progress.retries == 2 and progress.calls == 3
    assert vertex.pending_faults == []


@pytest.mark.parametrize("status", [408, 500])
def test_request_timeouts_and_server_errors_are_retried(vertex, settings, store, status, backend):
    vertex_only(backend, MULTIMODAL_ONLY_ON_VERTEX)
    vertex.fail(status, times=2, rpc="predict")
    embedder = make_embedder(settings, MULTIMODAL_001, 1408)
    _, progress = _embed(store, embedder, text_items("retry me"))
    assert progress.items_done == 1 and progress.retries == 2 and progress.calls == 3


def test_a_timeout_is_retried(vertex, settings, store, backend):
    impatient = replace(settings, request_timeout_s=0.5)
    vertex.delay(3.0, rpc=EMBED_RPC[backend])  # the first call outlives the client's timeout
    embedder = make_embedder(impatient, GEMINI_EMBEDDING_2, 128)
    _, progress = _embed(store, embedder, text_items("slow at first"))
    assert progress.items_done == 1 and progress.retries == 1 and progress.calls == 2
    assert len(_gemini_calls(vertex, backend)) == 2


def test_one_item_fails_the_rest_land(vertex, settings, store, backend):
    vertex_only(backend, MULTIMODAL_ONLY_ON_VERTEX)

    def hook(request):
        if request.rpc == "predict" and request.body["instances"][0].get("text") == "bad":
            return Fault(FaultKind.ERROR, rpc="predict", status=400, message="Bad input.")
        return None

    vertex.on_request(hook)
    embedder = make_embedder(settings, MULTIMODAL_001, 1408)
    collection_id, progress = _embed(store, embedder, text_items("good\nbad\nfine"))
    assert progress.items_done == 2 and progress.items_failed == 1
    assert progress.failures[0].label == "bad" and "Bad input." in progress.failures[0].reason
    assert store.open(collection_id).rows.label == ["good", "fine"]


def test_server_error_retried_until_it_gives_up(vertex, settings, store, backend):
    vertex_only(backend, MULTIMODAL_ONLY_ON_VERTEX)
    vertex.fail(503, times=10, rpc="predict")
    embedder = make_embedder(settings, MULTIMODAL_001, 1408)
    _, progress = _embed(store, embedder, text_items("down"))
    assert progress.items_failed == 1 and progress.calls == FAST_RETRY.attempts
    assert "503" in progress.failures[0].reason


def test_cancel_mid_job(vertex, settings, store, backend):
    vertex.delay(2.0, times=100, rpc=EMBED_RPC[backend])
    embedder = make_embedder(settings, GEMINI_EMBEDDING_2, 128)
    info = store.create("c", GEMINI_EMBEDDING_2, 128)
    items = text_items("\n".join(f"line {i}" for i in range(40)))
    job = start_job(store, embedder, info.id, items, concurrency=4)
    deadline = time.monotonic() + 10
    while not vertex.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    assert vertex.requests, "the job never called"
    job.cancel()
    assert job.details().state is TaskState.CANCELLED  # at once
    assert job.wait(1.0)  # no waiting for the calls in flight
    assert len(vertex.requests) <= 4
    assert store.open(info.id).info.count == 0


def test_progress_readable_while_running(vertex, settings, store, backend):
    vertex.delay(0.2, times=6, rpc=EMBED_RPC[backend])
    embedder = make_embedder(settings, GEMINI_EMBEDDING_2, 128)
    info = store.create("c", GEMINI_EMBEDDING_2, 128)
    job = start_job(store, embedder, info.id, text_items("a\nb\nc\nd\ne\nf"), concurrency=2)
    seen = []
    while not job.wait(0.05):
        seen.append(job.details())
    assert any(0 < p.items_done < 6 for p in seen)
    assert any(p.eta_s is not None and p.eta_s > 0 for p in seen)
    assert job.details().items_done == 6


def test_collections_persist(settings, store):
    embedder = make_embedder(settings, GEMINI_EMBEDDING_2, 256)
    collection_id, _ = _embed(store, embedder, text_items("x\ny"))
    reopened = EmbeddingStore(settings.data_dir).open(collection_id)
    assert reopened.info.model_id == GEMINI_EMBEDDING_2 and reopened.vectors.shape == (2, 256)
    assert isinstance(reopened.vectors, np.memmap)


def test_uploads_outlive_the_spool(settings, store, image_file, tmp_path: Path):
    copy = tmp_path / "pic.png"
    copy.write_bytes(image_file.read_bytes())
    item = item_from_file(copy, store.blobs)
    copy.unlink()  # the session's spool is gone
    assert item.path.read_bytes() == image_file.read_bytes()


# -- the Gemini Developer API: what it serves, what it refuses --


def test_gemini_video_windows_go_inline_with_their_offsets(
    vertex, settings, store, video_file, backend
):
    embedder = make_embedder(settings, GEMINI_EMBEDDING_2, 256)
    item = item_from_file(video_file, store.blobs, SegmentConfig(interval_s=5))
    collection_id, progress = _embed(store, embedder, [item])
    assert progress.items_done == 1 and progress.calls == 3, progress.failures
    parts = [p for c in _gemini_calls(vertex, backend) for p in _parts(c)]
    assert all(p["inlineData"]["data"] == parts[0]["inlineData"]["data"] for p in parts)
    offsets = sorted(
        (p["videoMetadata"]["startOffset"], p["videoMetadata"]["endOffset"]) for p in parts
    )
    assert offsets == [("0s", "5s"), ("10s", "12s"), ("5s", "10s")]
    assert store.open(collection_id).rows.start_s.tolist() == [0.0, 5.0, 10.0]


def test_multimodal_001_is_refused_on_the_developer_api_with_the_way_back(
    vertex, settings, backend
):
    if backend != BACKEND_GEMINI_API:
        pytest.skip("Vertex AI serves multimodalembedding@001")
    with pytest.raises(NotConnected) as refused:
        make_embedder(settings, MULTIMODAL_001, 1408)
    said = str(refused.value)
    assert "served only by Vertex AI" in said and "Gemini Developer API" in said
    assert "maps, selections and nearest rows still work" in said
    assert "export REELSCOPE_BACKEND=vertex" in refused.value.fixes
    assert vertex.requests == []


def test_a_gs_link_is_refused_on_the_developer_api_before_any_call(
    vertex, settings, store, backend
):
    if backend != BACKEND_GEMINI_API:
        pytest.skip("Vertex AI reads gs:// links (test_gemini_long_video_windows)")
    video = Item(
        kind=ItemKind.VIDEO,
        label="talk.mp4",
        uri="gs://b/talk.mp4",
        mime_type="video/mp4",
        duration_s=60.0,
        has_audio=True,
    )
    _, progress = _embed(store, make_embedder(settings, GEMINI_EMBEDDING_2, 256), [video])
    assert progress.items_failed == 1
    assert "cannot read Cloud Storage (gs://b/talk.mp4)" in progress.failures[0].reason
    assert vertex.requests == []


def test_a_wrong_key_fails_each_item_at_once_saying_where_to_make_one(
    vertex, settings, store, backend
):
    if backend != BACKEND_GEMINI_API:
        pytest.skip("Vertex AI takes no API key")
    wrong = replace(settings, gemini_api_key="not-the-emulators-key")
    embedder = make_embedder(wrong, GEMINI_EMBEDDING_2, 128)
    _, progress = _embed(store, embedder, text_items("one\ntwo"))
    assert progress.items_failed == 2 and progress.retries == 0 and progress.calls == 2
    reason = progress.failures[0].reason
    assert reason.startswith("Gemini Developer API refused it (400): API key not valid")
    assert "https://aistudio.google.com/apikey" in reason
    assert "not-the-emulators-key" not in reason


def test_quota_that_never_recovers_says_what_the_backend_allows(vertex, settings, store, backend):
    vertex.fail(429, times=10, rpc=EMBED_RPC[backend])
    embedder = make_embedder(settings, GEMINI_EMBEDDING_2, 128)
    _, progress = _embed(store, embedder, text_items("too many"))
    assert progress.items_failed == 1 and progress.retries == FAST_RETRY.attempts - 1
    reason = progress.failures[0].reason
    assert reason.startswith("Quota exhausted (429) after several tries")
    rate_limits = "https://ai.google.dev/gemini-api/docs/rate-limits"
    assert (rate_limits in reason) is (backend == BACKEND_GEMINI_API)
