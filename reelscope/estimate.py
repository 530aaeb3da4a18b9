"""A local estimate of what a request costs in tokens (and dollars) before it is sent.

Rates come from the catalog (`media_tokens`, `audio_tokens_per_second`, `price`). How a video
is counted follows the seed 003_c918cb8380af585b.txt ("以下是计算视频的词元的方法"): frames are
sampled at the request's fps (1 by default); each frame costs the model's tokens per frame;
the audio track is cut into 1-second stems of N tokens each; "视频帧和音频词元与其时间戳交错在一起。
时间戳表示为 7 个词元" — frames and audio tokens are interleaved with their timestamps, a
timestamp being 7 tokens. Reelscope reads that as one timestamp per sampled frame, and counts
timestamps only for models that take a video's audio (the seed says 1.0 Pro Vision ignores
timestamps). Text is ~4 characters a token. `countTokens`, when connected, is the real figure.
Dollars come from reelscope/costs.py, per modality, at the catalog's price.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from reelscope.catalog import Model, Price
from reelscope.clock import clock
from reelscope.costs import Cost, TokenUse, cost_of
from reelscope.settings import BACKEND_VERTEX

TIMESTAMP_TOKENS = 7  # seed 003: "时间戳表示为 7 个词元"
CHARS_PER_TOKEN = 4
FPS_MIN, FPS_MAX, FPS_DEFAULT = 0.01, 24.0, 1.0  # Vertex takes (0, 24]; 0.01 keeps it sane


@dataclass(frozen=True)
class VideoInput:
    """One video as the request will send it: its (clipped) length, audio, sampling."""

    duration_s: float  # the clip's length: end - start, or the probed duration
    has_audio: bool
    fps: float = FPS_DEFAULT
    resolution: str | None = None  # per-part media resolution; None = the request's


@dataclass(frozen=True)
class TokenEstimate:
    frames: int
    video_tokens: int
    audio_tokens: int
    timestamp_tokens: int
    image_tokens: int
    text_tokens: int
    total: int
    input_token_limit: int | None
    share_of_limit: float | None  # total / the model's input limit (1.0 = full)
    cost: Cost  # of the input, per modality, where the catalog has a price (reelscope/costs.py)
    price: Price | None  # its basis, date and sources, to show beside the cost
    notes: tuple[str, ...] = ()  # what the estimate could not count

    @property
    def fits(self) -> bool:
        return self.share_of_limit is None or self.share_of_limit <= 1.0

    @property
    def cost_usd(self) -> float | None:
        """The input's cost: the output is not known before the run."""
        return self.cost.input_usd

    def token_use(self) -> TokenUse:
        """The input by modality, as Vertex AI reports it (timestamps go with their video)."""
        by_modality = {
            "VIDEO": self.video_tokens + self.timestamp_tokens,
            "AUDIO": self.audio_tokens,
            "IMAGE": self.image_tokens,
            "TEXT": self.text_tokens,
        }
        return TokenUse(self.total, input_by_modality={m: n for m, n in by_modality.items() if n})


@dataclass(frozen=True)
class FitProposal:
    """One change that makes a too-long video fit the model's input limit."""

    change: str  # "lower fps" | "lower resolution" | "clip"
    fps: float
    resolution: str | None
    clip_s: float  # seconds of video to send (from the start of the current clip)
    total_tokens: int
    message: str


def clip_seconds(
    duration_s: float, start_s: float | None = None, end_s: float | None = None
) -> float:
    """Length of the clip [start, end) of a video of `duration_s` (offsets already validated)."""
    start = start_s or 0.0
    end = duration_s if end_s is None else min(end_s, duration_s)
    return max(end - start, 0.0)


def frame_count(duration_s: float, fps: float) -> int:
    """Frames sampled from `duration_s` seconds at `fps` (one at 0 s, 1/fps s, …)."""
    return math.ceil(round(duration_s * fps, 6))


def estimate_request(
    model: Model,
    videos: Sequence[VideoInput] = (),
    images: int = 0,
    prompt: str = "",
    resolution: str | None = None,
    backend: str = BACKEND_VERTEX,
) -> TokenEstimate:
    """Tokens for videos, `images` images and the prompt text, at a request-level resolution,
    and their input cost at `backend`'s price."""
    notes: list[str] = []
    frames = video = audio = stamps = 0
    for clip in videos:
        count, tokens, sound, stamp = _video_tokens(model, clip, clip.resolution or resolution)
        frames, video, audio, stamps = frames + count, video + tokens, audio + sound, stamps + stamp
    if videos and model.media_tokens is None and model.video_tokens_per_frame is None:
        notes.append(f"{model.name}: tokens per video frame are not known; video not counted.")
    image_tokens = _image_tokens(model, images, resolution, notes)
    text = math.ceil(len(prompt) / CHARS_PER_TOKEN)
    total = video + audio + stamps + image_tokens + text
    limit = model.input_token_limit
    counted = TokenEstimate(
        frames=frames,
        video_tokens=video,
        audio_tokens=audio,
        timestamp_tokens=stamps,
        image_tokens=image_tokens,
        text_tokens=text,
        total=total,
        input_token_limit=limit,
        share_of_limit=total / limit if limit else None,
        cost=Cost(None, None),
        price=model.price_on(backend),
        notes=tuple(notes),
    )
    cost = cost_of(counted.price, counted.token_use(), no_price=model.no_price_reason(backend))
    return replace(counted, cost=cost)


def propose_fit(
    model: Model,
    video: VideoInput,
    other_tokens: int = 0,
    resolution: str | None = None,
) -> list[FitProposal]:
    """Settings that would make this video fit, each keeping the rest as it is.

    `other_tokens` is what the rest of the request costs (prompt, images, other videos).
    Empty when the video already fits or the model has no input limit or frame rate.
    """
    limit = model.input_token_limit
    level = video.resolution or resolution
    current = estimate_request(model, [video], resolution=level).total + other_tokens
    if limit is None or current <= limit or _per_frame(model, level) is None:
        return []
    room = limit - other_tokens
    proposals = [
        _lower_fps(model, video, level, room, other_tokens),
        _lower_resolution(model, video, level, room, other_tokens),
        _clip(model, video, level, room, other_tokens),
    ]
    return [p for p in proposals if p is not None]


def _video_tokens(model: Model, clip: VideoInput, level: str | None) -> tuple[int, int, int, int]:
    per_frame = _per_frame(model, level)
    if per_frame is None:
        return 0, 0, 0, 0
    frames = frame_count(clip.duration_s, clip.fps)
    counts_audio = model.audio_in_video and clip.has_audio and model.audio_tokens_per_second
    audio = math.ceil(clip.duration_s) * model.audio_tokens_per_second if counts_audio else 0
    stamps = frames * TIMESTAMP_TOKENS if model.audio_in_video else 0
    return frames, frames * per_frame, audio, stamps


def _per_frame(model: Model, level: str | None) -> int | None:
    if model.media_tokens is not None:
        return model.media_tokens.per_frame(level)
    return model.video_tokens_per_frame


def _image_tokens(model: Model, images: int, level: str | None, notes: list[str]) -> int:
    if not images:
        return 0
    per_image = model.media_tokens.per_image(level) if model.media_tokens else None
    if per_image is None:
        notes.append(f"{model.name}: tokens per image are not documented; images not counted.")
        return 0
    return images * per_image


def _total(model: Model, video: VideoInput, level: str | None, other: int) -> int:
    return estimate_request(model, [video], resolution=level).total + other


def _lower_fps(
    model: Model, video: VideoInput, level: str | None, room: int, other: int
) -> FitProposal | None:
    per_frame = (_per_frame(model, level) or 0) + (TIMESTAMP_TOKENS if model.audio_in_video else 0)
    audio = _video_tokens(model, video, level)[2]
    fps = math.floor((room - audio) / (video.duration_s * per_frame) * 100) / 100
    fps = min(fps, video.fps)
    while fps >= FPS_MIN and _total(model, replace(video, fps=fps), level, other) > room + other:
        fps = round(fps - 0.01, 2)  # ceil() of frames can tip it over: step down
    if fps < FPS_MIN:
        return None
    total = _total(model, replace(video, fps=fps), level, other)
    message = f"Sample {fps:g} frames a second instead of {video.fps:g}: the whole video fits."
    return FitProposal("lower fps", fps, level, video.duration_s, total, message)


def _lower_resolution(
    model: Model, video: VideoInput, level: str | None, room: int, other: int
) -> FitProposal | None:
    current = _per_frame(model, level) or 0
    for lower in ("LOW", "MEDIUM"):
        if (_per_frame(model, lower) or current) >= current:
            continue
        at_lower = replace(video, resolution=lower)
        total = _total(model, at_lower, lower, other)
        if total <= room + other:
            message = f"Use {lower} media resolution: the whole video fits at {video.fps:g} fps."
            clip = video.duration_s
            return FitProposal("lower resolution", video.fps, lower, clip, total, message)
        slower = _lower_fps(model, at_lower, lower, room, other)
        if slower is not None:  # LOW alone is not enough: LOW and a lower fps
            rest = slower.message[0].lower() + slower.message[1:]
            message = f"Use {lower} media resolution and {rest}"
            return replace(slower, change="lower resolution", message=message)
    return None


def _clip(
    model: Model, video: VideoInput, level: str | None, room: int, other: int
) -> FitProposal | None:
    per_frame = (_per_frame(model, level) or 0) + (TIMESTAMP_TOKENS if model.audio_in_video else 0)
    per_second = video.fps * per_frame
    if video.has_audio and model.audio_in_video:
        per_second += model.audio_tokens_per_second or 0
    seconds = math.floor(room / per_second) if per_second else 0
    limit = room + other
    while seconds > 0 and _total(model, replace(video, duration_s=seconds), level, other) > limit:
        seconds -= 1
    if seconds <= 0:
        return None
    total = _total(model, replace(video, duration_s=seconds), level, other)
    message = f"Send a clip of at most {clock(seconds)} (of {clock(video.duration_s, decimals=1)})."
    return FitProposal("clip", video.fps, level, float(seconds), total, message)
