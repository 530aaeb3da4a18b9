"""How each video is sent: start and end offsets, frames a second, media resolution.

The values are the component's own (components/common/kept.py), under keys named after the source's
identity, so they survive reruns, page visits and the staging of an upload (which keeps its
content hash). Offsets are typed as 75, 75.5 or 1:15: a long video is easier in minutes.
"""

from __future__ import annotations

import streamlit as st

from components.common import kept
from reelscope.catalog import MEDIA_RESOLUTIONS, Model
from reelscope.clock import clock
from reelscope.media import FPS_DEFAULT, FPS_MAX, Clip, MediaSource, SourceError
from reelscope.media import parse_offset as _parse
from reelscope.media_rules import takes_media_resolution, takes_part_resolution

DEFAULT_LEVEL = "Default"  # no resolution sent: the model's own default
_LEVEL_HELP = (
    "Tokens per frame: Gemini 3 counts 70 at LOW, MEDIUM and by default, 280 at HIGH; "
    "earlier models 258, or 66 at LOW. Lower means cheaper and longer videos fit."
)


def show(key: str, source: MediaSource, model: Model | None = None) -> tuple[Clip, list[str]]:
    """Clip settings for one video: the Clip to send, and why a typed offset cannot be read."""
    duration = source.duration_s
    left, right = st.columns(2)
    start_text = left.text_input(
        "Start",
        placeholder="0:00",
        help="Where the clip starts: seconds (75.5) or minutes:seconds (1:15.5).",
        **kept.bind(f"{key}.start", ""),
    )
    end_text = right.text_input(
        "End",
        placeholder=clock(duration, decimals=1) if duration is not None else "the end",
        help="Where the clip ends; empty for the end of the video.",
        **kept.bind(f"{key}.end", ""),
    )
    left, right = st.columns(2)
    fps = left.number_input(
        "Frames / s",
        min_value=0.0,
        max_value=FPS_MAX,
        step=0.5,
        format="%g",
        help=f"Frames sampled each second (more than 0, at most {FPS_MAX:g}; Vertex's default is "
        f"{FPS_DEFAULT:g}). Fewer frames: fewer tokens; more: fast motion is seen.",
        **kept.bind(f"{key}.fps", FPS_DEFAULT),
    )
    level = None
    if model is not None and takes_part_resolution(model):
        choice = right.selectbox(
            "Resolution",
            (DEFAULT_LEVEL, *MEDIA_RESOLUTIONS),
            help="This video's media resolution, over the request's. " + _LEVEL_HELP,
            **kept.bind(f"{key}.resolution", DEFAULT_LEVEL),
        )
        level = None if choice == DEFAULT_LEVEL else choice
    problems: list[str] = []
    start = _offset(start_text, "start", source.label, problems)
    end = _offset(end_text, "end", source.label, problems)
    sent_fps = None if fps == FPS_DEFAULT else float(fps)  # 1 a second is Vertex's own default
    return Clip(start, end, sent_fps, level), problems


def load(key: str, clip: Clip) -> None:
    """Set the clip settings `key` to `clip` (a kept run opened again); before they are drawn."""
    kept.put(f"{key}.start", _offset_text(clip.start_s))
    kept.put(f"{key}.end", _offset_text(clip.end_s))
    kept.put(f"{key}.fps", clip.fps if clip.fps is not None else FPS_DEFAULT)
    kept.put(f"{key}.resolution", clip.resolution or DEFAULT_LEVEL)


def _offset_text(seconds: float | None) -> str:
    """An offset as the box shows it: a clock time when that is exact, else plain seconds."""
    if seconds is None:
        return ""
    exact = abs(seconds * 10 - round(seconds * 10)) < 1e-6
    return clock(seconds) if exact else f"{seconds:g}"


def request_resolution(key: str, model: Model) -> str | None:
    """The request's media resolution (GenerateContentConfig), where the model takes one."""
    if not takes_media_resolution(model):
        return None  # nothing drawn: the kept choice waits for a model that takes one
    choice = st.selectbox(
        "Media resolution",
        (DEFAULT_LEVEL, *MEDIA_RESOLUTIONS),
        help="For every video and image in the request. " + _LEVEL_HELP,
        **kept.bind(key, DEFAULT_LEVEL),
    )
    return None if choice == DEFAULT_LEVEL else choice


def reset_request_resolution(key: str) -> None:
    """Back to the model's own default (nothing sent): for the parameter panel's Reset."""
    kept.put(key, DEFAULT_LEVEL)


def _offset(text: str, what: str, label: str, problems: list[str]) -> float | None:
    try:
        return _parse(text or "", what)
    except SourceError as problem:
        problems.append(f"{label}: {problem}")
        return None
