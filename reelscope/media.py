"""Video and image sources: links vetted, uploads spooled and probed, all checked per model."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import parse_qs, urlparse

from reelscope.catalog import MediaFacts, Model
from reelscope.clock import clock
from reelscope.mime import EXTENSION_MIME_TYPES
from reelscope.netguard import check_link
from reelscope.probe import ImageProbe, ProbeError, VideoProbe, probe_media
from reelscope.spool import Spool, SpoolFull

MediaProbe = VideoProbe | ImageProbe


class SourceError(ValueError):
    """A source that cannot be used; the message says why and what to do instead."""


class SourceKind(StrEnum):
    UPLOAD = "upload"
    GCS = "gcs"
    HTTPS = "https"
    YOUTUBE = "youtube"


YOUTUBE_MIME_TYPE = "video/mp4"  # what Google's samples send for a YouTube fileData part
_YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be"}
_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")


FPS_MAX = 24.0  # VideoMetadata.fps: "The valid range is (0.0, 24.0]" (google-genai types)
FPS_DEFAULT = 1.0  # what Vertex samples when no fps is sent
PART_RESOLUTIONS = ("LOW", "MEDIUM", "HIGH")  # ULTRA_HIGH is for images only (MODEL-FACTS §4c)
_CLOCK = re.compile(r"^(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d*)?|\.\d+)\s*s?$")


@dataclass(frozen=True)
class Clip:
    """How one video is sent: the part [start_s, end_s) of it, sampled at fps frames a second.

    None means "not set": the whole video, Vertex's 1 frame a second, the request's resolution.
    Offsets are seconds from the start of the video.
    """

    start_s: float | None = None
    end_s: float | None = None
    fps: float | None = None
    resolution: str | None = None  # per-part media resolution, where the model takes it

    @property
    def is_default(self) -> bool:
        return self == Clip()

    @property
    def sends_metadata(self) -> bool:
        """Anything for `videoMetadata`: a start, an end, or an fps other than Vertex's."""
        return self.start_s is not None or self.end_s is not None or self.fps is not None


@dataclass(frozen=True)
class MediaSource:
    """One video or image the user added, ready to become a request part.

    An upload refers to its bytes by content hash (`sha256`) and the spool file holding them
    (`path`), so it survives reruns and page visits and is read into memory only when sent.
    A link refers to what Vertex AI fetches itself (`uri`).
    """

    kind: SourceKind
    mime_type: str
    label: str
    uri: str | None = None
    sha256: str | None = None
    path: Path | None = None
    size: int | None = None
    previewable: bool = False  # the browser may load it: a spooled upload, or a vetted link
    probe: MediaProbe | None = None  # what the bytes are: uploads are probed, links are not
    clip: Clip | None = None  # videos only: offsets, fps and resolution chosen for this video

    @property
    def duration_s(self) -> float | None:
        """The probed length of a video (uploads and staged uploads); None for links."""
        return self.probe.duration_s if isinstance(self.probe, VideoProbe) else None

    @property
    def has_audio(self) -> bool | None:
        """Whether the video has a sound track, when it was probed."""
        return self.probe.has_audio if isinstance(self.probe, VideoProbe) else None

    @property
    def sent_inline(self) -> bool:
        """Its bytes go in the request: an upload not (yet) staged to Cloud Storage."""
        return self.uri is None and self.path is not None

    @property
    def is_video(self) -> bool:
        return self.mime_type.startswith("video/")

    @property
    def is_image(self) -> bool:
        return self.mime_type.startswith("image/")

    @property
    def key(self) -> str:
        """Stable identity, so the same file added twice is recognised."""
        return f"sha256:{self.sha256}" if self.sha256 else str(self.uri)


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
    if scheme in ("http", "https"):
        verdict = check_link(link)  # private, loopback and metadata addresses are refused
        if not verdict.allowed:
            raise SourceError(verdict.reason)
    if scheme == "https":
        name = PurePosixPath(parsed.path).name
        return MediaSource(
            SourceKind.HTTPS,
            _mime_from_name(name, link),
            name or link,
            uri=link,
            previewable=verdict.previewable,  # only a link whose every address is public
        )
    if scheme == "http":
        raise SourceError(
            f"{link} uses http://. Vertex AI fetches only public https:// links: use https://."
        )
    raise SourceError(
        f"{link!r} is not a link Reelscope can use. Paste a gs://bucket/object URI, "
        "a public https:// link or a YouTube URL, or upload the file."
    )


def accept_upload(spool: Spool, name: str, data: BinaryIO, media: MediaFacts) -> MediaSource:
    """Keep an upload in the session spool and judge it by its bytes; refused bytes are dropped.

    Raises SourceError saying which file and why: empty, not a video or image, damaged, or a
    type Gemini does not take. A file above the inline limit is kept: it can be staged to Cloud
    Storage (`media_rules` says so when it cannot).
    """
    try:
        spooled = spool.put(data, name)
    except SpoolFull as full:
        raise SourceError(str(full)) from full
    try:
        probe = probe_media(spooled.path, name)
        return source_from_file(name, spooled.sha256, spooled.path, probe, media)
    except (ProbeError, SourceError) as problem:
        spool.discard(spooled.sha256)
        raise SourceError(str(problem)) from problem


def source_from_file(
    name: str, sha256: str, path: Path, probe: MediaProbe, media: MediaFacts
) -> MediaSource:
    """An uploaded file kept in the spool, judged by its probe (its bytes), not its name."""
    supported = media.video_mime_types + media.image_mime_types
    if probe.mime_type not in supported:
        raise SourceError(
            f"{name} is {probe.mime_type}, which Gemini does not take. Convert it to MP4 "
            f"(H.264) for video, or PNG, JPEG or WebP for images."
        )
    return MediaSource(
        SourceKind.UPLOAD,
        probe.mime_type,
        name,
        sha256=sha256,
        path=path,
        size=probe.size_bytes,
        previewable=True,
        probe=probe,
    )


def parse_offset(text: str, what: str = "offset") -> float | None:
    """Seconds from "75", "75.5", "75.5s", "1:15" or "1:01:15"; None for an empty box.

    Raises SourceError saying the forms it takes.
    """
    cleaned = text.strip().lower()
    if not cleaned:
        return None
    match = _CLOCK.match(cleaned)
    if match is None:
        raise SourceError(
            f"{what.capitalize()} {text.strip()!r} is not a time. Write seconds (75 or 75.5) "
            "or minutes:seconds (1:15), or hours:minutes:seconds (1:01:15)."
        )
    first, second, seconds = match.groups()
    hours, minutes = (first, second) if second is not None else (None, first)
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds)


def duration_literal(seconds: float) -> str:
    """A protobuf Duration as JSON writes it: 12.5 -> "12.5s", 90 -> "90s" (millisecond steps)."""
    millis = round(seconds * 1000)
    whole, rest = divmod(millis, 1000)
    return f"{whole}.{rest:03d}".rstrip("0").rstrip(".") + "s"


def check_clip(clip: Clip, duration_s: float | None, label: str) -> list[str]:
    """Why these clip settings cannot be sent; Vertex answers such mistakes with an opaque 400."""
    problems: list[str] = []
    start, end, fps = clip.start_s, clip.end_s, clip.fps
    for name, value in (("start", start), ("end", end)):
        if value is not None and (not math.isfinite(value) or value < 0):
            problems.append(f"{label}: the {name} must be 0:00 or later.")
    if duration_s is not None:
        for name, value in (("start", start), ("end", end)):
            if value is not None and value > duration_s + 1e-6:
                problems.append(
                    f"{label}: the {name} {clock(value, decimals=1)} is after the video's end "
                    f"({clock(duration_s, decimals=1)}). Set it to "
                    f"{clock(duration_s, decimals=1)} or earlier."
                )
    if start is not None and end is not None and start >= end:
        problems.append(
            f"{label}: the start ({clock(start, decimals=1)}) must come before the end "
            f"({clock(end, decimals=1)})."
        )
    if fps is not None and not (0 < fps <= FPS_MAX):
        problems.append(
            f"{label}: {fps:g} frames a second is out of range; use more than 0 and at most "
            f"{FPS_MAX:g} (Vertex samples {FPS_DEFAULT:g} a second by default)."
        )
    if clip.resolution is not None and clip.resolution not in PART_RESOLUTIONS:
        problems.append(f"{label}: media resolution must be one of {', '.join(PART_RESOLUTIONS)}.")
    return problems


def format_size(size: int) -> str:
    """Bytes as a person reads them: 512 B, 48 KB, 6.5 MB, 1.2 GB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            value = size / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{size} B"


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
    label = f"YouTube {video_id}"
    return MediaSource(
        SourceKind.YOUTUBE, YOUTUBE_MIME_TYPE, label, uri=canonical, previewable=True
    )


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
