"""Two instances, one database and one bucket: what one keeps, the other reads.

Each "instance" is a media library (or an embedding store) on its own data folder; they share
one database (a shared SQLite file, or PostgreSQL: `database_url_for`) and one bucket on
gcp-storage-emulator, reached through the real google-cloud-storage client. An instance that is
recycled is one whose data folder is wiped.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from google.cloud import storage
from starlette.applications import Starlette
from starlette.testclient import TestClient

from reelscope import media_server
from reelscope.bucket_copies import BucketCopies
from reelscope.catalog import MediaFacts, load_catalog
from reelscope.database import sqlite_url
from reelscope.direct_upload import UploadSession, finish_upload
from reelscope.embeddings import search_index
from reelscope.embeddings.items import EmbeddingError
from reelscope.embeddings.store import IMPORTED_MODEL, EmbeddingStore, NewRow
from reelscope.library import MediaLibrary, library_dir
from reelscope.media import SourceError
from reelscope.settings import Settings
from reelscope.storage import StagingError
from reelscope.tasks import LOCAL_OWNER, TaskRegistry
from reelscope.vertex import make_storage_client

KEY = media_server.link_key("test secret")
OWNER = "ada@example.com"


@pytest.fixture(scope="module")
def media() -> MediaFacts:
    return load_catalog().media


@pytest.fixture
def settings(storage_emulator: str) -> Settings:
    return Settings(project="test-project", storage_emulator_host=storage_emulator)


@pytest.fixture
def client(settings: Settings) -> storage.Client:
    return make_storage_client(settings)


@pytest.fixture
def bucket(client: storage.Client) -> str:
    return client.create_bucket(f"kept-{uuid.uuid4().hex[:12]}").name


@pytest.fixture
def copies(client: storage.Client, bucket: str) -> BucketCopies:
    return BucketCopies(lambda: client, bucket)


@pytest.fixture
def shared_url(
    database_url_for: Callable[[str], str | None], tmp_path: Path
) -> Callable[[str], str]:
    """One database per store, shared by both instances (on SQLite, a file outside both)."""

    def url(name: str) -> str:
        return database_url_for(name) or sqlite_url(tmp_path / "shared" / f"{name}.sqlite")

    return url


@pytest.fixture
def instance(
    tmp_path: Path, shared_url: Callable[[str], str], copies: BucketCopies
) -> Callable[..., MediaLibrary]:
    """`instance("a")`: the library of instance a's data folder."""

    def open_library(name: str, max_bytes: int = 10**9) -> MediaLibrary:
        root = library_dir(tmp_path / name)
        return MediaLibrary(root, max_bytes, shared_url("library"), copies)

    return open_library


def bucket_names(client: storage.Client, bucket: str) -> set[str]:
    return {blob.name for blob in client.list_blobs(bucket)}


def test_an_upload_on_a_is_read_and_probed_on_b(instance, media, video_file, client, bucket):
    a, b = instance("a"), instance("b")
    added = a.add_upload("clip.mp4", video_file.read_bytes(), media, owner=OWNER)
    sha = hashlib.sha256(video_file.read_bytes()).hexdigest()
    assert f"reelscope/{sha}.mp4" in bucket_names(client, bucket)  # staging's name: one copy
    assert b.must_fetch(added.source.key)
    assert not b.path(sha).exists()

    heard: list[tuple[int, int]] = []
    source = b.source(added.source.key, lambda read, total: heard.append((read, total)))

    assert source is not None and source.path is not None
    assert source.path.read_bytes() == video_file.read_bytes()
    assert source.probe == added.source.probe  # probed once, on a; read from the database
    assert heard[-1] == (video_file.stat().st_size, video_file.stat().st_size)
    assert not b.must_fetch(added.source.key)


def test_a_run_made_on_a_gets_its_files_back_on_b(instance, media, video_file):
    a, b = instance("a"), instance("b")
    video = a.add_upload("clip.mp4", video_file.read_bytes(), media).source

    found, missing = b.sources_again([_Ref("clip.mp4", video.sha256)])

    assert missing == []
    assert [source.key for source, _ in found] == [video.key]
    assert found[0][0].path is not None and found[0][0].path.read_bytes() == video_file.read_bytes()


def test_the_same_upload_twice_is_written_to_the_bucket_once(instance, media, image_file, bucket):
    a, b = instance("a"), instance("b")
    a.add_upload("orange.png", image_file.read_bytes(), media)
    blob = a.copies._bucket().get_blob(f"reelscope/{_sha(image_file)}.png")
    b.add_upload("orange again.png", image_file.read_bytes(), media)
    again = a.copies._bucket().get_blob(f"reelscope/{_sha(image_file)}.png")
    assert again.generation == blob.generation  # not rewritten


def test_a_recycled_instance_loses_nothing(instance, media, video_file, image_file):
    a = instance("a")
    video = a.add_upload("clip.mp4", video_file.read_bytes(), media).source
    image = a.add_upload("orange.png", image_file.read_bytes(), media).source
    shutil.rmtree(a.root)  # the instance is recycled: a new, empty disk

    again = instance("a")
    assert {item.key for item in again.items()} == {video.key, image.key}
    for before, path in ((video, video_file), (image, image_file)):
        source = again.source(before.key)
        assert source is not None and source.path is not None
        assert source.path.read_bytes() == path.read_bytes()


def test_an_upload_kept_before_there_was_a_bucket_goes_there_when_used(
    tmp_path, shared_url, instance, media, video_file, copies
):
    alone = MediaLibrary(library_dir(tmp_path / "a"), database_url=shared_url("library"))
    video = alone.add_upload("clip.mp4", video_file.read_bytes(), media).source
    name = f"reelscope/{video.sha256}.mp4"
    assert copies.size(name) is None

    assert instance("a").source(video.key) is not None  # the same folder, now with a bucket

    assert copies.size(name) == video_file.stat().st_size


def test_the_media_route_on_b_serves_a_file_kept_on_a_in_ranges(
    instance, media, video_file, settings, bucket, tmp_path
):
    a = instance("a")
    added = a.add_upload("clip.mp4", video_file.read_bytes(), media)
    b_settings = Settings(
        project=settings.project,
        storage_emulator_host=settings.storage_emulator_host,
        data_dir=tmp_path / "b",
        bucket=bucket,
    )
    route = Starlette(routes=media_server.routes(KEY, lambda: b_settings, max_range_bytes=4096))
    token = media_server.sign(
        media_server.library_source(added.source.sha256 or ""), "video/mp4", KEY, user=LOCAL_OWNER
    )
    data = video_file.read_bytes()

    with TestClient(route) as browser:
        part = browser.get(media_server.url_path(token), headers={"Range": "bytes=100-299"})
        tail = browser.get(media_server.url_path(token), headers={"Range": "bytes=1000-"})

    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-299/{len(data)}"
    assert part.content == data[100:300]
    assert tail.status_code == 206 and tail.content == data[1000:5096]  # capped ranged read
    assert not (library_dir(tmp_path / "b") / (added.source.sha256 or "")).exists()


def test_eviction_drops_local_copies_only_and_never_the_only_one(
    instance, media, video_file, image_file, copies
):
    cap = video_file.stat().st_size + image_file.stat().st_size // 2
    a = instance("a", max_bytes=cap)
    video = a.add_upload("clip.mp4", video_file.read_bytes(), media).source
    image = a.add_upload("orange.png", image_file.read_bytes(), media)

    assert image.evicted == ()  # nothing left the library...
    assert a.must_fetch(video.key)  # ...only this folder's copy of the video
    assert copies.size(f"reelscope/{video.sha256}.mp4") == video_file.stat().st_size
    assert a.source(video.key) is not None  # fetched again (the image's copy made room)
    assert a.must_fetch(image.source.key)

    # A file whose bucket copy is gone is the only copy: never dropped, the upload refused.
    copies.delete(f"reelscope/{video.sha256}.mp4")
    with pytest.raises(SourceError, match="does not fit"):
        a.add_upload("orange.png", image_file.read_bytes(), media)
    assert a.path(video.sha256 or "").read_bytes() == video_file.read_bytes()


def test_delete_removes_the_bucket_copy_only_when_nothing_refers_to_it(
    instance, media, video_file, image_file, copies
):
    a = instance("a")
    video = a.add_upload("clip.mp4", video_file.read_bytes(), media).source
    image = a.add_upload("orange.png", image_file.read_bytes(), media).source
    a.add_references("runs", lambda: {video.key: 1})

    assert a.delete(video.key, owner=LOCAL_OWNER) and a.delete(image.key, owner=LOCAL_OWNER)

    assert copies.size(f"reelscope/{video.sha256}.mp4") == video_file.stat().st_size
    assert copies.size(f"reelscope/{image.sha256}.png") is None


def test_a_missing_bucket_copy_is_said_plainly(instance, media, video_file, copies):
    a, b = instance("a"), instance("b")
    video = a.add_upload("clip.mp4", video_file.read_bytes(), media).source
    copies.delete(f"reelscope/{video.sha256}.mp4")

    with pytest.raises(SourceError, match=r"clip\.mp4 could not be read .* missing from the"):
        b.source(video.key)
    found, missing = b.sources_again([_Ref("clip.mp4", video.sha256)])
    assert found == [] and "missing from the bucket" in missing[0]


def test_a_bucket_that_does_not_exist_refuses_the_upload_and_keeps_nothing(
    tmp_path, shared_url, client, media, video_file
):
    library = MediaLibrary(
        library_dir(tmp_path / "a"),
        database_url=shared_url("library"),
        copies=BucketCopies(lambda: client, "no-such-bucket-k1"),
    )
    with pytest.raises(SourceError, match=r"could not be kept in the bucket.*buckets create"):
        library.add_upload("clip.mp4", video_file.read_bytes(), media)
    assert library.items() == [] and library.used_bytes() == 0


def test_a_direct_upload_is_held_once_by_its_content_hash(
    instance, media, video_file, client, bucket
):
    a = instance("a")
    data = video_file.read_bytes()
    uploaded = f"uploads/owner/{uuid.uuid4().hex}/clip.mp4"
    client.bucket(bucket).blob(uploaded).upload_from_string(data, content_type="video/mp4")
    session = UploadSession("", bucket, uploaded, "clip.mp4", len(data), "video/mp4", OWNER)

    finished = finish_upload(client, a, session, media, owner=OWNER)

    kept = f"reelscope/{hashlib.sha256(data).hexdigest()}.mp4"
    assert finished.item.staged_uri == f"gs://{bucket}/{kept}"
    assert bucket_names(client, bucket) == {kept}


# -- collections --


@pytest.fixture
def stores(
    tmp_path: Path, shared_url: Callable[[str], str], copies: BucketCopies
) -> Callable[[str], EmbeddingStore]:
    def open_store(name: str) -> EmbeddingStore:
        return EmbeddingStore(tmp_path / name, shared_url("embeddings"), copies)

    return open_store


def rows(*labels: str) -> list[NewRow]:
    return [NewRow(kind="text", label=label, source=label, source_key=label) for label in labels]


def test_a_collection_built_on_a_is_read_on_b_in_its_latest_version(stores, client, bucket):
    a, b = stores("a"), stores("b")
    info = a.create("Films", IMPORTED_MODEL, 4)
    first = np.arange(8, dtype=np.float32).reshape(2, 4)
    a.add(info.id, rows("one", "two"), first)
    assert np.array_equal(b.open(info.id).vectors, first)

    a.add(info.id, rows("three"), np.ones((1, 4), dtype=np.float32))
    seen = b.open(info.id)  # b's copy is of the first version: replaced by the current one

    assert seen.rows.label == ["one", "two", "three"]
    assert np.array_equal(np.asarray(seen.vectors)[:2], first)
    latest = a.info(info.id).content_hash
    versions = {name.split("/")[3] for name in bucket_names(client, bucket)}
    assert versions == {latest}  # the first version went once nothing named it


def test_a_stored_map_and_a_recycled_instance(stores, tmp_path):
    a = stores("a")
    info = a.create("Films", IMPORTED_MODEL, 4)
    a.add(info.id, rows("one", "two"), np.eye(2, 4, dtype=np.float32))
    coords = np.array([[0.5, 1.0], [2.0, -1.0]], dtype=np.float32)
    a.save_projection(info.id, "umap-x", coords, "umap", None, "{}")
    shutil.rmtree(tmp_path / "a")

    again = stores("a")
    stored = again.load_projection(info.id, "umap-x")
    assert stored is not None and np.array_equal(stored[0], coords)
    assert again.open(info.id).rows.label == ["one", "two"]


def test_a_collection_kept_before_there_was_a_bucket_goes_there_when_opened(
    stores, tmp_path, shared_url, client, bucket
):
    local = EmbeddingStore(tmp_path / "a", shared_url("embeddings"))  # no bucket yet
    info = local.create("Films", IMPORTED_MODEL, 4)
    local.add(info.id, rows("one"), np.ones((1, 4), dtype=np.float32))
    assert bucket_names(client, bucket) == set()

    stores("a").open(info.id)  # the same folder, now with a bucket
    shutil.rmtree(tmp_path / "a")

    assert stores("b").open(info.id).rows.label == ["one"]


def test_deleting_a_collection_removes_its_files_from_the_bucket(stores, client, bucket):
    a = stores("a")
    info = a.create("Films", IMPORTED_MODEL, 4)
    a.add(info.id, rows("one"), np.ones((1, 4), dtype=np.float32))
    a.save_projection(info.id, "umap-x", np.zeros((1, 2)), "umap", None, "{}")
    assert bucket_names(client, bucket)
    a.delete(info.id, owner=LOCAL_OWNER)
    assert bucket_names(client, bucket) == set()


def test_a_collection_whose_files_are_gone_from_the_bucket_says_so(stores, client, bucket):
    a, b = stores("a"), stores("b")
    info = a.create("Films", IMPORTED_MODEL, 4)
    a.add(info.id, rows("one"), np.ones((1, 4), dtype=np.float32))
    for name in bucket_names(client, bucket):
        client.bucket(bucket).delete_blob(name)

    with pytest.raises(EmbeddingError, match=r"could not be read from the bucket.*missing"):
        b.open(info.id)


def test_copies_explain_a_refusal(client):
    with pytest.raises(StagingError, match="does not exist"):
        BucketCopies(lambda: client, "no-such-bucket-k2").put_file(Path(__file__), "x")


class _Ref:
    """A kept run's source (reelscope.runs.SourceRef's fields)."""

    def __init__(self, label: str, sha256: str | None) -> None:
        self.label, self.sha256, self.uri = label, sha256, None
        self.start_s = self.end_s = self.fps = None
        self.resolution = None


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_search_index_built_on_a_is_fetched_by_b_and_goes_with_its_version(
    stores, client, bucket, monkeypatch
):
    monkeypatch.setattr(search_index, "BRUTE_FORCE_BELOW", 50)
    a, b = stores("a"), stores("b")
    info = a.create("Films", IMPORTED_MODEL, 16)
    vectors = np.random.default_rng(0).normal(size=(60, 16)).astype(np.float32)
    a.add(info.id, [NewRow(kind="text", label=f"t{i}", source="s", source_key=f"k{i}")
                    for i in range(60)], vectors)  # fmt: skip
    built = search_index.ensure_index(a.open(info.id), store=a, tasks=TaskRegistry())
    assert built is not None and built.wait(60), built.progress().text
    assert built.progress().text == "Search index stored."
    version = a.info(info.id).content_hash
    indexes = {n for n in bucket_names(client, bucket) if "/search-" in n}
    assert len(indexes) == 1 and f"/{version}/search-" in indexes.pop()

    on_b = b.open(info.id)
    fetched = search_index.ensure_index(on_b, store=b, tasks=TaskRegistry())
    assert fetched is not None and fetched.wait(60), fetched.progress().text
    assert fetched.progress().text == "Search index fetched from the bucket."
    assert search_index.uses_index(on_b)
    query = vectors[7]
    assert search_index.nearest_rows(on_b, query, 3)[0][0] == 7

    a.add(info.id, rows("another"), np.ones((1, 16), dtype=np.float32))  # a new version
    assert not {n for n in bucket_names(client, bucket) if "/search-" in n}
