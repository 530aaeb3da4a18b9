"""Serving media to the browser: signed links and a Starlette route with HTTP Range support.

The player loads a video from `/app/static/reelscope/<token>`. The token is stateless: an
HMAC over (expiry, MIME type, user, source) with a key the launcher derives once per process, so
it survives Streamlit's module reloads and needs no registry shared between the script thread
and the server. A token is bound to the user it was signed for: the route answers it only to
that user (behind IAP, the one the gate verified for the request; locally the one local user),
so a link copied out of one user's page opens nothing for another. The team shares the media
library read-only: any user of the deployment may be given a link to any file it keeps (a
teammate's run opened from History plays its video), each link for that user alone.

The route serves the files the media library keeps (by content hash, only from inside the
library's folder, or, with REELSCOPE_BUCKET, from the library's copy in the bucket when this
instance does not hold the file) and `gs://` objects, all in ranges: a seek in a one-hour video
asks for a few hundred kilobytes, never the whole file, and nothing is read whole into memory.
A pasted https link is served too (`link:`), fetched by the server through
`reelscope/linkfetch.py` (every hop checked, the checked address pinned, size and time capped):
the browser never loads a third-party URL, so no answer can redirect it into the user's network.

Why stream `gs://` through the app rather than hand out Cloud Storage signed URLs: signing needs
a service-account key or the IAM signBlob permission, which a `gcloud auth
application-default login` user usually lacks; streaming works with any credentials that can
read the object, and with the storage emulator.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import hashlib
import hmac
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.api_core import exceptions as api_exceptions
from google.cloud import storage
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from reelscope.identity import acting_user
from reelscope.library import library_dir
from reelscope.linkfetch import Limits, LinkFetcher, LinkFetchError, LinkResponse
from reelscope.settings import Settings
from reelscope.sign_in import SignInCookie
from reelscope.spool import is_content_hash
from reelscope.storage import StagingError, iter_range, object_name, object_size
from reelscope.vertex import NotConnected, make_storage_client

# Under /app/static/ because st.video passes such URLs through unchanged (the browser adds
# server.baseUrlPath itself); the launcher registers the route with that base path in front.
MEDIA_PATH = "/app/static/reelscope/"
DEFAULT_TTL_S = 12 * 3600
TOKEN_BUCKET_S = 3600  # the same source signs to the same token for an hour: stable <video src>
# The most one ranged response carries. Browsers ask for "bytes=N-" (the rest of the file); a
# shorter 206 answers it, and they ask again as playback needs more. So a seek in a 1 GB video
# reads at most this much, instead of streaming until the browser hangs up.
MAX_RANGE_BYTES = 2 * 1024 * 1024
# v2: tokens name their user; a v1 token (no user) fails its MAC instead of being misread.
_KEY_CONTEXT = b"reelscope media links v2"
_MIME = re.compile(r"^(video|image|audio)/[A-Za-z0-9.+-]{1,60}$|^text/vtt$")
_MAC_BYTES = 16
MEDIA_SCHEME = "media:"
LINK_SCHEME = "link:"
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


class MediaLinkError(ValueError):
    """A media link that is malformed, tampered with or expired."""


NOT_YOURS = "This media link was issued to someone else: open the page yourself for your own."


class RangeNotSatisfiable(ValueError):
    """The requested byte range lies outside the object."""


@dataclass(frozen=True)
class SignedMedia:
    source: str  # media:<sha256> (a library file), gs://BUCKET/OBJECT or link:<https URL>
    mime_type: str
    expires: int  # Unix seconds
    user: str  # the only user the route answers it for


def link_key(secret: str) -> bytes:
    """The HMAC key for media links, derived from a per-process (or per-deployment) secret.

    Derived rather than used as is, so the secret itself (e.g. Streamlit's cookie secret) never
    signs anything but what it was made for.
    """
    if not secret:
        raise ValueError("A media link key needs a non-empty secret.")
    return hmac.new(secret.encode(), _KEY_CONTEXT, hashlib.sha256).digest()


def sign(
    source: str,
    mime_type: str,
    key: bytes,
    *,
    user: str,
    ttl_s: int = DEFAULT_TTL_S,
    now: float | None = None,
) -> str:
    """A URL-safe token naming `source` for `user` alone, valid for at least `ttl_s` seconds."""
    if not _MIME.match(mime_type):
        raise MediaLinkError(f"{mime_type!r} is not a media type Reelscope serves.")
    if not user or "\n" in user:
        raise MediaLinkError("A media link is signed for one user, named on one line.")
    current = time.time() if now is None else now
    expires = (math.floor(current / TOKEN_BUCKET_S) + 1) * TOKEN_BUCKET_S + ttl_s
    payload = f"{expires}\n{mime_type}\n{user}\n{source}".encode()
    mac = hmac.new(key, payload, hashlib.sha256).digest()[:_MAC_BYTES]
    return f"{_b64(payload)}.{_b64(mac)}"


def verify(token: str, key: bytes, *, now: float | None = None) -> SignedMedia:
    """What the token names; MediaLinkError when it is malformed, tampered with or expired."""
    try:
        payload_text, mac_text = token.split(".")
        payload, mac = _unb64(payload_text), _unb64(mac_text)
    except (ValueError, binascii.Error) as exc:
        raise MediaLinkError("This media link is malformed.") from exc
    expected = hmac.new(key, payload, hashlib.sha256).digest()[:_MAC_BYTES]
    if not hmac.compare_digest(mac, expected):
        raise MediaLinkError("This media link was not issued by this server (or was altered).")
    expires_text, mime_type, user, source = payload.decode().split("\n", 3)
    expires = int(expires_text)
    if expires <= (time.time() if now is None else now):
        raise MediaLinkError("This media link has expired; reload the page for a fresh one.")
    return SignedMedia(source=source, mime_type=mime_type, expires=expires, user=user)


def library_source(sha256: str) -> str:
    """The source naming an upload the media library keeps, by its content hash."""
    if not is_content_hash(sha256):
        raise MediaLinkError("Not a content hash; add the file again.")
    return MEDIA_SCHEME + sha256


def link_source(url: str) -> str:
    """The source naming an https link, which the route fetches through the guarded fetch."""
    if not url.lower().startswith("https://"):
        raise MediaLinkError("Only https:// links are previewed.")
    return LINK_SCHEME + url


def url_path(token: str, base_path: str = "") -> str:
    """The path the browser loads, with server.baseUrlPath in front when there is one."""
    base = base_path.strip("/")
    return f"/{base}{MEDIA_PATH}{token}" if base else f"{MEDIA_PATH}{token}"


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """A Range header as one inclusive (start, end) within `size`; None to send everything.

    Several ranges are coalesced into the one span covering them (RFC 9110 allows it; browsers
    ask for one range anyway). A header that is not a byte range is ignored, as the RFC says.
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or not spec.strip():
        return None
    spans: list[tuple[int, int] | None] = []
    for part in spec.split(","):
        first, dash, last = part.strip().partition("-")
        if not dash or not (first.strip() or last.strip()):
            return None
        try:
            spans.append(_one_range(first.strip(), last.strip(), size))
        except ValueError:
            return None
    satisfiable = [span for span in spans if span is not None]
    if not satisfiable:
        raise RangeNotSatisfiable(f"bytes */{size}")
    return min(s for s, _ in satisfiable), max(e for _, e in satisfiable)


def _one_range(first: str, last: str, size: int) -> tuple[int, int] | None:
    """One range spec; None when it lies wholly outside the object (unsatisfiable)."""
    if not first:  # suffix: the last N bytes
        count = int(last)
        if count < 0:
            raise ValueError(last)
        return (max(size - count, 0), size - 1) if count > 0 and size > 0 else None
    start = int(first)
    end = int(last) if last else None
    if start < 0 or (end is not None and end < start):
        raise ValueError(f"{first}-{last}")
    if start >= size:
        return None
    return start, size - 1 if end is None else min(end, size - 1)


def routes(
    key: bytes,
    settings: Callable[[], Settings],
    base_path: str = "",
    *,
    max_range_bytes: int = MAX_RANGE_BYTES,
    links: LinkFetcher | None = None,
    sign_in: SignInCookie | None = None,
) -> list[Route]:
    """The media route, for st.App(routes=...): GET and HEAD `/<base>/app/static/reelscope/…`.

    `settings` is called per request, so a changed data folder or emulator host takes effect.
    `links` fetches `link:` sources (its resolver and connector are the tests' to replace).
    `sign_in` reads the requester from st.login's cookie when REELSCOPE_AUTH=oidc.
    """
    links = links or LinkFetcher(limits=Limits(max_bytes=max_range_bytes))
    endpoint = MediaEndpoint(key, settings, max_range_bytes, links, sign_in)
    # A bound method: Starlette wraps functions and methods as request handlers.
    return [Route(url_path("{token}", base_path), endpoint.serve, methods=["GET", "HEAD"])]


class MediaEndpoint:
    """The ASGI endpoint behind the route: verify the token, then serve a file or an object."""

    def __init__(
        self,
        key: bytes,
        settings: Callable[[], Settings],
        max_range_bytes: int,
        links: LinkFetcher,
        sign_in: SignInCookie | None = None,
    ) -> None:
        self._key = key
        self._settings = settings
        self._cap = max_range_bytes
        self._links = links
        self._sign_in = sign_in

    async def serve(self, request: Request) -> Response:
        try:
            media = verify(request.path_params["token"], self._key)
        except MediaLinkError as problem:
            return PlainTextResponse(str(problem), status_code=403)
        current = self._settings()
        # The gate verified the requester and said who in its own headers (a client's are
        # removed), or st.login signed them into its cookie; nobody verified is nobody's link.
        # The answer names no one.
        requester = acting_user(current.auth, request.headers, request.cookies, self._sign_in)
        if requester != media.user:
            return PlainTextResponse(
                NOT_YOURS, status_code=403, headers={"cache-control": "no-store"}
            )
        headers = {
            # Private, short-lived links; and Chromium's HTTP cache, splitting a range between
            # cached and fetched parts, was measured fetching the same 2 MiB twice.
            "cache-control": "no-store",
            "x-content-type-options": "nosniff",
        }
        if media.source.startswith("gs://"):
            return await _serve_object(request, media, current, headers, self._cap)
        if media.source.startswith(MEDIA_SCHEME):
            name = media.source.removeprefix(MEDIA_SCHEME)
            if not is_content_hash(name):
                return PlainTextResponse("Not a content hash.", 403)
            gone = "This file is no longer in the media library; add it again."
            folder = library_dir(current.data_dir)
            if current.bucket and not (folder / name).is_file():  # kept by another instance
                copy = f"gs://{current.bucket}/{object_name(name, media.mime_type)}"
                in_bucket = dataclasses.replace(media, source=copy)
                return await _serve_object(request, in_bucket, current, headers, self._cap)
            return _serve_file(folder, name, media, headers, self._cap, gone)
        if media.source.startswith(LINK_SCHEME):
            url = media.source.removeprefix(LINK_SCHEME)
            return await _serve_link(request, url, headers, self._cap, self._links)
        return PlainTextResponse(
            "Only kept files, gs:// objects and checked links are served.", 403
        )


def _serve_file(
    folder: Path, name: str, media: SignedMedia, headers: dict[str, str], cap: int, gone: str
) -> Response:
    """A file inside `folder`; Starlette's FileResponse streams it in chunks, answers ranges."""
    root = folder.resolve()
    try:
        path = (root / name).resolve(strict=True)
    except (OSError, RuntimeError):
        return PlainTextResponse(gone, 404)
    if not path.is_relative_to(root) or not path.is_file():
        return PlainTextResponse("Only files the app keeps are served.", 403)
    return _CappedFileResponse(path, media_type=media.mime_type, headers=headers, cap=cap)


class _CappedFileResponse(FileResponse):
    """FileResponse (Range, If-Range, 416, multipart), with long ranges cut to `cap` bytes."""

    def __init__(self, path: Path, *, cap: int, **kwargs: Any) -> None:
        super().__init__(path, stat_result=path.stat(), **kwargs)
        self._cap = cap

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        asked = Headers(scope=scope).get("range")
        try:
            span = parse_range(asked, self.stat_result.st_size)
        except RangeNotSatisfiable:
            span = None  # FileResponse answers 416 itself
        if span is not None and span[1] - span[0] + 1 > self._cap:
            capped = f"bytes={span[0]}-{span[0] + self._cap - 1}".encode()
            headers = [(k, v) for k, v in scope["headers"] if k != b"range"] + [(b"range", capped)]
            scope = {**scope, "headers": headers}
        await super().__call__(scope, receive, send)


async def _serve_object(
    request: Request, media: SignedMedia, settings: Settings, headers: dict[str, str], cap: int
) -> Response:
    """A gs:// object, one ranged read per megabyte, so a seek costs only what it shows."""
    try:
        client = _storage_client(settings)
        size = await run_in_threadpool(object_size, client, media.source)
    except NotConnected as problem:
        return PlainTextResponse(f"Cloud Storage is not set up: {problem}", 503)
    except StagingError as problem:
        return PlainTextResponse(str(problem), _status_for(problem))
    try:
        span = parse_range(request.headers.get("range"), size)
    except RangeNotSatisfiable:
        return PlainTextResponse(
            "Requested range not satisfiable.", 416, headers={"content-range": f"bytes */{size}"}
        )
    start, end = span if span is not None else (0, size - 1)
    if span is not None:
        end = min(end, start + cap - 1)
    headers |= {"accept-ranges": "bytes", "content-length": str(max(end - start + 1, 0))}
    status = 200
    if span is not None:
        status = 206
        headers["content-range"] = f"bytes {start}-{end}/{size}"
    if request.method == "HEAD" or size == 0:
        return Response(status_code=status, headers=headers, media_type=media.mime_type)
    body = iter_range(client, media.source, start, end)
    return StreamingResponse(body, status, headers=headers, media_type=media.mime_type)


async def _serve_link(
    request: Request, url: str, headers: dict[str, str], cap: int, links: LinkFetcher
) -> Response:
    """A checked https link, fetched by the server in bounded ranges and passed on."""
    asked = _single_span(request.headers.get("range"))
    start = asked[0] if asked else 0
    end = start + cap - 1 if asked is None or asked[1] is None else min(asked[1], start + cap - 1)
    head = request.method == "HEAD"
    try:
        answer = await run_in_threadpool(
            links.open, url, byte_range=f"bytes={start}-{end}", head=head
        )
    except LinkFetchError as problem:
        return PlainTextResponse(str(problem), problem.status)
    try:
        status, length, extra = _link_answer(answer, asked, start, cap)
    except LinkFetchError as problem:
        answer.close()
        return PlainTextResponse(str(problem), problem.status)
    headers |= extra | {"content-length": str(length)}
    if head or length == 0:
        answer.close()
        return Response(status_code=status, headers=headers, media_type=answer.mime_type)
    return StreamingResponse(
        answer.chunks(length), status, headers=headers, media_type=answer.mime_type
    )


def _single_span(header: str | None) -> tuple[int, int | None] | None:
    """The (start, end or None) of a one-range `bytes=N-[M]` header; None for anything else,
    which is then ignored as RFC 9110 allows (a suffix range, several ranges, another unit)."""
    match = re.fullmatch(r"\s*bytes\s*=\s*(\d+)\s*-\s*(\d*)\s*", header or "")
    if not match or (match.group(2) and int(match.group(2)) < int(match.group(1))):
        return None
    return int(match.group(1)), int(match.group(2)) if match.group(2) else None


def _link_answer(
    answer: LinkResponse, asked: tuple[int, int | None] | None, start: int, cap: int
) -> tuple[int, int, dict[str, str]]:
    """(status, body length, headers) for the browser: a true answer to what it asked (a range,
    or the whole file when it asked none), at most `cap` bytes of it."""
    if answer.status == 416:
        return 416, 0, {"content-range": answer.content_range or "bytes */*"}
    end, total = _link_span(answer, start, cap)
    ranges = {"accept-ranges": "bytes"} if answer.accepts_ranges else {}
    if asked is None:
        if total == end + 1:  # the whole file (an image, say) fits in one answer
            return 200, total, ranges
        raise LinkFetchError(f"The file is larger than the {_mib(cap)} a preview loads.")
    size = "*" if total is None else str(total)
    return 206, end - start + 1, {**ranges, "content-range": f"bytes {start}-{end}/{size}"}


def _link_span(answer: LinkResponse, start: int, cap: int) -> tuple[int, int | None]:
    """The last byte passed on, and the file's size (None when the server keeps it to itself).

    The link's server may honour the range asked (206) or not (200, the file from its start).
    """
    if answer.status == 206:
        span = _CONTENT_RANGE.match(answer.content_range or "")
        if not span or int(span.group(1)) != start or int(span.group(2)) < start:
            raise LinkFetchError("The link's server answered another range than the one asked.")
        total = None if span.group(3) == "*" else int(span.group(3))
        return min(int(span.group(2)), start + cap - 1), total
    if start > 0:
        raise LinkFetchError(
            "The link's server does not serve byte ranges: only its first "
            f"{_mib(cap)} can be previewed."
        )
    if not answer.content_length:
        raise LinkFetchError("The link's server did not say the file's size: no preview.")
    return min(cap, answer.content_length) - 1, answer.content_length


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB"


@functools.lru_cache(maxsize=4)
def _storage_client(settings: Settings) -> storage.Client:
    """One client per settings value: its HTTP session and credentials are reused per request."""
    return make_storage_client(settings)


def _status_for(problem: StagingError) -> int:
    cause = problem.__cause__
    if isinstance(cause, api_exceptions.RetryError):
        cause = cause.cause
    if isinstance(cause, api_exceptions.NotFound) or "does not exist" in str(problem):
        return 404
    if isinstance(cause, api_exceptions.Forbidden | api_exceptions.Unauthorized):
        return 403
    return 502


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    if not text or not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
