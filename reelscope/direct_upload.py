"""Large uploads straight from the browser to Cloud Storage, then into the media library.

Cloud Run refuses HTTP/1 requests over 32 MiB, so a large file cannot come through Streamlit's
own uploader there. Instead the server checks what the browser announces (a name, a size, a
type) and opens a resumable upload session on the bucket for that user (`start_upload`); the
browser gets only the session URL (no credentials) and sends the bytes itself, in chunks,
resuming from the offset Cloud Storage reports after a dropped chunk
(components/media/direct_upload.py). When the browser says it finished, `finish_upload` checks
the object is there with the announced size and takes it into the library.

Why copied into the library rather than kept as a gs:// link: the library keeps uploads by
content hash, probes their bytes once (PyAV judges the container, not the name), previews them
through the media route and evicts them under its cap; every page's length rules, clips and
estimates stand on that probe. A gs:// link item has no hash and no probe. So the object is
read once, in ranges pinned to the generation that was checked, into the library's
content-addressed folder (hashed as it is written, its CRC32C compared with the one Cloud
Storage computed) and the item's gs:// copy is set to the object, so Gemini reads it from the
bucket and the bytes never travel through a request to the app again. When the library keeps its
uploads in the same bucket (reelscope/bucket_copies.py), the object is copied inside Cloud
Storage to the library's content-addressed name, which becomes the item's gs:// copy, and the
upload's own object is removed: the bytes are held once.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import google_crc32c

from reelscope.catalog import MediaFacts
from reelscope.library import LibraryItem, MediaLibrary
from reelscope.media import SourceError, format_size
from reelscope.mime import mime_for_name
from reelscope.storage import CHUNK_SIZE, StagingError, explained

if TYPE_CHECKING:
    from google.cloud import storage

UPLOAD_PREFIX = "uploads/"
RESUMABLE_QUANTUM = 256 * 1024  # every chunk but the last must be a multiple of this
BROWSER_CHUNK_BYTES = CHUNK_SIZE  # 8 MiB: few round trips, little to send again after a drop
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
_NAME_MAX = 100


class UploadRefused(ValueError):
    """The announced or arrived file is not taken; the message says why and what to do."""


@dataclass(frozen=True)
class UploadSession:
    """A resumable upload opened for one user and one announced file. Kept by the server;
    only `url` goes to the browser."""

    url: str
    bucket: str
    object_name: str
    name: str  # the user's file name, as shown in the library
    size: int
    mime_type: str
    owner: str

    @property
    def uri(self) -> str:
        return f"gs://{self.bucket}/{self.object_name}"


@dataclass(frozen=True)
class FinishedUpload:
    """The library item an upload became, and what was evicted to make room for it."""

    item: LibraryItem
    evicted: tuple[str, ...] = ()


def check_upload(name: str, size: int, mime_type: str, media: MediaFacts, *, max_bytes: int) -> str:
    """The MIME type to open the session with, or UploadRefused saying what is wrong.

    The type is what the browser announces (an empty one is read from the name's extension);
    the bytes are judged again by the probe once they have arrived.
    """
    label = name.strip() or "The file"
    announced = mime_type.strip().lower() or (mime_for_name(name) or "")
    taken = media.video_mime_types + media.image_mime_types
    if announced not in taken:
        kind = f"a {announced} file" if announced else "of a type the browser could not tell"
        raise UploadRefused(
            f"{label} is {kind}: only videos and images Gemini takes can be uploaded "
            "(MP4, MOV, WebM, MPEG, WMV, FLV, 3GP; PNG, JPEG, WebP)."
        )
    if size <= 0:
        raise UploadRefused(f"{label} is empty: choose the file again.")
    if size > max_bytes:
        raise UploadRefused(
            f"{label} is {format_size(size)} ({size:,} bytes), more than the "
            f"{format_size(max_bytes)} ({max_bytes:,} bytes) one "
            "upload may be here (REELSCOPE_UPLOAD_MAX_GB). Use a shorter clip, or put it in "
            "the bucket yourself and add its gs:// link."
        )
    return announced


def object_name(owner: str, name: str, upload_id: str | None = None) -> str:
    """uploads/<owner hash>/<upload id>/<safe name>: one folder per user, never a collision,
    and nothing of the owner's address in the bucket's listing."""
    owner_hash = hashlib.sha256(owner.encode()).hexdigest()[:16]
    safe = _SAFE.sub("_", name.strip()).strip("._") or "upload"
    if len(safe) > _NAME_MAX:
        stem, dot, extension = safe.rpartition(".")
        keep = _NAME_MAX - len(extension) - 1
        safe = f"{stem[:keep]}.{extension}" if dot and keep > 0 else safe[:_NAME_MAX]
    return f"{UPLOAD_PREFIX}{owner_hash}/{upload_id or uuid.uuid4().hex}/{safe}"


def start_upload(
    client: storage.Client,
    bucket: str,
    *,
    owner: str,
    name: str,
    size: int,
    mime_type: str,
    media: MediaFacts,
    max_bytes: int,
    origin: str | None = None,
) -> UploadSession:
    """Check the announced file and open a resumable session for it on `bucket`.

    `origin` is the page's origin (scheme://host[:port]): Cloud Storage answers the session's
    requests with CORS headers for the origin the session was opened with.
    """
    content_type = check_upload(name, size, mime_type, media, max_bytes=max_bytes)
    if origin is not None and not _ORIGIN.match(origin):
        raise UploadRefused(f"{origin!r} is not a page origin; reload the page and try again.")
    target = object_name(owner, name)
    blob = client.bucket(bucket).blob(target)
    with _as_refusal(), explained(client, bucket, f"gs://{bucket}/{target}", writing=True):
        url = blob.create_resumable_upload_session(
            content_type=content_type,
            size=size,  # real Cloud Storage refuses to finish with any other length
            origin=origin,
            checksum=None,  # the browser sends the bytes: this client never computes one
            if_generation_match=0,  # a new object only, never a replacement
        )
    return UploadSession(url, bucket, target, name.strip() or "upload", size, content_type, owner)


def finish_upload(
    client: storage.Client,
    library: MediaLibrary,
    session: UploadSession,
    media: MediaFacts,
    *,
    owner: str,
) -> FinishedUpload:
    """Take the object the browser uploaded into the library, once it is there in full.

    Refused (UploadRefused) when it is missing, of another size than announced, or not a video
    or image the probe accepts; an object that arrived but is refused is deleted.
    """
    if owner != session.owner:
        raise UploadRefused("This upload was started by someone else.")
    uri = session.uri
    with _as_refusal(), explained(client, session.bucket, uri, writing=False):
        blob = client.bucket(session.bucket).get_blob(session.object_name)
    if blob is None:
        raise UploadRefused(
            f"{session.name} has not arrived in Cloud Storage: the upload did not finish. "
            "Upload it again."
        )
    if blob.size != session.size:
        _delete(client, session)
        raise UploadRefused(
            f"{session.name} arrived with {blob.size} bytes, not the {session.size} announced; "
            "it was removed. Upload it again."
        )
    reader = _CheckedReader(blob, session)
    try:
        with _as_refusal(), explained(client, session.bucket, uri, writing=False):
            added = library.add_upload(
                session.name, reader, media, owner=owner, size_hint=session.size, in_bucket=uri
            )
    except (SourceError, UploadRefused) as problem:
        _delete(client, session)
        raise UploadRefused(str(problem)) from problem
    sha256 = added.source.sha256 or ""
    item = library.get(f"sha256:{sha256}")
    assert item is not None  # just added
    kept = library.bucket_uri(item)
    if kept is not None and kept.startswith(f"gs://{session.bucket}/"):
        # The library's content-addressed copy now holds these bytes: one object, not two.
        _delete(client, session)
        uri = kept
    library.set_staged(sha256, uri)  # Gemini reads it from the bucket, not from a request
    item = library.get(f"sha256:{sha256}")
    assert item is not None
    return FinishedUpload(item, added.evicted)


class _CheckedReader:
    """The object's bytes in ranges of one generation, checked against its CRC32C at the end."""

    def __init__(self, blob: storage.Blob, session: UploadSession) -> None:
        # Pinned to the generation whose size was checked: a replacement cannot slip in (the
        # ranged reads fail with 412 instead).
        self._reader = blob.open("rb", chunk_size=CHUNK_SIZE, if_generation_match=blob.generation)
        self._expected = blob.crc32c
        self._crc = google_crc32c.Checksum()
        self._read = 0
        self._session = session

    def read(self, size: int = -1) -> bytes:
        data = self._reader.read(size)
        self._crc.update(data)
        self._read += len(data)
        if not data or self._read >= self._session.size:
            self._check()
        return data

    def _check(self) -> None:
        if self._read != self._session.size:
            raise UploadRefused(
                f"{self._session.name}: only {self._read} of {self._session.size} bytes could "
                "be read back. Upload it again."
            )
        if self._expected and base64.b64encode(self._crc.digest()).decode() != self._expected:
            raise UploadRefused(
                f"{self._session.name} did not read back as Cloud Storage stored it (CRC32C). "
                "Upload it again."
            )


def _delete(client: storage.Client, session: UploadSession) -> None:
    """Remove a refused object; if that fails too, the refusal still stands."""
    with contextlib.suppress(Exception):  # cleanup only: the user is told of the refusal
        client.bucket(session.bucket).delete_blob(session.object_name)


@contextlib.contextmanager
def _as_refusal() -> Iterator[None]:
    """A StagingError (what Cloud Storage said, and what to do) becomes an UploadRefused."""
    try:
        yield
    except StagingError as error:
        raise UploadRefused(str(error)) from error
