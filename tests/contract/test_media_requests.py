"""Clip settings, media resolution and staged uploads on the wire: the real google-genai SDK and
the real google-cloud-storage client, against the Vertex AI emulator and gcp-storage-emulator."""

from __future__ import annotations

import dataclasses
import json
import uuid

import pytest

from reelscope.catalog import load_catalog
from reelscope.generation.request import build_request
from reelscope.generation.runner import Target
from reelscope.generation.tokens import count_prompt_tokens
from reelscope.media import Clip, SourceKind, accept_upload, source_from_link
from reelscope.media_rules import check_request, too_large_to_send
from reelscope.parameters import defaults_for
from reelscope.runs import Runs, RunSpec, SourceRef
from reelscope.settings import Settings
from reelscope.spool import Spool
from reelscope.storage import CHUNK_SIZE, stage_file
from reelscope.tasks import TaskRegistry
from reelscope.vertex import make_storage_client
from tests.media_files import make_long_video
from tests.requests import checked

CATALOG = load_catalog()
G35 = CATALOG.get("gemini-3.5-flash")
TARGET = Target("test-project", "global")


def run(client, sources, prompt="Describe", resolution=None, model=G35):
    """One run the way the Ask page starts it; returns the finished state."""
    params = defaults_for(model)
    request = build_request(
        model, checked(model, sources), prompt, params, media_resolution=resolution
    )
    spec = RunSpec(model.id, prompt, params, tuple(map(SourceRef.of, sources)))
    runs = Runs(TaskRegistry())
    started = runs.start(spec, client, request, target=TARGET)
    assert started.wait_done(timeout=20)
    return started


def test_offsets_fps_and_resolutions_reach_the_request_body(client, vertex):
    link = source_from_link("gs://my-bucket/talk.mp4")
    clipped = dataclasses.replace(link, clip=Clip(12.5, 75, 2.0, "HIGH"))
    finished = run(client, [clipped], resolution="LOW")
    assert finished.state().completed

    (video, _prompt) = vertex.parts_of()
    assert video["fileData"] == {"fileUri": "gs://my-bucket/talk.mp4", "mimeType": "video/mp4"}
    assert video["videoMetadata"] == {"startOffset": "12.5s", "endOffset": "75s", "fps": 2.0}
    assert video["mediaResolution"] == {"level": "MEDIA_RESOLUTION_HIGH"}
    assert vertex.generation_config_of()["mediaResolution"] == "MEDIA_RESOLUTION_LOW"
    # As SDK-NOTES says: camelCase outside, snake_case inside videoMetadata on the raw wire.
    raw = json.dumps(vertex.last_request().body)
    assert '"start_offset": "12.5s"' in raw and '"end_offset": "75s"' in raw


def test_the_run_records_the_clip_it_sent(client, vertex):
    link = source_from_link("https://youtu.be/dQw4w9WgXcQ")
    clipped = dataclasses.replace(link, clip=Clip(start_s=30, fps=0.5))
    finished = run(client, [clipped])
    (ref,) = finished.spec.sources
    assert (ref.start_s, ref.end_s, ref.fps, ref.resolution) == (30, None, 0.5, None)
    assert finished.spec.to_record()["sources"][0]["fps"] == 0.5
    assert vertex.parts_of()[0]["videoMetadata"] == {"startOffset": "30s", "fps": 0.5}


def test_a_model_without_per_part_resolution_gets_none(client, vertex):
    model = CATALOG.get("gemini-3.5-flash")
    older = dataclasses.replace(model, id="gemini-2.5-flash")  # served by the emulator too
    clipped = dataclasses.replace(
        source_from_link("gs://bucket-a/a.mp4"), clip=Clip(resolution="HIGH", fps=4)
    )
    run(client, [clipped], resolution="MEDIUM", model=older)
    (video, _prompt) = vertex.parts_of()
    assert "mediaResolution" not in video and video["videoMetadata"] == {"fps": 4}
    assert vertex.generation_config_of()["mediaResolution"] == "MEDIA_RESOLUTION_MEDIUM"


def test_count_tokens_carries_the_clip_too(client, vertex):
    clipped = dataclasses.replace(source_from_link("gs://bucket-a/a.mp4"), clip=Clip(end_s=10))
    request = build_request(G35, checked(G35, [clipped]), "Hi", defaults_for(G35))
    assert isinstance(count_prompt_tokens(client, request, TARGET), int)
    assert vertex.last_request().rpc == "countTokens"
    assert vertex.parts_of()[0]["videoMetadata"] == {"endOffset": "10s"}


@pytest.fixture
def staging(storage_emulator):
    settings = Settings(project="test-project", storage_emulator_host=storage_emulator)
    storage = make_storage_client(settings)
    bucket = f"media-{uuid.uuid4().hex[:10]}"
    storage.create_bucket(bucket)
    return storage, bucket


def test_a_30_mb_upload_is_staged_once_and_sent_by_its_gs_uri(client, vertex, staging, tmp_path):
    storage, bucket = staging
    video = make_long_video(tmp_path / "phone.mp4", 200, video_kbps=1200)  # ~30 MB, 3:20
    spool = Spool(tmp_path / "spool", max_bytes=10**9)
    with video.open("rb") as data:
        source = accept_upload(spool, "phone.mp4", data, CATALOG.media)
    assert source.size > 29_000_000 and too_large_to_send(source, CATALOG.media)
    assert check_request([source], G35, CATALOG.media)  # inline: refused, with the fix

    calls: list[tuple[int, int]] = []
    staged = stage_file(
        storage,
        bucket,
        source.path,
        source.sha256,
        source.mime_type,
        lambda sent, total: calls.append((sent, total)),
    )
    assert staged.uploaded and staged.uri == f"gs://{bucket}/reelscope/{source.sha256}.mp4"
    assert [sent for sent, _ in calls] == [
        0,
        CHUNK_SIZE,
        2 * CHUNK_SIZE,
        3 * CHUNK_SIZE,
        source.size,
    ]

    again: list[tuple[int, int]] = []
    second = stage_file(storage, bucket, source.path, source.sha256, source.mime_type, again.append)
    assert not second.uploaded and second.uri == staged.uri and again == []

    sent = dataclasses.replace(
        source, kind=SourceKind.GCS, uri=staged.uri, clip=Clip(start_s=60, end_s=90)
    )
    assert check_request([sent], G35, CATALOG.media) == []
    assert sent.duration_s == pytest.approx(200, abs=1) and sent.sha256 == source.sha256
    vertex.clear()
    run(client, [sent])
    (part, _prompt) = vertex.parts_of()
    assert part["fileData"] == {"fileUri": staged.uri, "mimeType": "video/mp4"}
    assert "inlineData" not in part
    assert part["videoMetadata"] == {"startOffset": "60s", "endOffset": "90s"}
