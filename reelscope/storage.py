"""Cloud Storage staging: large uploads go to gs://BUCKET/reelscope/<sha256>.<ext>, once.

The object is named by the content hash, so "already staged" is a single metadata lookup and
the same bytes are never sent twice. Uploads use google-cloud-storage's resumable upload through
`Blob.upload_from_file` (public API: its retry, checksum and session recovery stay intact) with
a reader that reports each chunk: the library reads chunk k+1 only after the server has
acknowledged chunk k, so the read offset is the number of bytes Cloud Storage has confirmed, and
the read is also the one place to stop between chunks. Memory stays at about one chunk.

Every failure becomes a `StagingError` that says what to do; the UI shows it as is.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import google.auth.exceptions
import requests
from google.api_core import exceptions as api_exceptions
from google.cloud import storage
from google.cloud.storage.retry import DEFAULT_RETRY

from reelscope.mime import extension_for
from reelscope.spool import is_content_hash

CHUNK_SIZE = 8 * 1024 * 1024  # resumable chunks must be multiples of 256 KiB
READ_CHUNK_SIZE = 1024 * 1024  # previews: small ranges, so a seek answers quickly
OBJECT_PREFIX = "reelscope/"
RETRY_TIMEOUT_S = 60.0  # how long 429/5xx/connection errors are retried before giving up
LOGIN_COMMAND = "gcloud auth application-default login"

Progress = Callable[[int, int], None]
_GS_URI = re.compile(r"^gs://([a-z0-9][a-z0-9._-]{1,220}[a-z0-9])/(.+)$")


class StagingError(RuntimeError):
    """Staging or reading Cloud Storage failed; the message says what to do."""


class StagingCancelled(StagingError):
    """The user stopped the upload between chunks; nothing was stored."""

    def __init__(self, message: str, bytes_sent: int) -> None:
        super().__init__(message)
        self.bytes_sent = bytes_sent


@dataclass(frozen=True)
class StagedObject:
    uri: str
    uploaded: bool  # False when the same bytes were already in the bucket
    size: int


def object_name(sha256: str, mime_type: str, path: Path | None = None) -> str:
    """reelscope/<sha256>.<ext>: the extension follows the MIME type, not the user's file name."""
    digest = sha256.lower()
    if not is_content_hash(digest):
        raise StagingError(f"{sha256!r} is not a SHA-256 hex digest; hash the file again.")
    extension = extension_for(mime_type) or (path.suffix.lower() if path else "") or ".bin"
    return f"{OBJECT_PREFIX}{digest}{extension}"


def parse_gs_uri(uri: str) -> tuple[str, str]:
    """(bucket, object name) from gs://BUCKET/NAME, or a StagingError saying the expected form."""
    match = _GS_URI.match(uri.strip())
    if not match:
        raise StagingError(f"{uri!r} is not a Cloud Storage object URI; use gs://BUCKET/OBJECT.")
    return match.group(1), match.group(2)


def stage_file(
    client: storage.Client,
    bucket: str,
    path: Path,
    sha256: str,
    mime_type: str,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    *,
    chunk_size: int = CHUNK_SIZE,
    retry_timeout_s: float = RETRY_TIMEOUT_S,
) -> StagedObject:
    """Put the file at gs://BUCKET/reelscope/<sha256>.<ext> unless the same bytes are there.

    progress(bytes_confirmed, total) is called before each chunk and once at the end; `cancel`
    is checked between chunks and stops with StagingCancelled.
    """
    name = object_name(sha256, mime_type, path)
    uri = f"gs://{bucket}/{name}"
    size = _local_size(path)
    retry = DEFAULT_RETRY.with_timeout(retry_timeout_s)
    with _explained(client, bucket, uri, writing=True):
        existing = client.bucket(bucket).get_blob(name, retry=retry)
        if existing is not None and existing.size == size:
            return StagedObject(uri, uploaded=False, size=size)
        blob = client.bucket(bucket).blob(name, chunk_size=chunk_size)
        try:
            with path.open("rb") as handle:
                blob.upload_from_file(
                    _ChunkReader(handle, size, progress, cancel, uri),
                    size=size,
                    content_type=mime_type,
                    # Create only (or replace exactly the stale object we saw): a concurrent
                    # upload of the same bytes ends in 412 instead of a second write, and the
                    # precondition makes the upload idempotent, so chunks may be retried.
                    if_generation_match=existing.generation if existing is not None else 0,
                    retry=retry,
                )
        except api_exceptions.PreconditionFailed:
            current = client.bucket(bucket).get_blob(name, retry=retry)
            if current is None or current.size != size:
                raise
            return StagedObject(uri, uploaded=False, size=size)
    if progress is not None:
        progress(size, size)
    return StagedObject(uri, uploaded=True, size=size)


def object_size(client: storage.Client, uri: str) -> int:
    """The object's size in bytes (one metadata request)."""
    bucket, name = parse_gs_uri(uri)
    with _explained(client, bucket, uri, writing=False):
        blob = client.bucket(bucket).get_blob(name, retry=DEFAULT_RETRY.with_timeout(30))
    if blob is None:
        raise StagingError(
            f"{uri} does not exist (or its bucket does not). Check it with: gcloud storage ls {uri}"
        )
    return int(blob.size or 0)


def read_range(client: storage.Client, uri: str, start: int, end: int) -> bytes:
    """Bytes start..end inclusive, as in an HTTP Range header; shorter at the object's end."""
    if start < 0 or end < start:
        raise StagingError(f"Invalid byte range {start}-{end}: need 0 <= start <= end.")
    bucket, name = parse_gs_uri(uri)
    blob = client.bucket(bucket).blob(name)
    with _explained(client, bucket, uri, writing=False):
        # raw_download: the stored bytes, so offsets stay right even for gzip-encoded objects;
        # a partial body has no whole-object checksum to compare with.
        return blob.download_as_bytes(
            start=start,
            end=end,
            raw_download=True,
            checksum=None,
            retry=DEFAULT_RETRY.with_timeout(30),
        )


def iter_range(
    client: storage.Client,
    uri: str,
    start: int = 0,
    end: int | None = None,
    chunk_size: int = READ_CHUNK_SIZE,
) -> Iterator[bytes]:
    """Bytes start..end inclusive (end None: to the object's end), one ranged GET per chunk."""
    last = object_size(client, uri) - 1 if end is None else end
    position = start
    while position <= last:
        data = read_range(client, uri, position, min(position + chunk_size, last + 1) - 1)
        if not data:  # the object is shorter than the caller thought
            return
        yield data
        position += len(data)


class _ChunkReader:
    """The file as the resumable upload reads it, one chunk per read, reporting and cancelling."""

    def __init__(
        self,
        handle: BinaryIO,
        total: int,
        progress: Progress | None,
        cancel: threading.Event | None,
        uri: str,
    ) -> None:
        self._handle = handle
        self._total = total
        self._progress = progress
        self._cancel = cancel
        self._uri = uri
        self._reported = -1

    def read(self, size: int = -1) -> bytes:
        confirmed = self._handle.tell()  # read k+1 only happens once chunk k was acknowledged
        if self._progress is not None and confirmed > self._reported:
            self._reported = confirmed  # a recovered session may re-read: never go backwards
            self._progress(confirmed, self._total)
        if self._cancel is not None and self._cancel.is_set():
            # Raised out of the library's chunk loop: the session is never finalized, so no
            # object appears (Cloud Storage drops unfinished sessions after a week).
            raise StagingCancelled(
                f"Upload to {self._uri} stopped after {confirmed / 1e6:.1f} of "
                f"{self._total / 1e6:.1f} MB; nothing was stored.",
                bytes_sent=confirmed,
            )
        return self._handle.read(size)

    def tell(self) -> int:
        return self._handle.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._handle.seek(offset, whence)


def explained(
    client: storage.Client, bucket: str, uri: str, *, writing: bool
) -> contextlib.AbstractContextManager[None]:
    """Turn Cloud Storage errors inside the block into a StagingError saying what to do."""
    return _explained(client, bucket, uri, writing=writing)


def _local_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise StagingError(f"Cannot read {path}: {exc.strerror}. Add the file again.") from exc


@contextmanager
def _explained(client: storage.Client, bucket: str, uri: str, *, writing: bool) -> Iterator[None]:
    """Turn library errors into StagingError with the command that fixes each."""
    role = "roles/storage.objectAdmin" if writing else "roles/storage.objectViewer"
    try:
        yield
    except StagingError:
        raise
    except api_exceptions.RetryError as exc:  # retries ran out: explain the last failure
        if not isinstance(exc.cause, Exception) or isinstance(exc.cause, api_exceptions.RetryError):
            raise StagingError("Cloud Storage did not answer in time; try again.") from exc
        with _explained(client, bucket, uri, writing=writing):
            raise exc.cause from exc
    except api_exceptions.NotFound as exc:
        if not writing:
            raise StagingError(
                f"{uri} does not exist (or its bucket does not). "
                f"Check it with: gcloud storage ls {uri}"
            ) from exc
        # An upload only 404s when the bucket is missing.
        raise StagingError(
            f"The staging bucket gs://{bucket} does not exist. Create it in the region you use "
            f"Vertex AI in: gcloud storage buckets create gs://{bucket} --location=us-central1 "
            "(or set REELSCOPE_BUCKET to a bucket you have)."
        ) from exc
    except api_exceptions.Forbidden as exc:
        raise StagingError(
            f"Your account may not {'write to' if writing else 'read'} gs://{bucket}. Grant it: "
            f"gcloud storage buckets add-iam-policy-binding gs://{bucket} "
            f"--member=user:YOUR_EMAIL --role={role}"
        ) from exc
    except (api_exceptions.Unauthorized, google.auth.exceptions.GoogleAuthError) as exc:
        raise StagingError(
            f"Cloud Storage did not accept your credentials. Sign in again: {LOGIN_COMMAND}"
        ) from exc
    except requests.exceptions.RequestException as exc:  # before OSError: it is one
        endpoint = client.api_endpoint or "https://storage.googleapis.com"
        hint = (
            "Is the storage emulator running (STORAGE_EMULATOR_HOST)?"
            if "googleapis.com" not in endpoint
            else "Check the network connection and try again."
        )
        raise StagingError(f"Cannot reach Cloud Storage at {endpoint}. {hint}") from exc
    except (api_exceptions.TooManyRequests, api_exceptions.ServerError) as exc:
        raise StagingError(
            f"Cloud Storage is busy or failing ({exc.code}); try again in a minute."
        ) from exc
    except api_exceptions.GoogleAPICallError as exc:
        raise StagingError(f"Cloud Storage refused the request for {uri}: {exc.message}") from exc
    except OSError as exc:
        raise StagingError(f"Reading the local file failed: {exc}. Add the file again.") from exc
