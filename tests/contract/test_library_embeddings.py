"""A collection from a bucket prefix: generated videos in gcp-storage-emulator listed through
Cloud Storage, embedded with both models through the Vertex emulator by a stored job; the
server killed mid-job (a real process, SIGKILL), the job resumed from the store by a fresh
process's registry, and the emulator's log shows nothing already embedded sent again; a 429
burst slows a job without a call storm."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from reelscope.embeddings.items import (
    SegmentConfig,
    check_item,
    embeddable,
    items_from_prefix,
    plan_calls,
    text_items,
)
from reelscope.embeddings.job_book import StoredJob
from reelscope.embeddings.jobs import resume_jobs, start_job
from reelscope.embeddings.models import (
    GEMINI_EMBEDDING_2,
    MULTIMODAL_001,
    embedding_model,
    make_embedder,
)
from reelscope.embeddings.store import EmbeddingStore
from reelscope.instance import STALE_AFTER_S
from reelscope.lab.sources import list_prefix
from reelscope.listing import list_media
from reelscope.retries import RetryPolicy
from reelscope.settings import Settings
from reelscope.storage import StagingError
from reelscope.tasks import TaskRegistry, TaskState
from reelscope.vertex import NotConnected, make_storage_client
from tests.conftest import key_only
from tests.vertex_emulator import VertexEmulator

RPC = {GEMINI_EMBEDDING_2: "embedContent", MULTIMODAL_001: "predict"}
VIDEOS = 8
SEGMENTS = SegmentConfig(0.0, 32.0, 8.0)  # Gemini: 4 calls a video; @001: 1 call a video
SERVER_CONCURRENCY = 2
FAST_RETRY = RetryPolicy(attempts=4, initial_delay_s=0.01, max_delay_s=0.05)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings(emulator_settings: Settings, storage_emulator: str) -> Settings:
    return dataclasses.replace(emulator_settings, storage_emulator_host=storage_emulator)


@pytest.fixture
def prefix(settings: Settings, video_file: Path, image_file: Path) -> Iterator[str]:
    """gs://BUCKET/films/ holding VIDEOS videos, one image, a text file and a nested folder."""
    client = make_storage_client(settings)
    bucket = client.create_bucket(f"library-{uuid.uuid4().hex[:12]}")
    for n in range(VIDEOS):
        bucket.blob(f"films/clip-{n:02d}.mp4").upload_from_filename(video_file)
    bucket.blob("films/poster.png").upload_from_filename(image_file)
    bucket.blob("films/notes.txt").upload_from_string("not media")
    bucket.blob("other/clip.mp4").upload_from_filename(video_file)
    yield f"gs://{bucket.name}/films/"
    client.close()


def _listed_items(settings: Settings, prefix: str):
    client = make_storage_client(settings)
    try:
        listing = list_media(client, prefix, embeddable, limit=10_000)
    finally:
        client.close()
    videos = [f for f in listing.files if f.source.is_video]
    return listing, items_from_prefix(videos, SEGMENTS)


def test_a_prefix_is_listed_with_its_count_and_size(settings, prefix, video_file, image_file):
    listing, items = _listed_items(settings, prefix)
    assert len(listing.files) == VIDEOS + 1 and listing.skipped == 1 and not listing.more
    assert listing.total_bytes == VIDEOS * video_file.stat().st_size + image_file.stat().st_size
    assert all(item.uri.startswith(prefix) and item.duration_s is None for item in items)
    assert check_item(items[0], embedding_model(GEMINI_EMBEDDING_2), 3072) == []
    # the Lab's lister is the same lister: videos only
    client = make_storage_client(settings)
    try:
        assert len(list_prefix(client, prefix).files) == VIDEOS
        with pytest.raises(StagingError, match="There are no videos under"):
            list_prefix(client, prefix + "poster")
    finally:
        client.close()


def _request_key(request) -> str:
    """What was sent: the same item and window always make the same body."""
    return json.dumps(request.body, sort_keys=True)


def _embedding_requests(vertex: VertexEmulator, model_id: str) -> list:
    return [r for r in vertex.requests if r.rpc == RPC[model_id]]


def _start_server(settings: Settings, tmp_path: Path, spec: tuple) -> subprocess.Popen:
    spec_path = tmp_path / f"spec-{uuid.uuid4().hex[:6]}.pickle"
    spec_path.write_bytes(pickle.dumps(spec))
    return subprocess.Popen(
        [sys.executable, "-m", "tests.embed_server", str(spec_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    ("model_id", "dimension"), [(GEMINI_EMBEDDING_2, 3072), (MULTIMODAL_001, 1408)]
)
def test_a_killed_server_resumes_the_job_and_sends_nothing_twice(
    vertex, settings, prefix, tmp_path, model_id, dimension
):
    _, items = _listed_items(settings, prefix)
    model = embedding_model(model_id)
    needed = sum(len(plan_calls(item, model)) for item in items)
    store = EmbeddingStore(settings.data_dir)
    info = store.create("Library", model_id, dimension)
    vertex.delay(0.25, times=10_000, rpc=RPC[model_id])  # slow calls: the kill lands mid-job
    server = _start_server(
        settings, tmp_path, (settings, info.id, model_id, dimension, items, SERVER_CONCURRENCY)
    )
    try:
        deadline = time.monotonic() + 60
        while len(_embedding_requests(vertex, model_id)) < needed // 2:
            assert server.poll() is None, server.communicate()
            assert time.monotonic() < deadline, "the server sent too little"
            time.sleep(0.02)
    finally:
        os.kill(server.pid, signal.SIGKILL)
        server.communicate()
    vertex.clear_faults()
    before = _embedding_requests(vertex, model_id)
    (stored,) = store.jobs.open_jobs()  # killed: it never ended, so it is still stored
    assert stored.collection_id == info.id and len(stored.items) == VIDEOS
    assert 0 < len(stored.done) < VIDEOS
    embedded_before = {
        key for n in stored.done for key in (c.cache_key for c in plan_calls(items[n], model, n))
    }
    assert all(store.cache.get(key, dimension) is not None for key in embedded_before)
    store.db.close()

    # a fresh process: a new store over the same data folder, a new registry
    vertex.clear()
    again = EmbeddingStore(settings.data_dir)
    tasks = TaskRegistry()

    def resume():
        return resume_jobs(again, lambda m, d: make_embedder(settings, m, d), retry=FAST_RETRY,
                           tasks=tasks)  # fmt: skip

    assert resume() == []  # the dead server's heartbeat is fresh: it might be alive elsewhere
    deadline = time.monotonic() + STALE_AFTER_S + 10
    while not (resumed := resume()):  # what the page does on its runs, until the claim is stale
        assert time.monotonic() < deadline, "the job was never resumed"
        time.sleep(0.2)
    (job,) = resumed
    assert resume() == []  # claimed: resumed once
    assert job.id == stored.id and tasks.get(job.id) is job
    assert job.wait(60)
    progress = job.details()
    assert progress.state is TaskState.DONE and progress.items_failed == 0, progress
    after = _embedding_requests(vertex, model_id)

    resent = {_request_key(r) for r in before} & {_request_key(r) for r in after}
    # only calls in flight at the kill (never answered into the cache) may go again
    assert len(resent) <= SERVER_CONCURRENCY, resent
    assert len(after) == progress.calls == needed - progress.cache_hits
    assert progress.cache_hits >= len(embedded_before) >= 1
    assert len(before) + len(after) <= needed + SERVER_CONCURRENCY
    collection = again.open(info.id)
    assert set(collection.rows.source) == {item.uri for item in items}
    assert again.jobs.open_jobs() == []  # ended: nothing left to resume


def test_a_running_job_is_not_resumed_elsewhere_and_a_cancelled_one_never(vertex, settings, prefix):
    _, items = _listed_items(settings, prefix)
    store = EmbeddingStore(settings.data_dir)
    embedder = make_embedder(settings, GEMINI_EMBEDDING_2, 768)
    info = store.create("Library", GEMINI_EMBEDDING_2, 768)
    vertex.delay(0.3, times=10_000, rpc="embedContent")  # 32 calls one at a time: ~10 s
    job = start_job(store, embedder, info.id, items, concurrency=1, tasks=TaskRegistry())
    assert [s.id for s in store.jobs.open_jobs()] == [job.id]
    time.sleep(STALE_AFTER_S + 1)  # longer than a heartbeat stays fresh: the job renews it
    assert not job.done
    other = EmbeddingStore(settings.data_dir)  # another instance sharing the database
    assert resume_jobs(other, lambda m, d: embedder, tasks=TaskRegistry()) == []
    job.cancel()
    assert store.jobs.open_jobs() == []
    assert resume_jobs(other, lambda m, d: embedder, tasks=TaskRegistry()) == []
    other.db.close()


def test_a_429_burst_slows_the_job_without_a_call_storm(vertex, settings, prefix):
    _, items = _listed_items(settings, prefix)
    store = EmbeddingStore(settings.data_dir)
    embedder = make_embedder(settings, GEMINI_EMBEDDING_2, 768)
    info = store.create("Library", GEMINI_EMBEDDING_2, 768)
    needed = sum(len(plan_calls(item, embedder.model)) for item in items)
    vertex.delay(0.05, times=10_000, rpc="embedContent")
    vertex.throttle(every=3, seconds=3, rpc="embedContent")
    started = time.monotonic()
    job = start_job(store, embedder, info.id, items, tasks=TaskRegistry())
    assert job.wait(60)
    took = time.monotonic() - started
    progress = job.details()
    assert progress.state is TaskState.DONE and progress.items_failed == 0, progress.failures
    made = len(_embedding_requests(vertex, GEMINI_EMBEDDING_2))
    assert made == progress.calls
    print(f"429 burst: {made} calls for {needed} needed, {progress.retries} retries, {took:.1f} s")
    assert progress.retries >= 1  # the burst was met
    assert took >= 1.0  # and waited out (the first shared pause is 1 s)
    # The issue asks for at most 1.5; measured here: ~1.16 with the job's shared pause, ~1.44
    # with each thread retrying on its own timer (which 1.5 would not tell apart).
    assert made / needed <= 1.3


def test_on_the_api_key_a_stored_001_job_waits_and_the_gemini_job_after_it_resumes(
    vertex, settings
):
    """The Gemini Developer API serves Gemini Embedding 2, not multimodalembedding@001: a stored
    @001 job is left for Vertex AI (refused with the reason), and does not hold up the next."""
    api_key = key_only(settings, vertex)
    store = EmbeddingStore(settings.data_dir)
    stale = time.time() - STALE_AFTER_S - 60  # their server stopped a while ago
    for n, (model_id, dimension) in enumerate([(MULTIMODAL_001, 1408), (GEMINI_EMBEDDING_2, 256)]):
        info = store.create(f"Made on Vertex AI {n}", model_id, dimension)
        job = StoredJob(
            id=uuid.uuid4().hex, collection_id=info.id, model_id=model_id, dimension=dimension,
            concurrency=1, owner="local", label=f"job {n}", origin=None,
            items=tuple(text_items("a red scene\na blue sea")),
        )  # fmt: skip
        store.jobs.create(job, alive_at=stale)
        time.sleep(0.01)  # created in this order
    tasks = TaskRegistry()
    with pytest.raises(NotConnected, match="served only by Vertex AI") as refused:
        resume_jobs(store, lambda m, d: make_embedder(api_key, m, d), tasks=tasks, retry=FAST_RETRY)
    assert "export REELSCOPE_BACKEND=vertex" in refused.value.fixes
    (resumed,) = tasks.tasks()
    assert resumed.wait(30) and resumed.details().items_done == 2
    assert {(r.backend, r.rpc) for r in vertex.requests} == {("gemini-api", "batchEmbedContents")}
    (waiting,) = store.jobs.open_jobs()  # kept for Vertex AI, not lost
    assert waiting.model_id == MULTIMODAL_001
    store.db.close()
