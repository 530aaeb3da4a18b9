"""Uploads above the inline limit, on the Gemini Developer API: through its Files API.

There is no Cloud Storage on that backend (an API key alone), so a large upload goes to the
Files API instead of a staging bucket: a resumable upload (google-genai's `files.upload`, 8 MB
chunks) whose progress is the bytes the SDK has read, on a task of its own (reelscope/tasks.py)
so the page shows it and can stop it. The service keeps a file 48 hours; Reelscope remembers
(content sha256 -> file name, uri, expiry) in the media library's database, so the same video
asked about again is not sent again while it lives (`REUSE_MARGIN` before its expiry it is
uploaded anew). A file is usable once the service has processed it (state ACTIVE): the task
polls `files.get` with a short backoff until then, within `WAIT_CAP_S`.

A remembered file that is gone (Google answers `files.get` on a missing or expired file with
403 "… or it may not exist", or 404) is uploaded again, not an error.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reelscope.database import SharedDatabase
from reelscope.media import format_size
from reelscope.tasks import LOCAL_OWNER, Progress, Task, TaskState, start_thread

if TYPE_CHECKING:
    from google import genai
    from google.genai import types

REUSE_MARGIN = dt.timedelta(hours=1)  # a file this close to its 48 h end is uploaded anew
WAIT_CAP_S = 600.0  # processing a long video takes minutes; more than this is a problem
FIRST_POLL_S = 0.2
MAX_POLL_S = 5.0
_GONE = (403, 404)  # files.get on a missing or expired file: 403 "… may not exist" (see tests)

Heard = Callable[[int, int], None]
"""progress(bytes read so far, size)"""


class FilesApiError(RuntimeError):
    """An upload or its processing failed; the message says what to do."""


class UploadStopped(RuntimeError):
    """The user stopped the upload: nothing more is read."""


@dataclass(frozen=True)
class RememberedFile:
    sha256: str
    name: str  # "files/abc123"
    uri: str  # what a request's fileData names
    mime_type: str
    expires_at: dt.datetime

    def usable_at(self, now: dt.datetime) -> bool:
        return now + REUSE_MARGIN < self.expires_at


class FileBook:
    """The remembered Files API files, in the media library's database (migration 0002)."""

    def __init__(self, db: SharedDatabase) -> None:
        self.db = db

    def get(self, sha256: str) -> RememberedFile | None:
        """The file holding these bytes, while it has more than REUSE_MARGIN to live."""
        row = self.db.fetchone(
            "SELECT sha256, name, uri, mime_type, expires_at FROM gemini_files "
            "WHERE sha256 = :sha256",
            {"sha256": sha256},
        )
        if row is None:
            return None
        sha, name, uri, mime_type, expires_at = row
        found = RememberedFile(sha, name, uri, mime_type, dt.datetime.fromisoformat(expires_at))
        return found if found.usable_at(dt.datetime.now(dt.UTC)) else None

    def put(self, file: RememberedFile) -> None:
        """Remember `file` for its content, and forget files the service has deleted by now
        (so the table holds no more than the files that live)."""
        now = _stamp(dt.datetime.now(dt.UTC))
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM gemini_files WHERE expires_at < :now", {"now": now})
            tx.execute("DELETE FROM gemini_files WHERE sha256 = :sha256", {"sha256": file.sha256})
            tx.execute(
                "INSERT INTO gemini_files (sha256, name, uri, mime_type, expires_at) "
                "VALUES (:sha256, :name, :uri, :mime_type, :expires_at)",
                {
                    "sha256": file.sha256,
                    "name": file.name,
                    "uri": file.uri,
                    "mime_type": file.mime_type,
                    "expires_at": _stamp(file.expires_at),
                },
            )

    def forget(self, sha256: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM gemini_files WHERE sha256 = :sha256", {"sha256": sha256})


class CountingReader(io.RawIOBase):
    """A file as files.upload reads it (8 MB at a time), telling `heard` how far it got and
    stopping the upload between chunks when `stop` is set."""

    def __init__(self, file: io.BufferedIOBase, size: int, heard: Heard, stop: threading.Event):
        super().__init__()
        self._file, self._size, self._heard, self._stop = file, size, heard, stop

    @property
    def mode(self) -> str:
        return "rb"

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def read(self, size: int = -1) -> bytes:
        if self._stop.is_set():
            raise UploadStopped("The upload was stopped.")
        data = self._file.read(size)
        self._heard(self._file.tell(), self._size)
        return data

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def ensure_file(
    client: genai.Client,
    book: FileBook,
    path: Path,
    sha256: str,
    mime_type: str,
    *,
    heard: Heard | None = None,
    processing: Callable[[], None] | None = None,
    stop: threading.Event | None = None,
    wait_cap_s: float = WAIT_CAP_S,
) -> tuple[RememberedFile, bool]:
    """The ACTIVE Files API file holding `path`'s bytes, and whether it was uploaded now
    (False: a remembered file still living was reused). `processing()` is called once the
    bytes are sent and the service is working on them.

    Raises FilesApiError (what happened, what to do), UploadStopped, or the SDK's error.
    """
    from google.genai import errors

    stop = stop or threading.Event()
    remembered = book.get(sha256)
    if remembered is not None:
        try:
            found = client.files.get(name=remembered.name)
        except errors.APIError as problem:
            if problem.code not in _GONE:
                raise
            book.forget(sha256)  # expired or deleted: send the bytes again
        else:
            if _state(found) != "FAILED":
                if processing is not None:
                    processing()
                return _wait_active(client, book, found, sha256, stop, wait_cap_s), False
            book.forget(sha256)
    size = path.stat().st_size
    with path.open("rb") as raw:
        reader = CountingReader(raw, size, heard or (lambda _sent, _size: None), stop)
        uploaded = client.files.upload(file=reader, config={"mime_type": mime_type})
    book.put(_remembered(uploaded, sha256, mime_type))
    if processing is not None:
        processing()
    return _wait_active(client, book, uploaded, sha256, stop, wait_cap_s), True


def _wait_active(
    client: genai.Client,
    book: FileBook,
    file: types.File,
    sha256: str,
    stop: threading.Event,
    cap_s: float,
) -> RememberedFile:
    deadline = time.monotonic() + cap_s
    pause = FIRST_POLL_S
    while (state := _state(file)) == "PROCESSING":
        if time.monotonic() + pause > deadline:
            raise FilesApiError(
                f"The Gemini Files API was still processing the video after {cap_s:.0f} s. "
                "Try again in a few minutes: the upload is kept and not sent again."
            )
        if stop.wait(pause):
            raise UploadStopped("The wait was stopped.")
        pause = min(pause * 1.5, MAX_POLL_S)
        file = client.files.get(name=file.name or "")
    if state != "ACTIVE":
        book.forget(sha256)
        reason = file.error.message if file.error is not None and file.error.message else state
        raise FilesApiError(
            f"The Gemini Files API could not process the video ({reason}). Check that it "
            "plays (re-export it as MP4, H.264), then upload it again; it will be sent anew."
        )
    return _remembered(file, sha256, file.mime_type or "")


def _stamp(at: dt.datetime) -> str:
    """UTC, to the microsecond: stamps compare as text in the same order as in time."""
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _state(file: types.File) -> str:
    state = file.state
    return str(state.value if state is not None and hasattr(state, "value") else state)


def _remembered(file: types.File, sha256: str, mime_type: str) -> RememberedFile:
    expires = file.expiration_time or dt.datetime.now(dt.UTC) + dt.timedelta(hours=48)
    return RememberedFile(sha256, file.name or "", file.uri or "", mime_type, expires)


class FilesApiTask(Task):
    """Puts one library upload in the Gemini Files API; `key` is its content hash."""

    kind = "files_api"

    def __init__(
        self,
        client: genai.Client,
        book: FileBook,
        path: Path,
        *,
        sha256: str,
        name: str,
        mime_type: str,
        owner: str = LOCAL_OWNER,
    ) -> None:
        super().__init__(owner=owner, label=name, key=sha256)
        self._client, self._book, self._path = client, book, path
        self._mime_type = mime_type
        self._stop = threading.Event()
        self._sent = 0
        self._size = path.stat().st_size if path.exists() else 0
        self._processing_since: float | None = None
        self.file: RememberedFile | None = None
        self.uploaded = False  # False when a remembered file was reused
        self.error: str | None = None

    def start(self) -> FilesApiTask:
        start_thread(self, self._work)
        return self

    def progress(self) -> Progress:
        status = self.status
        if status is TaskState.DONE and self.file is not None:
            until = self.file.expires_at.strftime("%Y-%m-%d %H:%M UTC")
            done = "uploaded to" if self.uploaded else "already in"
            return Progress(status, f"{self.label}: {done} the Gemini Files API (until {until}).")
        if status is TaskState.FAILED:
            return Progress(status, f"{self.label}: {self.error}")
        if status is TaskState.CANCELLED:
            return Progress(status, f"{self.label}: upload stopped at {format_size(self._sent)}.")
        if self._processing_since is not None:
            waited = time.monotonic() - self._processing_since
            text = f"Gemini is processing {self.label}… {waited:.0f} s"
            return Progress(status, text, None)
        text = (
            f"Uploading {self.label} to the Gemini Files API… "
            f"{format_size(self._sent)} of {format_size(self._size)}"
        )
        return Progress(status, text, self._sent / self._size if self._size else None)

    def cancel(self) -> bool:
        self._stop.set()  # checked before each chunk is read and between polls
        return self.finish(TaskState.CANCELLED)

    def _work(self) -> None:
        try:
            self.file, self.uploaded = ensure_file(
                self._client,
                self._book,
                self._path,
                self.key or "",
                self._mime_type,
                heard=self._heard,
                processing=self._processing,
                stop=self._stop,
            )
        except UploadStopped:
            self.finish(TaskState.CANCELLED)
        except FilesApiError as problem:
            self.error = str(problem)
            self.finish(TaskState.FAILED)
        except Exception as problem:  # the SDK's and the network's errors, described
            self.error = f"{describe_upload_error(problem)} Upload it again to retry."
            self.finish(TaskState.FAILED)
        else:
            self.finish(TaskState.DONE)

    def _heard(self, sent: int, size: int) -> None:
        self._sent, self._size = sent, size
        self.changed()

    def _processing(self) -> None:
        self._processing_since = time.monotonic()
        self.changed()


def describe_upload_error(problem: BaseException) -> str:
    """What went wrong, through the one table of API and network errors
    (reelscope/generation/errors.py), as one line with its hint."""
    from reelscope.generation.errors import classify
    from reelscope.settings import BACKEND_GEMINI_API

    error = classify(
        problem,
        model_id="the Files API",
        project=None,
        location="global",
        backend=BACKEND_GEMINI_API,
    )
    return f"Uploading to the Gemini Files API failed: {error.message} {error.hint}".strip()
