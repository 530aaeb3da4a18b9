"""Video and image sources: parsing links, sniffing uploads, validating against a model."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath
from urllib.parse import parse_qs, urlparse

from reelscope.catalog import MediaFacts, Model


class SourceError(ValueError):
    """A source that cannot be used; the message says why and what to do instead."""


class SourceKind(StrEnum):
    UPLOAD = "upload"
    GCS = "gcs"
    HTTPS = "https"
    YOUTUBE = "youtube"


# By file extension: the MIME types Vertex AI names for each (seed 003's list).
EXTENSION_MIME_TYPES: dict[str, str] = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".mpeg": "video/mpeg",
    ".mpg": "video/mpg",
    ".mpegps": "video/mpegps",
    ".webm": "video/webm",
    ".wmv": "video/wmv",
    ".flv": "video/x-flv",
    ".3gp": "video/3gpp",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
}
YOUTUBE_MIME_TYPE = "video/mp4"  # what Google's samples send for a YouTube fileData part
_YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be"}
_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")


@dataclass(frozen=True)
class MediaSource:
    """One video or image the user added, ready to become a request part."""

    kind: SourceKind
    mime_type: str
    label: str
    uri: str | None = None
    data: bytes | None = None

    @property
    def is_video(self) -> bool:
        return self.mime_type.startswith("video/")

    @property
    def is_image(self) -> bool:
        return self.mime_type.startswith("image/")

    @property
    def size(self) -> int | None:
        return len(self.data) if self.data is not None else None

    @property
    def key(self) -> str:
        """Stable identity, so the same file added twice is recognised."""
        if self.data is not None:
            return "sha256:" + hashlib.sha256(self.data).hexdigest()
        return str(self.uri)


def source_from_link(text: str) -> MediaSource:
    """Parse a `gs://`, `https://` or YouTube link typed by the user."""
    link = text.strip()
    if not link:
        raise SourceError("Paste a gs://bucket/object URI, an https:// link or a YouTube URL.")
    parsed = urlparse(link)
    scheme = parsed.scheme.lower()
    if scheme == "gs":
        return _gcs_source(link, parsed.netloc, parsed.path)
    if scheme in ("http", "https") and parsed.hostname in _YOUTUBE_HOSTS:
        return _youtube_source(link, parsed.hostname, parsed.path, parsed.query)
    if scheme == "https":
        name = PurePosixPath(parsed.path).name
        return MediaSource(SourceKind.HTTPS, _mime_from_name(name, link), name or link, uri=link)
    if scheme == "http":
        raise SourceError(
            f"{link} uses http://. Vertex AI fetches only public https:// links: use https://."
        )
    raise SourceError(
        f"{link!r} is not a link Reelscope can use. Paste a gs://bucket/object URI, "
        "a public https:// link or a YouTube URL, or upload the file."
    )


def source_from_upload(name: str, data: bytes, media: MediaFacts) -> MediaSource:
    """An uploaded file, its type sniffed from its bytes (the name can lie), size checked."""
    if not data:
        raise SourceError(f"{name} is empty. Choose the file again.")
    mime_type = sniff_mime_type(data) or EXTENSION_MIME_TYPES.get(
        PurePosixPath(name).suffix.lower()
    )
    supported = media.video_mime_types + media.image_mime_types
    if mime_type not in supported:
        raise SourceError(
            f"{name} is not a video or image type Gemini accepts. "
            f"Use one of: {', '.join(sorted(EXTENSION_MIME_TYPES))}."
        )
    if len(data) > media.inline_limit_bytes:
        raise SourceError(
            f"{name} is {_megabytes(len(data))}; a request carries at most "
            f"{_megabytes(media.inline_limit_bytes)} inline. Upload it to Cloud Storage and "
            "paste its gs:// URI instead (staging large uploads from Reelscope is coming)."
        )
    return MediaSource(SourceKind.UPLOAD, mime_type, name, data=data)


def sniff_mime_type(data: bytes) -> str | None:
    """The container type from the first bytes, or None when it is not one we know."""
    head = data[:64]
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return "video/quicktime"
        if brand.startswith(b"3g"):
            return "video/3gpp"
        return "video/mp4"
    signatures: list[tuple[bytes, str]] = [
        (b"\x1a\x45\xdf\xa3", "video/webm"),
        (b"FLV", "video/x-flv"),
        (b"\x00\x00\x01\xba", "video/mpegps"),
        (b"\x00\x00\x01\xb3", "video/mpeg"),
        (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", "video/wmv"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
    ]
    for signature, mime_type in signatures:
        if head.startswith(signature):
            return mime_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_sources(sources: list[MediaSource], model: Model, media: MediaFacts) -> list[str]:
    """Why these sources cannot go to this model in one request; empty when they can."""
    problems: list[str] = []
    videos = [s for s in sources if s.is_video]
    limit = model.videos_per_prompt
    if limit is not None and len(videos) > limit:
        problems.append(
            f"{model.name} takes at most {limit} video{'s' if limit > 1 else ''} per prompt; "
            f"you added {len(videos)}. Remove {len(videos) - limit}."
        )
    youtube = [s for s in sources if s.kind is SourceKind.YOUTUBE]
    if len(youtube) > media.youtube_per_request:
        problems.append(
            f"Vertex AI takes {media.youtube_per_request} YouTube URL per request; "
            f"you added {len(youtube)}."
        )
    supported = media.video_mime_types + media.image_mime_types
    problems.extend(
        f"{s.label}: {s.mime_type} is not a type Gemini accepts."
        for s in sources
        if s.mime_type not in supported
    )
    return problems


def _gcs_source(link: str, bucket: str, path: str) -> MediaSource:
    object_name = path.lstrip("/")
    if not _BUCKET.match(bucket) or not object_name:
        raise SourceError(
            f"{link} is not a Cloud Storage object URI. It should look like "
            "gs://my-bucket/videos/clip.mp4."
        )
    name = PurePosixPath(object_name).name
    return MediaSource(SourceKind.GCS, _mime_from_name(name, link), name, uri=link)


def _youtube_source(link: str, host: str, path: str, query: str) -> MediaSource:
    video_id = _youtube_id(host, path, query)
    if video_id is None:
        raise SourceError(
            f"{link} is not a YouTube video link. Use one like "
            "https://www.youtube.com/watch?v=VIDEO_ID or https://youtu.be/VIDEO_ID."
        )
    canonical = f"https://www.youtube.com/watch?v={video_id}"
    return MediaSource(SourceKind.YOUTUBE, YOUTUBE_MIME_TYPE, f"YouTube {video_id}", uri=canonical)


def _youtube_id(host: str, path: str, query: str) -> str | None:
    parts = [p for p in path.split("/") if p]
    if host == "youtu.be":
        candidate = parts[0] if parts else None
    elif parts[:1] == ["watch"]:
        candidate = parse_qs(query).get("v", [None])[0]
    elif len(parts) >= 2 and parts[0] in ("shorts", "embed", "live", "v"):
        candidate = parts[1]
    else:
        candidate = None
    return candidate if candidate and _YOUTUBE_ID.match(candidate) else None


def _mime_from_name(name: str, link: str) -> str:
    mime_type = EXTENSION_MIME_TYPES.get(PurePosixPath(name).suffix.lower())
    if mime_type is None:
        raise SourceError(
            f"Can't tell what kind of file {link} is from its name. Link to a file ending in "
            f"{', '.join(sorted(EXTENSION_MIME_TYPES))}."
        )
    return mime_type


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"
