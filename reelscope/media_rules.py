"""Can these sources go to this model in one request? Each problem says its fix, before any call.

The rules come from the catalog (MIME types, videos per prompt, duration with and without audio,
whether the model hears a video's sound, the inline size limit) and from the seed
003_c918cb8380af585b.txt's per-source rules: "HTTP 网址 … 您可以为每个请求指定一个视频文件和最多 10
个图片文件" (an HTTP URL request takes one video file and up to 10 images), "每个请求仅支持一个
YouTube 视频网址" (one YouTube URL), and a Cloud Storage object "必须可公开读取,或者位于
发送请求的同一 Google Cloud 项目中" (readable by the project). A finding that does not
block (audio the model ignores, access Vertex AI checks itself) is a note: it is shown, and
Run stays enabled.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reelscope.catalog import MediaFacts, Model
from reelscope.clock import clock
from reelscope.estimate import (
    FPS_DEFAULT,
    FitProposal,
    TokenEstimate,
    VideoInput,
    estimate_request,
    propose_fit,
)
from reelscope.media import (
    Clip,
    MediaSource,
    SourceKind,
    check_clip,
    check_sources,
    format_size,
)
from reelscope.settings import BACKEND_GEMINI_API, BACKEND_VERTEX

if TYPE_CHECKING:  # google.cloud.storage costs import time the Ask page need not pay up front
    from google.cloud import storage

HTTP_VIDEOS_PER_REQUEST = 1  # seed 003: "一个视频文件"
HTTP_IMAGES_PER_REQUEST = 10  # seed 003: "最多 10 个图片文件"
BUCKET_SETUP = (
    "gcloud storage buckets create gs://YOUR-BUCKET --location=us-central1",
    "export REELSCOPE_BUCKET=YOUR-BUCKET  # or REELSCOPE_BUCKET in .streamlit/secrets.toml",
)


@dataclass(frozen=True)
class Finding:
    """One thing wrong (blocking) or worth knowing (a note), with what to do about it."""

    message: str
    blocking: bool = True


def takes_media_resolution(model: Model) -> bool:
    """GenerateContentConfig.media_resolution: the Gemini 2.x and 3.x models (MODEL-FACTS §4c)."""
    return model.id.startswith(("gemini-2", "gemini-3")) and model.media_tokens is not None


def takes_part_resolution(model: Model) -> bool:
    """Part.media_resolution (per video or image): Gemini 3.x only (MODEL-FACTS §4c)."""
    return model.id.startswith("gemini-3")


def check_request(
    sources: Sequence[MediaSource],
    model: Model,
    media: MediaFacts,
    *,
    bucket: str | None = None,
    backend: str = BACKEND_VERTEX,
) -> list[Finding]:
    """Everything that keeps these sources from this model on `backend`, then the notes; in
    source order."""
    findings = [Finding(p) for p in check_sources(list(sources), model, media)]
    findings += _backend_rules(sources, backend)
    findings += _http_rules(sources)
    for source in sources:
        findings += _source_rules(source, model, media, bucket, backend)
    return findings


_APPROVER = object()  # only check_for_model makes CheckedSources (see its __post_init__)


@dataclass(frozen=True)
class CheckedSources:
    """Sources checked against one model: the only input a request is built from.

    Made by `check_for_model` alone, so a request from media nobody checked against its model
    cannot be built (reelscope/generation/request.py refuses anything else).
    """

    model_id: str
    sources: tuple[MediaSource, ...]
    findings: tuple[Finding, ...]
    approver: object = dataclasses.field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.approver is not _APPROVER:
            raise TypeError("CheckedSources come from media_rules.check_for_model only.")

    @property
    def problems(self) -> list[str]:
        """What blocks the request, each with its fix."""
        return blocking(self.findings)

    @property
    def notes(self) -> list[str]:
        return notes(self.findings)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_for_model(
    sources: Sequence[MediaSource],
    model: Model,
    media: MediaFacts,
    *,
    bucket: str | None = None,
    backend: str = BACKEND_VERTEX,
) -> CheckedSources:
    """Every rule for these sources and this model on `backend` (the one gate every page goes
    through)."""
    findings = check_request(sources, model, media, bucket=bucket, backend=backend)
    return CheckedSources(model.id, tuple(sources), tuple(findings), _APPROVER)


def blocking(findings: Sequence[Finding]) -> list[str]:
    return [f.message for f in findings if f.blocking]


def notes(findings: Sequence[Finding]) -> list[str]:
    return [f.message for f in findings if not f.blocking]


def _backend_rules(sources: Sequence[MediaSource], backend: str) -> list[Finding]:
    """The Gemini Developer API reads no gs:// URI in a request (its files come inline or
    through its own Files API; a bucket must first be registered with it, which needs Google
    Cloud credentials an API key alone does not give), so a gs:// source is refused there with
    the way out. Public https links are kept: the Developer API fetches "any publicly
    accessible URL" itself (https://blog.google/innovation-and-ai/technology/developers-tools/
    gemini-api-new-file-limits), and YouTube URLs go as fileData as on Vertex AI. No size or
    count limit for fetched URLs was found for that API, so Vertex AI's (one video, ten images
    per request: `_http_rules`) apply on both."""
    if backend != BACKEND_GEMINI_API:
        return []
    return [
        Finding(
            f"{source.label}: the Gemini Developer API cannot read Cloud Storage "
            f"({source.uri}); that needs Vertex AI. Upload the file instead (files of "
            "any size are sent through the Gemini Files API), or use Vertex AI (a Google "
            "Cloud project, and REELSCOPE_BACKEND=vertex when an API key is set too)."
        )
        for source in sources
        if source.kind is SourceKind.GCS
    ]


def _http_rules(sources: Sequence[MediaSource]) -> list[Finding]:
    links = [s for s in sources if s.kind is SourceKind.HTTPS]
    videos = sum(1 for s in links if s.is_video)
    images = sum(1 for s in links if s.is_image)
    findings = []
    if videos > HTTP_VIDEOS_PER_REQUEST:
        findings.append(
            Finding(
                f"Vertex AI fetches at most {HTTP_VIDEOS_PER_REQUEST} video from https:// links "
                f"per request; you linked {videos}. Remove {videos - HTTP_VIDEOS_PER_REQUEST}, "
                "or upload them (large files are staged to Cloud Storage)."
            )
        )
    if images > HTTP_IMAGES_PER_REQUEST:
        findings.append(
            Finding(
                f"Vertex AI fetches at most {HTTP_IMAGES_PER_REQUEST} images from https:// links "
                f"per request; you linked {images}. Remove {images - HTTP_IMAGES_PER_REQUEST}, "
                "or upload them."
            )
        )
    return findings


def _source_rules(
    source: MediaSource, model: Model, media: MediaFacts, bucket: str | None, backend: str
) -> list[Finding]:
    findings: list[Finding] = []
    too_large = too_large_to_send(source, media, bucket, backend)
    if too_large:
        findings.append(Finding(too_large))
    if not source.is_video:
        return findings
    clip = source.clip or Clip()
    problems = check_clip(clip, source.duration_s, source.label)
    findings += [Finding(p) for p in problems]
    if problems:
        return findings  # the length below would be computed from offsets that are wrong
    length = clip_length(source)
    if length is not None:
        findings += _duration_rule(source, model, length)
    if source.has_audio and not model.audio_in_video:
        findings.append(
            Finding(
                f"{source.label}: {model.name} ignores the sound of videos; only its frames are "
                "used. Switch to a current model if what is said matters.",
                blocking=False,
            )
        )
    return findings


def too_large_to_send(
    source: MediaSource,
    media: MediaFacts,
    bucket: str | None = None,
    backend: str = BACKEND_VERTEX,
) -> str | None:
    """Why an upload cannot go inline, and how to send it instead; None when it can.

    One limit for both backends: the catalog's (7 MB a file, Vertex AI's model cards). The
    Developer API takes up to 100 MB inline per request (ai.google.dev video-understanding:
    "Inline Data < 100MB"), but its Files API is what it advises for reuse, and a file sent
    there once is not sent again with every question (components/media/files_api.py).
    """
    if not source.sent_inline or (source.size or 0) <= media.inline_limit_bytes:
        return None
    head = (
        f"{source.label} is {format_size(source.size or 0)}; a request carries at most "
        f"{format_size(media.inline_limit_bytes)} inline."
    )
    if backend == BACKEND_GEMINI_API:
        return (
            f"{head} It goes through the Gemini Files API once uploaded: add it on Ask, "
            "Chapters or Side by side and wait for its upload to finish."
        )
    if bucket:
        return f"{head} It goes through gs://{bucket} once staged; add it again to stage it."
    return (
        f"{head} Set a staging bucket and add it again: {BUCKET_SETUP[0]}, then set "
        "REELSCOPE_BUCKET=YOUR-BUCKET in the environment (and restart) or in "
        ".streamlit/secrets.toml. Or upload it to Cloud Storage yourself and paste its "
        "gs:// URI, or re-export a shorter or smaller file."
    )


def clip_length(source: MediaSource) -> float | None:
    """Seconds of this video the request sends; None when a link's length is unknown."""
    clip = source.clip or Clip()
    duration = source.duration_s
    if duration is None:
        if clip.start_s is not None and clip.end_s is not None:
            return clip.end_s - clip.start_s
        return None
    start = clip.start_s or 0.0
    end = duration if clip.end_s is None else min(clip.end_s, duration)
    return max(end - start, 0.0)


def _duration_rule(source: MediaSource, model: Model, length: float) -> list[Finding]:
    hears = bool(source.has_audio) and model.audio_in_video
    limit = model.video_seconds_with_audio if hears else model.video_seconds_without_audio
    if limit is None or length <= limit:
        return []
    sound = "with audio" if hears else "of video"
    other = model.video_seconds_without_audio
    aside = f" ({clock(other)} without audio)" if hears and other and other > limit else ""
    clipped = "this clip" if source.clip and source.clip.end_s is not None else "it"
    return [
        Finding(
            f"{source.label} runs {clock(length, decimals=1)}; {model.name} takes at most "
            f"{clock(limit)} {sound}{aside}. Clip {clipped} to {clock(limit)} or less (set start "
            "and end below it), or switch to a model with a longer limit."
        )
    ]


def video_inputs(sources: Sequence[MediaSource]) -> tuple[list[VideoInput], list[str]]:
    """The videos as the estimate counts them, and a note for each it cannot count."""
    inputs: list[VideoInput] = []
    skipped: list[str] = []
    for source in sources:
        if not source.is_video:
            continue
        clip = source.clip or Clip()
        length = clip_length(source)
        if length is None:
            skipped.append(
                f"{source.label}: a link's length is unknown until Vertex AI reads it, so it "
                "is not counted; set its start and end, or press Count tokens."
            )
            continue
        has_audio = source.has_audio if source.has_audio is not None else True
        fps = clip.fps or FPS_DEFAULT
        inputs.append(VideoInput(length, has_audio, fps, clip.resolution))
    return inputs, skipped


def estimate_sources(
    model: Model,
    sources: Sequence[MediaSource],
    prompt: str,
    resolution: str | None = None,
    backend: str = BACKEND_VERTEX,
) -> TokenEstimate:
    """estimate.estimate_request for these sources, with a note for what it could not count."""
    videos, skipped = video_inputs(sources)
    images = sum(1 for s in sources if s.is_image)
    level = resolution if takes_media_resolution(model) else None
    estimate = estimate_request(model, videos, images, prompt.strip(), level, backend)
    return dataclasses.replace(estimate, notes=(*estimate.notes, *skipped))


def check_gcs_access(client: storage.Client, uri: str) -> Finding | None:
    """Look the object up with the user's credentials: None when it is there and readable.

    Vertex AI reads gs:// objects as the project's service agent, not as the user, so only a
    missing object blocks; a refusal to the user is a note (Vertex AI may still read it).
    """
    from google.api_core import exceptions as api_exceptions

    from reelscope.storage import StagingError, object_size

    try:
        object_size(client, uri)
    except StagingError as problem:
        cause = problem.__cause__
        if isinstance(cause, api_exceptions.RetryError):
            cause = cause.cause
        if cause is None or isinstance(cause, api_exceptions.NotFound):
            return Finding(str(problem))  # Cloud Storage answered: no such object or bucket
        if isinstance(cause, api_exceptions.Forbidden):
            return Finding(
                f"Your account may not read {uri}; Vertex AI reads it as your project's "
                "service agent, so it may still work. If the run fails, grant the project "
                "read access to the bucket.",
                blocking=False,
            )
        return Finding(
            f"Could not check {uri} ({problem}). Vertex AI checks that the project can read "
            "it when you run.",
            blocking=False,
        )
    return None


def gcs_checked_by_vertex(uri: str) -> Finding:
    """The note for a gs:// link when Cloud Storage is not set up here."""
    return Finding(
        f"{uri}: Vertex AI checks that your project can read it when you run (Cloud Storage "
        "is not set up in Reelscope: set REELSCOPE_BUCKET to look objects up first).",
        blocking=False,
    )


def fit_proposals(
    model: Model,
    sources: Sequence[MediaSource],
    prompt: str,
    resolution: str | None = None,
) -> list[tuple[str, FitProposal]]:
    """For each video of a request too long for the model: settings that would make it fit,
    the rest of the request kept as it is. (label, proposal) pairs; empty when it fits."""
    level = resolution if takes_media_resolution(model) else None
    total = estimate_sources(model, sources, prompt, resolution).total
    limit = model.input_token_limit
    if limit is None or total <= limit:
        return []
    proposals: list[tuple[str, FitProposal]] = []
    for source in sources:
        videos, _ = video_inputs([source]) if source.is_video else ([], [])
        if not videos:
            continue
        alone = estimate_request(model, videos, resolution=level).total
        for proposal in propose_fit(model, videos[0], other_tokens=total - alone, resolution=level):
            proposals.append((source.label, proposal))
    return proposals
