"""Uploads above the inline limit on the Gemini Developer API: the Files API, with the real
google-genai SDK (api_key=) against the emulator's Files API, remembered in the media library's
database (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable, Iterator

import pytest

from reelscope.catalog import load_catalog
from reelscope.database import SharedDatabase, sqlite_url
from reelscope.gemini_files import (
    FileBook,
    FilesApiError,
    FilesApiTask,
    RememberedFile,
    ensure_file,
)
from reelscope.generation.request import build_request
from reelscope.generation.runner import Target
from reelscope.lab.grid import VideoRow
from reelscope.lab.sources import row_sources
from reelscope.library import SCHEMA, MediaLibrary
from reelscope.media import MediaSource, source_from_link
from reelscope.media_rules import check_for_model
from reelscope.parameters import defaults_for
from reelscope.runs import Runs, RunSpec, SourceRef
from reelscope.settings import BACKEND_GEMINI_API
from reelscope.tasks import TaskRegistry, TaskState
from reelscope.vertex import make_genai_client

CATALOG = load_catalog()
MODEL = CATALOG.get("gemini-3.8-flash")
SMALL_LIMIT = dataclasses.replace(CATALOG.media, inline_limit_bytes=10_000)  # the video is above


@pytest.fixture
def api_client(api_key_settings):
    return make_genai_client(api_key_settings)


@pytest.fixture
def book(database_url_for: Callable[[str], str | None], tmp_path) -> Iterator[FileBook]:
    url = database_url_for("library") or sqlite_url(tmp_path / "library.sqlite")
    db = SharedDatabase(url, SCHEMA)
    yield FileBook(db)
    db.close()


@pytest.fixture
def video(tmp_path, video_file) -> Iterator[MediaSource]:
    library = MediaLibrary(tmp_path / "media")
    added = library.add_upload("scenes.mp4", video_file.read_bytes(), CATALOG.media)
    yield added.source
    library.db.close()


def upload(client, book: FileBook, source: MediaSource, heard: list | None = None) -> FilesApiTask:
    assert source.path is not None and source.sha256 is not None
    task = FilesApiTask(
        client, book, source.path, sha256=source.sha256, name=source.label, mime_type="video/mp4"
    )
    if heard is not None:
        task.watch(lambda: heard.append(task.progress()))
    assert task.start().wait(timeout=30)
    return task


def ask(client, source: MediaSource):
    """The request Ask builds for this source on the Developer API, run to its end."""
    checked = check_for_model([source], MODEL, SMALL_LIMIT, backend=BACKEND_GEMINI_API)
    assert checked.ok, checked.problems
    params = defaults_for(MODEL)
    request = build_request(MODEL, checked, "Describe", params)
    spec = RunSpec(MODEL.id, "Describe", params, (SourceRef.of(source),))
    runs = Runs(TaskRegistry())
    started = runs.start(spec, client, request, target=Target(None, "global"))
    assert started.wait_done(timeout=20)
    runs.stop_all()
    return started


def test_above_the_limit_one_resumable_upload_waited_to_active_carries_the_uri(
    api_client, book, video, vertex, video_file
):
    refused = check_for_model([video], MODEL, SMALL_LIMIT, backend=BACKEND_GEMINI_API)
    assert any("Gemini Files API" in p for p in refused.problems)  # not "set a bucket"
    vertex.files.set_processing(0.5)
    heard: list = []
    task = upload(api_client, book, video, heard)
    assert task.status is TaskState.DONE, task.error
    assert task.uploaded
    sending = [p for p in heard if p.text.startswith("Uploading scenes.mp4 to the Gemini Files")]
    assert sending and sending[-1].fraction == 1.0  # read through a counting reader
    assert any(p.text.startswith("Gemini is processing scenes.mp4") for p in heard)
    (sent,) = vertex.files.uploads
    assert (sent["size"], sent["sha256"]) == (video_file.stat().st_size, video.sha256)
    rpcs = [r.rpc for r in vertex.requests]
    assert rpcs[0] == "files.create" and rpcs.count("files.upload") == 1
    assert rpcs.count("files.get") >= 1  # polled while PROCESSING
    assert vertex.files.file(sent["name"])["state"] == "ACTIVE"
    assert task.progress().fraction is None and "uploaded to" in task.progress().text

    finished = ask(api_client, dataclasses.replace(video, uri=task.file.uri))
    assert finished.state().completed
    generate = vertex.last_request()
    assert generate.backend == "gemini-api"
    assert generate.parts[0]["fileData"] == {"fileUri": task.file.uri, "mimeType": "video/mp4"}
    assert "inlineData" not in generate.parts[0]


def test_the_same_content_again_uploads_nothing(api_client, book, video, vertex):
    first = upload(api_client, book, video)
    vertex.clear()
    again = upload(api_client, book, video)
    assert again.status is TaskState.DONE and not again.uploaded
    assert again.file.uri == first.file.uri
    assert [r.rpc for r in vertex.requests] == ["files.get"]  # looked up, not sent
    assert len(vertex.files.uploads) == 1


def test_a_deleted_or_expiring_remembered_file_is_uploaded_again(api_client, book, video, vertex):
    first = upload(api_client, book, video)
    vertex.files.forget(first.file.name)  # gone: expired or deleted at Google
    second = upload(api_client, book, video)
    assert second.status is TaskState.DONE, second.error
    assert second.uploaded and second.file.name != first.file.name
    assert book.get(video.sha256).name == second.file.name

    nearly_over = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)
    book.put(dataclasses.replace(second.file, expires_at=nearly_over))
    third = upload(api_client, book, video)
    assert third.uploaded and len(vertex.files.uploads) == 3


def test_failed_processing_is_a_clear_error_and_not_remembered(api_client, book, video, vertex):
    vertex.files.fail_processing()
    vertex.files.set_processing(0.2)
    task = upload(api_client, book, video)
    assert task.status is TaskState.FAILED
    assert "could not process" in task.error and "upload it again" in task.error
    assert book.get(video.sha256) is None


def test_a_failed_chunk_is_a_clear_error_and_nothing_is_recorded(api_client, book, video, vertex):
    vertex.files.fail_chunk(503)
    task = upload(api_client, book, video)
    assert task.status is TaskState.FAILED
    assert task.error.startswith("Uploading to the Gemini Files API failed:")
    assert "503" in task.error and "Upload it again to retry." in task.error
    assert "Traceback" not in task.error
    assert "Vertex AI" not in task.error and "gcloud" not in task.error  # this backend's words
    assert vertex.files.uploads == [] and book.get(video.sha256) is None


def test_a_stopped_upload_ends_cancelled_while_gemini_processes(api_client, book, video, vertex):
    vertex.files.set_processing(30)
    processing = threading.Event()
    task = FilesApiTask(
        api_client, book, video.path, sha256=video.sha256, name=video.label, mime_type="video/mp4"
    )
    unwatch = task.watch(lambda: "processing" in task.progress().text and processing.set())
    task.start()
    assert processing.wait(timeout=10)
    unwatch()
    assert task.cancel()
    assert task.status is TaskState.CANCELLED
    assert "stopped" in task.progress().text
    assert len(vertex.files.uploads) == 1  # the bytes went; the wait was stopped


def test_a_public_youtube_url_goes_as_file_data(api_client, vertex):
    source = source_from_link("https://youtu.be/dQw4w9WgXcQ")
    finished = ask(api_client, source)
    assert finished.state().completed
    assert vertex.last_request().parts[0]["fileData"] == {
        "fileUri": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "mimeType": "video/mp4",
    }
    assert vertex.files.uploads == []


def test_remembered_files_survive_a_reopened_database(database_url_for, tmp_path):
    url = database_url_for("library") or sqlite_url(tmp_path / "library.sqlite")
    expires = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    kept = RememberedFile("ab" * 32, "files/x1", "https://g/v1beta/files/x1", "video/mp4", expires)
    first = SharedDatabase(url, SCHEMA)
    FileBook(first).put(kept)
    first.close()
    again = SharedDatabase(url, SCHEMA)
    assert FileBook(again).get(kept.sha256) == kept
    FileBook(again).forget(kept.sha256)
    assert FileBook(again).get(kept.sha256) is None
    again.close()


def test_the_rules_take_https_links_and_refuse_gs_with_the_way_out():
    https = source_from_link("https://example.com/clip.mp4")
    gcs = source_from_link("gs://my-bucket/clip.mp4")
    checked = check_for_model([https], MODEL, CATALOG.media, backend=BACKEND_GEMINI_API)
    assert checked.ok
    (problem,) = check_for_model([gcs], MODEL, CATALOG.media, backend=BACKEND_GEMINI_API).problems
    assert "cannot read Cloud Storage" in problem and "files of any size" in problem
    assert "REELSCOPE_BACKEND=vertex" in problem


def test_the_labs_rows_send_a_remembered_file_while_it_lives(
    api_client, book, tmp_path, video_file
):
    library = MediaLibrary(tmp_path / "lab-media")
    source = library.add_upload("scenes.mp4", video_file.read_bytes(), CATALOG.media).source
    rows = (VideoRow(source.key, "scenes.mp4"),)
    (before,) = row_sources(library, rows, bucket=None, files=book)
    assert before.source.uri is None  # nothing uploaded yet: the plan says where to upload it
    task = upload(api_client, book, source)
    (after,) = row_sources(library, rows, bucket=None, files=book)
    assert after.source.uri == task.file.uri and after.source.sha256 == source.sha256
    (on_vertex,) = row_sources(library, rows, bucket=None)
    assert on_vertex.source.uri is None
    library.db.close()


def test_the_book_forgets_files_the_service_has_deleted(book):
    now = dt.datetime.now(dt.UTC)
    old = RememberedFile("01" * 32, "files/old", "u-old", "video/mp4", now - dt.timedelta(hours=1))
    new = RememberedFile("02" * 32, "files/new", "u-new", "video/mp4", now + dt.timedelta(hours=47))
    book.put(old)
    book.put(new)
    rows = book.db.fetchall("SELECT name FROM gemini_files")
    assert [name for (name,) in rows] == ["files/new"]
    assert book.get(new.sha256) == new


def test_processing_past_the_cap_says_to_try_later_and_the_upload_is_kept(
    api_client, book, video, vertex
):
    vertex.files.set_processing(30)
    with pytest.raises(FilesApiError, match="still processing the video after 1 s") as late:
        ensure_file(api_client, book, video.path, video.sha256, "video/mp4", wait_cap_s=1)
    assert "not sent again" in str(late.value)
    vertex.files.set_processing(0)
    file, uploaded = ensure_file(api_client, book, video.path, video.sha256, "video/mp4")
    assert not uploaded and len(vertex.files.uploads) == 1
    assert vertex.files.file(file.name)["state"] == "ACTIVE"
