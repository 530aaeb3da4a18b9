"""Cloud Storage staging with the real google-cloud-storage client against gcp-storage-emulator."""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from pathlib import Path

import pytest
from google.cloud import storage

from reelscope.settings import Settings
from reelscope.storage import (
    CHUNK_SIZE,
    StagingCancelled,
    StagingError,
    iter_range,
    object_size,
    read_range,
    stage_file,
)
from reelscope.vertex import make_storage_client

SIZE = 30 * 1000 * 1000  # 30 MB: four 8 MiB chunks, the last one short


@pytest.fixture(scope="session")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("staging") / "phone-recording.MP4"
    data = os.urandom(SIZE)
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


@pytest.fixture
def client(storage_emulator: str) -> storage.Client:
    return make_storage_client(
        Settings(project="test-project", storage_emulator_host=storage_emulator)
    )


@pytest.fixture
def bucket(client: storage.Client) -> str:
    name = f"stage-{uuid.uuid4().hex[:12]}"
    client.create_bucket(name)
    return name


def test_large_file_goes_up_in_chunks_with_progress_and_comes_back_identical(
    client: storage.Client, bucket: str, big_file: tuple[Path, str]
) -> None:
    path, digest = big_file
    calls: list[tuple[int, int]] = []
    staged = stage_file(
        client, bucket, path, digest, "video/mp4", progress=lambda s, t: calls.append((s, t))
    )

    assert staged.uri == f"gs://{bucket}/reelscope/{digest}.mp4"  # extension from the MIME type
    assert staged.uploaded and staged.size == SIZE
    sent = [s for s, _ in calls]
    assert len(calls) >= SIZE // CHUNK_SIZE + 1, calls  # one report per chunk, plus the end
    assert sent == sorted(set(sent)), "progress must only grow"
    assert {t for _, t in calls} == {SIZE}
    assert calls[-1] == (SIZE, SIZE)
    assert all(s % CHUNK_SIZE == 0 for s in sent[:-1]), "reports fall on chunk boundaries"
    stored = client.bucket(bucket).get_blob(f"reelscope/{digest}.mp4")
    assert stored is not None and stored.content_type == "video/mp4"
    assert hashlib.sha256(stored.download_as_bytes()).hexdigest() == digest


def test_same_bytes_are_not_uploaded_twice(
    client: storage.Client, bucket: str, big_file: tuple[Path, str]
) -> None:
    path, digest = big_file
    first = stage_file(client, bucket, path, digest, "video/mp4")
    generation = client.bucket(bucket).get_blob(f"reelscope/{digest}.mp4").generation
    calls: list[tuple[int, int]] = []

    again = stage_file(
        client, bucket, path, digest, "video/mp4", progress=lambda s, t: calls.append((s, t))
    )

    assert again.uri == first.uri and again.size == SIZE
    assert not again.uploaded
    assert calls == [], "no bytes were sent"
    assert client.bucket(bucket).get_blob(f"reelscope/{digest}.mp4").generation == generation


def test_a_stale_object_of_another_size_is_replaced(
    client: storage.Client, bucket: str, tmp_path: Path
) -> None:
    data = os.urandom(300_000)
    path = tmp_path / "clip.webm"
    path.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    client.bucket(bucket).blob(f"reelscope/{digest}.webm").upload_from_string(b"truncated")

    staged = stage_file(client, bucket, path, digest, "video/webm")

    assert staged.uploaded
    assert client.bucket(bucket).blob(f"reelscope/{digest}.webm").download_as_bytes() == data


def test_ranged_reads_follow_http_range_semantics(
    client: storage.Client, bucket: str, big_file: tuple[Path, str]
) -> None:
    path, digest = big_file
    staged = stage_file(client, bucket, path, digest, "video/mp4")
    with path.open("rb") as handle:
        head = handle.read(100)
        handle.seek(12_345_678)
        middle = handle.read(1000)
        handle.seek(SIZE - 10)
        tail = handle.read()

    assert object_size(client, staged.uri) == SIZE
    assert read_range(client, staged.uri, 0, 99) == head  # end is inclusive, as in Range
    assert read_range(client, staged.uri, 12_345_678, 12_346_677) == middle
    assert read_range(client, staged.uri, SIZE - 10, SIZE + 500) == tail  # clipped at the end
    pieces = list(iter_range(client, staged.uri, 12_345_678, 12_346_677, chunk_size=256))
    assert [len(p) for p in pieces] == [256, 256, 256, 232]
    assert b"".join(pieces) == middle
    whole = hashlib.sha256()
    for piece in iter_range(client, staged.uri, chunk_size=4 * 1024 * 1024):
        whole.update(piece)
    assert whole.hexdigest() == digest


def test_missing_bucket_says_how_to_create_it(
    client: storage.Client, big_file: tuple[Path, str]
) -> None:
    path, digest = big_file
    with pytest.raises(
        StagingError, match=r"gcloud storage buckets create gs://no-such-bucket-x1 "
    ):
        stage_file(client, "no-such-bucket-x1", path, digest, "video/mp4")


def test_cancel_stops_between_chunks_and_stores_nothing(
    client: storage.Client, bucket: str, big_file: tuple[Path, str]
) -> None:
    path, digest = big_file
    cancel = threading.Event()
    calls: list[int] = []

    def progress(sent: int, total: int) -> None:
        calls.append(sent)
        if sent >= CHUNK_SIZE:  # one chunk confirmed: the user presses Stop
            cancel.set()

    with pytest.raises(StagingCancelled, match="nothing was stored") as caught:
        stage_file(client, bucket, path, digest, "video/mp4", progress=progress, cancel=cancel)

    assert caught.value.bytes_sent == CHUNK_SIZE < SIZE
    assert calls == [0, CHUNK_SIZE]
    assert client.bucket(bucket).get_blob(f"reelscope/{digest}.mp4") is None


def test_missing_object_and_bad_uri_are_explained(client: storage.Client, bucket: str) -> None:
    with pytest.raises(StagingError, match=r"does not exist.*gcloud storage ls"):
        read_range(client, f"gs://{bucket}/reelscope/nothing.mp4", 0, 9)
    with pytest.raises(StagingError, match=r"does not exist"):
        object_size(client, f"gs://{bucket}/reelscope/nothing.mp4")
    with pytest.raises(StagingError, match=r"use gs://BUCKET/OBJECT"):
        object_size(client, "https://example.com/video.mp4")
    with pytest.raises(StagingError, match=r"0 <= start <= end"):
        read_range(client, f"gs://{bucket}/x.mp4", 10, 5)


def test_emulator_down_is_explained(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = tmp_path / "a.mp4"
    path.write_bytes(b"x" * 1000)
    client = make_storage_client(
        Settings(storage_emulator_host=f"127.0.0.1:{port}")
    )  # no scheme: http

    with pytest.raises(
        StagingError, match=rf"Cannot reach Cloud Storage at http://127.0.0.1:{port}.*emulator"
    ):
        stage_file(client, "bucket", path, "0" * 64, "video/mp4", retry_timeout_s=0.5)


def test_a_file_gone_from_disk_is_explained(
    client: storage.Client, bucket: str, tmp_path: Path
) -> None:
    with pytest.raises(StagingError, match="Add the file again"):
        stage_file(client, bucket, tmp_path / "gone.mp4", "0" * 64, "video/mp4")
