"""What a media file really is: container, duration, size, codecs, read from its bytes.

Videos are probed with PyAV (FFmpeg's demuxers, bundled in the `av` wheel), images with Pillow.
Probing reads container headers and, to prove the file is whole, one packet at each end: no
frame is ever decoded, so an hour-long video probes in milliseconds (`bench/probe_speed.py`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path, PurePosixPath

import av
from av.container import InputContainer
from av.packet import Packet
from av.video.stream import VideoStream
from PIL import Image, UnidentifiedImageError

from reelscope.mime import EXTENSION_MIME_TYPES

# Vertex's three names for MPEG program streams: one container, so no mismatch between them.
_MPEG_FAMILY = frozenset({"video/mpeg", "video/mpg", "video/mpegps"})

# FFmpeg demuxer name -> MIME type. The ISO family and Matroska need a closer look (below).
_FORMAT_MIME_TYPES: dict[str, str] = {
    "flv": "video/x-flv",
    "mpeg": "video/mpeg",
    "mpegvideo": "video/mpeg",
    "asf": "video/wmv",
    "avi": "video/x-msvideo",
    "mpegts": "video/mp2t",
    "ogg": "video/ogg",
}
_ISO_FAMILY = "mov,mp4,m4a,3gp,3g2,mj2"
_MATROSKA_FAMILY = "matroska,webm"
# The codecs a WebM file may hold; Matroska with anything else is an .mkv file.
_WEBM_VIDEO = frozenset({"vp8", "vp9", "av1"})
_WEBM_AUDIO = frozenset({"vorbis", "opus"})

# Image formats Pillow may identify. A closed list: some Pillow plugins (TGA…) have no magic
# number and would claim random bytes. Only PNG, JPEG and WebP are accepted by Gemini; the
# others are named so that the refusal can say what the file is.
_IMAGE_MIME_TYPES: dict[str, str] = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
}
# The last packets must reach the declared end within this (av.time_base units: 0.2 s).
_END_TOLERANCE = 200_000
_TAIL_PACKETS_MAX = 20_000
_AV_ERRORS = (av.FFmpegError, OSError, EOFError, ValueError)


class ProbeError(ValueError):
    """The file is not a usable video or image; the message says why and what to do."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _StillImage(ProbeError):
    """FFmpeg read an image where a video was expected."""


@dataclass(frozen=True)
class VideoProbe:
    format_name: str  # FFmpeg's demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    mime_type: str  # from the container's bytes, never from the file name
    duration_s: float
    width: int
    height: int
    fps: float | None  # the stream's average frame rate; None when the header has none
    video_codec: str
    audio_codec: str | None
    has_audio: bool
    size_bytes: int
    notes: tuple[str, ...] = ()  # e.g. the name's extension says another container

    @property
    def is_video(self) -> bool:
        return True


@dataclass(frozen=True)
class ImageProbe:
    format_name: str  # Pillow's format name, e.g. "PNG"
    mime_type: str
    width: int
    height: int
    size_bytes: int
    notes: tuple[str, ...] = ()

    @property
    def is_video(self) -> bool:
        return False


def probe_media(path: Path, claimed_name: str | None = None) -> VideoProbe | ImageProbe:
    """Probe a video or an image by its bytes; a name whose extension disagrees gets a note."""
    name = claimed_name or path.name
    _require_bytes(path, name)
    probe: VideoProbe | ImageProbe
    try:
        probe = _probe_image(path, name) if _looks_like_image(path) else probe_video(path, name)
    except _StillImage:  # an image format Pillow could not even open: a broken one
        raise ProbeError(_damaged_image(name)) from None
    note = _mismatch_note(name, probe.mime_type)
    return dataclasses.replace(probe, notes=(note,)) if note else probe


def probe_video(path: Path, claimed_name: str | None = None) -> VideoProbe:
    """Container, duration, size and codecs of a video. Raises ProbeError with the reason."""
    name = claimed_name or path.name
    size = _require_bytes(path, name)
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except _AV_ERRORS as error:
        cut_short = isinstance(error, EOFError) or _has_container_magic(path)
        raise ProbeError(_damaged(name) if cut_short else _not_media(name)) from None
    try:
        with container:
            return _read_video(container, name, size)
    except ProbeError:
        raise
    except _AV_ERRORS:
        raise ProbeError(_damaged(name)) from None


def probe_image(path: Path, claimed_name: str | None = None) -> ImageProbe:
    """Format, MIME type and size of an image (Pillow checks it whole). Raises ProbeError."""
    name = claimed_name or path.name
    _require_bytes(path, name)
    if not _looks_like_image(path):
        raise ProbeError(
            f"{name} is not an image Reelscope can read (PNG, JPEG or WebP). "
            "Export it as one of those and add it again."
        )
    return _probe_image(path, name)


def _read_video(container: InputContainer, name: str, size: int) -> VideoProbe:
    format_name = container.format.name
    if format_name.endswith("_pipe") or format_name == "image2":
        raise _StillImage(f"{name} is a still image, not a video. Add it as an image instead.")
    if not container.streams:
        raise ProbeError(_damaged(name))
    if not container.streams.video:
        if not container.streams.audio:  # a half-read header leaves only "data" streams
            raise ProbeError(_damaged(name))
        raise ProbeError(
            f"{name} has no video stream (it is audio only). "
            "Add a video file, or the video this sound came from."
        )
    video = container.streams.video[0]
    audio = container.streams.audio[0] if container.streams.audio else None
    width, height = video.codec_context.width, video.codec_context.height
    if not width or not height:
        raise ProbeError(_damaged(name))
    duration = _duration_s(container, video)
    if duration is None:
        duration = _duration_by_scan(container, video)  # reads every packet: see its doc
    else:
        _require_whole(container, video, name)
    if not duration or duration <= 0:
        raise ProbeError(_damaged(name))
    audio_codec = audio.codec_context.name if audio is not None else None
    return VideoProbe(
        format_name=format_name,
        mime_type=_video_mime_type(container, video.codec_context.name, audio_codec),
        duration_s=duration,
        width=width,
        height=height,
        fps=_fps(video),
        video_codec=video.codec_context.name,
        audio_codec=audio_codec,
        has_audio=audio is not None,
        size_bytes=size,
    )


def _duration_s(container: InputContainer, video: VideoStream) -> float | None:
    if container.duration is not None:
        return container.duration / av.time_base
    if video.duration is not None and video.time_base is not None:
        return float(video.duration * video.time_base)
    return None


def _duration_by_scan(container: InputContainer, video: VideoStream) -> float | None:
    """The end of the last packet, for files whose header has no duration.

    WebM recorded in a browser (MediaRecorder) is written as a live stream with no duration
    and no index, so the only way to learn it is to walk the packets. They are demuxed, not
    decoded, and this path is never taken for files that carry their duration.
    """
    end = None
    for packet in container.demux(video):
        if packet.pts is not None and packet.time_base is not None:
            stop = (packet.pts + (packet.duration or 0)) * packet.time_base
            end = stop if end is None else max(end, stop)
    start = video.start_time * video.time_base if video.start_time and video.time_base else 0
    return float(end - start) if end is not None else None


def _fps(video: VideoStream) -> float | None:
    rate: Fraction | None = video.average_rate or video.guessed_rate
    return round(float(rate), 3) if rate else None


def _require_whole(container: InputContainer, video: VideoStream, name: str) -> None:
    """The first packet and the last second of packets can be read (demuxed, never decoded).

    A header can parse while the data it indexes is missing: an MP4 cut inside `moov`, or an
    upload that stopped half way. Seeking goes through the container's index, so this reads
    the packets of about one second, not the file.
    """
    if _first_packet(container, video) is None:
        raise ProbeError(_damaged(name))
    start = container.start_time or 0
    declared_end = start + (container.duration or 0)  # both in av.time_base units
    container.seek(max(declared_end - av.time_base, start), backward=True, any_frame=True)
    if _last_packet_end(container) < declared_end - _END_TOLERANCE:
        raise ProbeError(
            f"{name} ends early: its last part is missing (an interrupted copy or "
            "upload?). Add the complete file again."
        )


def _last_packet_end(container: InputContainer) -> float:
    """The latest packet end, in av.time_base units, from here to the end of the file."""
    latest = float("-inf")
    for count, packet in enumerate(container.demux()):
        if count > _TAIL_PACKETS_MAX:
            break  # an index that seeks nowhere near the end: don't walk the whole file
        if packet.size and packet.pts is not None and packet.time_base is not None:
            end = (packet.pts + (packet.duration or 0)) * packet.time_base * av.time_base
            latest = max(latest, float(end))
    return latest


def _first_packet(container: InputContainer, video: VideoStream) -> Packet | None:
    for packet in container.demux(video):
        if packet.size > 0:
            return packet
    return None  # only the demuxer's empty flush packet: there was no data


def _video_mime_type(container: InputContainer, video_codec: str, audio_codec: str | None) -> str:
    format_name = container.format.name
    if format_name == _ISO_FAMILY:
        # One demuxer reads MP4, MOV and 3GP; the `ftyp` major brand tells them apart.
        brand = container.metadata.get("major_brand", "").strip().lower()
        if brand.startswith(("3gp", "3g2")):
            return "video/3gpp"
        if brand in ("qt", ""):  # old QuickTime files have no ftyp box at all
            return "video/quicktime"
        return "video/mp4"
    if format_name == _MATROSKA_FAMILY:
        webm = video_codec in _WEBM_VIDEO and audio_codec in (_WEBM_AUDIO | {None})
        return "video/webm" if webm else "video/x-matroska"
    return _FORMAT_MIME_TYPES.get(format_name, f"video/x-{format_name.split(',')[0]}")


def _looks_like_image(path: Path) -> bool:
    try:
        with Image.open(path, formats=tuple(_IMAGE_MIME_TYPES)):
            return True
    except (UnidentifiedImageError, OSError):
        return False


def _probe_image(path: Path, name: str) -> ImageProbe:
    try:
        with Image.open(path, formats=tuple(_IMAGE_MIME_TYPES)) as image:
            format_name, (width, height) = str(image.format), image.size
            image.verify()  # checks the whole file (PNG CRCs, JPEG structure) without decoding
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ProbeError(_damaged_image(name)) from None
    return ImageProbe(
        format_name=format_name,
        mime_type=_IMAGE_MIME_TYPES[format_name],
        width=width,
        height=height,
        size_bytes=path.stat().st_size,
    )


def _mismatch_note(name: str, mime_type: str) -> str | None:
    extension = PurePosixPath(name).suffix.lower()
    claimed = EXTENSION_MIME_TYPES.get(extension)
    if claimed == mime_type or (claimed in _MPEG_FAMILY and mime_type in _MPEG_FAMILY):
        return None
    said = f"its name ends in {extension}" if extension else "its name has no extension"
    if claimed is None and extension:
        said += " (not a type Reelscope knows)"
    return f"{name}: {said}, but its bytes are {mime_type}; Reelscope uses {mime_type}."


def _require_bytes(path: Path, name: str) -> int:
    try:
        size = path.stat().st_size
    except OSError:
        raise ProbeError(f"{name} could not be read: it is missing or not accessible.") from None
    if size == 0:
        raise ProbeError(
            f"{name} is empty (0 bytes). Choose the file again; an upload may have been cut off."
        )
    return size


def _has_container_magic(path: Path) -> bool:
    """The first bytes name a video container, so a failed open means a damaged file.

    Only used to word the refusal; FFmpeg decides what the file is.
    """
    with path.open("rb") as handle:
        head = handle.read(12)
    return head[4:8] == b"ftyp" or head.startswith(b"\x1a\x45\xdf\xa3")


def _damaged_image(name: str) -> str:
    return (
        f"{name} is a damaged or incomplete image. Open it in an image editor, save it "
        "again as PNG or JPEG, and add it again."
    )


def _not_media(name: str) -> str:
    return (
        f"{name} is not a video or image file: its bytes are not in any media format "
        "(a document renamed?). Choose the original video."
    )


def _damaged(name: str) -> str:
    return (
        f"{name} is damaged: its header cannot be read (a truncated or corrupt file). "
        "Add a complete copy, or re-export it from the app that made it."
    )
