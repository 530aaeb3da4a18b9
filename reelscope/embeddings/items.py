"""What goes into a collection: text snippets, images and videos, and the calls they need.

An item names its content by hash (texts and uploaded bytes) or by URI (gs:// links). Uploaded
bytes are the media library's files (reelscope/library.py); a file from elsewhere is copied
(hard-linked when the file system allows) into the library's folder under its hash.
A video is planned into windows, each one API call within the model's limit.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reelscope.embeddings.models import EmbeddingModel
    from reelscope.listing import ListedFile
    from reelscope.media import MediaSource

INLINE_LIMIT_BYTES = 20 * 1024 * 1024  # larger files go to Cloud Storage and come as gs://
MAX_TEXT_CHARS = 20_000  # ~8k tokens, Gemini Embedding 2's input limit (MODEL-FACTS §8)


class EmbeddingError(ValueError):
    """A user-facing problem with an embedding input; the message says what to do."""


class ItemKind(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"


@dataclass(frozen=True)
class SegmentConfig:
    """The part of a video to embed and the length of each segment, in seconds.

    multimodalembedding@001 sends it as `videoSegmentConfig` (one vector per interval);
    Gemini Embedding 2 makes one call, hence one vector, per interval.
    """

    start_s: float = 0.0
    end_s: float | None = None  # None: to the end of the video
    interval_s: float | None = None  # None: the model's default

    def key(self) -> str:
        end = "end" if self.end_s is None else f"{self.end_s:g}"
        interval = "default" if self.interval_s is None else f"{self.interval_s:g}"
        return f"{self.start_s:g}-{end}/{interval}"


@dataclass(frozen=True)
class Item:
    kind: ItemKind
    label: str
    text: str | None = None
    sha256: str | None = None
    uri: str | None = None
    path: Path | None = None
    mime_type: str | None = None
    duration_s: float | None = None
    has_audio: bool | None = None
    size: int | None = None
    segments: SegmentConfig | None = None

    @property
    def content_key(self) -> str:
        if self.kind is ItemKind.TEXT:
            return "text:" + hashlib.sha256((self.text or "").encode()).hexdigest()
        return f"sha256:{self.sha256}" if self.sha256 else f"uri:{self.uri}"


@dataclass(frozen=True)
class Window:
    """One video call's span and segment interval; `whole` when it is the entire video."""

    start_s: float
    end_s: float
    interval_s: float
    whole: bool = False

    def key(self) -> str:
        return f"{self.start_s:g}-{self.end_s:g}/{self.interval_s:g}"


@dataclass(frozen=True)
class EmbedCall:
    """One API call: which item (by position in the job), what to send, and its cache key."""

    item_index: int
    kind: ItemKind
    cache_key: str
    text: str | None = None
    uri: str | None = None
    path: Path | None = None
    mime_type: str | None = None
    window: Window | None = None
    notes: tuple[str, ...] = field(default=())

    def read_bytes(self) -> bytes:
        if self.path is None:
            raise EmbeddingError("This item's bytes are gone from the data folder; add it again.")
        return self.path.read_bytes()


EMBEDDINGS_DIRNAME = "embeddings"


def blobs_dir(data_dir: Path) -> Path:
    """Where collections keep the uploaded bytes they use: the media library's folder, so a
    video added to a collection is the same file every page offers (reelscope/library.py)."""
    from reelscope.library import library_dir

    return library_dir(data_dir)


class BlobStore:
    """Uploaded bytes under `<root>/<sha256>`, kept for as long as a collection uses them."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256

    def put_file(self, source: Path, sha256: str) -> Path:
        target = self.path(sha256)
        if target.exists():
            return target
        self.root.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".put-{sha256}-{os.getpid()}")
        try:
            os.link(source, temp)  # same file system: no copy, and the spool may drop its name
        except OSError:
            shutil.copyfile(source, temp)
        os.replace(temp, target)
        return target


def text_items(text: str, one_per_line: bool = True) -> list[Item]:
    """Text snippets: one per non-empty line, or the whole text as one."""
    pieces = [line.strip() for line in text.splitlines()] if one_per_line else [text.strip()]
    return [Item(kind=ItemKind.TEXT, label=_short(p), text=p) for p in pieces if p]


def item_from_source(
    source: MediaSource, blobs: BlobStore, segments: SegmentConfig | None = None
) -> Item:
    """An image or video the Ask page's picker accepted, as an embedding item."""
    kind = ItemKind.VIDEO if source.is_video else ItemKind.IMAGE if source.is_image else None
    if kind is None:
        raise EmbeddingError(f"{source.label}: only images and videos can be embedded.")
    if source.uri is not None and not source.uri.startswith("gs://"):
        raise EmbeddingError(
            f"{source.label}: embedding models take uploads and gs:// links only. Download "
            "the file and upload it, or copy it to Cloud Storage and add its gs:// link."
        )
    path = None
    if source.uri is None:
        if source.path is None or source.sha256 is None:
            raise EmbeddingError(f"{source.label}: its upload is gone; add the file again.")
        path = blobs.put_file(source.path, source.sha256)
    return Item(
        kind=kind,
        label=source.label,
        sha256=source.sha256 if source.uri is None else None,
        uri=source.uri,
        path=path,
        mime_type=source.mime_type,
        duration_s=source.duration_s,
        has_audio=source.has_audio,
        size=source.size,
        segments=segments if kind is ItemKind.VIDEO else None,
    )


def embeddable(source: MediaSource) -> bool:
    """Whether a listed file is media an embedding model may take (checked per model later)."""
    return source.is_video or source.is_image


def items_from_prefix(files: Sequence[ListedFile], segments: SegmentConfig | None) -> list[Item]:
    """The images and videos listed under a gs:// prefix, as items sent by their links. Their
    length is unknown until embedded: a video is embedded over `segments` (from its start to
    its end, or to the end the user set)."""
    items = []
    for file in files:
        source = file.source
        video = source.is_video
        items.append(
            Item(
                kind=ItemKind.VIDEO if video else ItemKind.IMAGE,
                label=source.label,
                uri=source.uri,
                mime_type=source.mime_type,
                size=file.size,
                segments=segments if video else None,
            )
        )
    return items


def item_from_file(
    path: Path, blobs: BlobStore, segments: SegmentConfig | None = None, label: str | None = None
) -> Item:
    """A local image or video file (probed by its bytes, kept in the blob store by hash)."""
    from reelscope.probe import ProbeError, VideoProbe, probe_media

    name = label or path.name
    try:
        probe = probe_media(path, name)
    except ProbeError as problem:
        raise EmbeddingError(str(problem)) from problem
    sha256 = _file_sha256(path)
    kind = ItemKind.VIDEO if isinstance(probe, VideoProbe) else ItemKind.IMAGE
    video = probe if isinstance(probe, VideoProbe) else None
    return Item(
        kind=kind,
        label=name,
        sha256=sha256,
        path=blobs.put_file(path, sha256),
        mime_type=probe.mime_type,
        duration_s=video.duration_s if video else None,
        has_audio=video.has_audio if video else None,
        size=probe.size_bytes,
        segments=segments if video else None,
    )


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def check_item(item: Item, model: EmbeddingModel, dimension: int) -> list[str]:
    """Why this model cannot embed the item into a collection of this size (empty: it can)."""
    problems: list[str] = []
    if item.kind is ItemKind.TEXT:
        if not (item.text or "").strip():
            problems.append("An empty text cannot be embedded.")
        elif len(item.text or "") > MAX_TEXT_CHARS:
            problems.append(f"{item.label}: longer than {MAX_TEXT_CHARS:,} characters; split it.")
        return problems
    accepted = model.image_mime_types if item.kind is ItemKind.IMAGE else model.video_mime_types
    if item.mime_type not in accepted:
        problems.append(
            f"{item.label}: {model.label} does not take {item.mime_type} "
            f"({', '.join(accepted)}). Convert it first."
        )
    if item.uri is None and (item.size or 0) > INLINE_LIMIT_BYTES:
        problems.append(
            f"{item.label}: over {INLINE_LIMIT_BYTES // 2**20} MB; copy it to Cloud Storage "
            "and add its gs:// link instead."
        )
    if item.kind is ItemKind.VIDEO:
        if model.video_dimension is not None and model.video_dimension != dimension:
            problems.append(
                f"{item.label}: {model.label} makes {model.video_dimension}-d video vectors; "
                f"this collection is {dimension}-d. Use a {model.video_dimension}-d collection "
                "to mix videos with texts and images."
            )
        problems.extend(_check_segments(item, model))
    return problems


def _check_segments(item: Item, model: EmbeddingModel) -> list[str]:
    config = item.segments or SegmentConfig()
    interval = config.interval_s or model.default_interval_s
    limit = model.window_limit_s(item.has_audio)
    problems = []
    if interval < model.min_interval_s:
        problems.append(f"{item.label}: segments must be at least {model.min_interval_s:g} s.")
    if interval > limit:
        problems.append(
            f"{item.label}: {model.label} takes at most {limit:g} s of this video per call; "
            f"make segments {limit:g} s or shorter."
        )
    if config.start_s < 0 or (config.end_s is not None and config.end_s <= config.start_s):
        problems.append(f"{item.label}: the end must come after the start.")
    if item.duration_s is not None and config.start_s >= item.duration_s:
        problems.append(f"{item.label}: starts after the video ends ({item.duration_s:g} s).")
    return problems


def video_windows(item: Item, model: EmbeddingModel) -> tuple[list[Window], list[str]]:
    """The calls a video needs, and notes (e.g. an unknown length)."""
    config = item.segments or SegmentConfig()
    interval = config.interval_s or model.default_interval_s
    limit = model.window_limit_s(item.has_audio)
    notes: list[str] = []
    end = config.end_s
    if item.duration_s is not None:
        end = min(end, item.duration_s) if end is not None else item.duration_s
    if model.video_dimension is not None:
        # @001: one request covers whole intervals up to the 120 s limit; segments tile exactly.
        span = max(interval, math.floor(limit / interval) * interval)
    else:
        span = interval  # Gemini: one vector per call, so one call per segment
    if end is None:
        end = config.start_s + span
        notes.append(
            f"{item.label}: length unknown; embedding {config.start_s:g}–{end:g} s. "
            "Set an end to embed more."
        )
    windows = []
    at = config.start_s
    while at < end - 1e-6:
        stop = min(at + span, end)
        windows.append(Window(at, stop, interval))
        at = stop
    if (
        len(windows) == 1
        and windows[0].start_s == 0
        and item.duration_s is not None
        and windows[0].end_s >= item.duration_s
    ):
        windows = [Window(0.0, windows[0].end_s, interval, whole=True)]
    return windows, notes


def plan_calls(item: Item, model: EmbeddingModel, item_index: int = 0) -> list[EmbedCall]:
    """The API calls an item needs, each with the key its vectors are cached under."""
    base = f"{model.id}|{item.content_key}"
    common = dict(item_index=item_index, kind=item.kind, mime_type=item.mime_type)
    if item.kind is ItemKind.TEXT:
        return [EmbedCall(cache_key=base, text=item.text, **common)]
    media = dict(uri=item.uri, path=item.path)
    if item.kind is ItemKind.IMAGE:
        return [EmbedCall(cache_key=base, **media, **common)]
    windows, notes = video_windows(item, model)
    return [
        EmbedCall(cache_key=f"{base}|{w.key()}", window=w, notes=tuple(notes), **media, **common)
        for w in windows
    ]


def _short(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def item_record(item: Item) -> dict:
    """The item as JSON-ready values (a stored job keeps its items so a restart resumes it)."""
    segments = item.segments
    return {
        "kind": str(item.kind),
        "label": item.label,
        "text": item.text,
        "sha256": item.sha256,
        "uri": item.uri,
        "path": None if item.path is None else str(item.path),
        "mime_type": item.mime_type,
        "duration_s": item.duration_s,
        "has_audio": item.has_audio,
        "size": item.size,
        "segments": None
        if segments is None
        else [segments.start_s, segments.end_s, segments.interval_s],
    }


def item_from_record(record: dict) -> Item:
    """The item `item_record` wrote."""
    segments = record.get("segments")
    path = record.get("path")
    return Item(
        kind=ItemKind(record["kind"]),
        label=record["label"],
        text=record.get("text"),
        sha256=record.get("sha256"),
        uri=record.get("uri"),
        path=None if path is None else Path(path),
        mime_type=record.get("mime_type"),
        duration_s=record.get("duration_s"),
        has_audio=record.get("has_audio"),
        size=record.get("size"),
        segments=None if segments is None else SegmentConfig(*segments),
    )
