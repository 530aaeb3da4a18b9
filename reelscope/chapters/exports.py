"""Chapters out: WebVTT, SRT, a YouTube description list, Markdown and JSON.

Titles and summaries are model-written; each format gets them as plain text made safe for it
(no blank lines inside a cue, no `-->` in a cue, Markdown escaped by the page's renderer).
Times keep the precision each format holds: milliseconds in WebVTT, SRT, Markdown and JSON;
whole seconds in a YouTube list, the only times YouTube reads.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from reelscope.chapters.parse import Segment
from reelscope.clock import MAX_DECIMALS, clock, cue_time

YOUTUBE_MIN_CHAPTERS = 3
YOUTUBE_MIN_LENGTH_S = 10.0


def _ends(segments: Sequence[Segment], duration_s: float | None) -> list[float]:
    """Each segment's end: its own, else the next start, else the video's end (or +5 s)."""
    ends = []
    for index, segment in enumerate(segments):
        following = segments[index + 1].start_s if index + 1 < len(segments) else None
        end = segment.end_s or following or duration_s or segment.start_s + 5.0
        ends.append(max(end, segment.start_s + 0.001))
    return ends


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _cue_text(text: str) -> str:
    """Cue text: no blank line (it would end the cue) and no '-->' (it would start a timing)."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line).replace("-->", "→")


def to_webvtt(
    segments: Sequence[Segment], duration_s: float | None = None, *, body: str = "title"
) -> str:
    """A WebVTT file: chapter titles as cues (`body="title"`), or caption text (`"summary"`)."""
    out = ["WEBVTT", ""]
    for index, (segment, end) in enumerate(zip(segments, _ends(segments, duration_s), strict=True)):
        text = _cue_text(getattr(segment, body) or segment.title) or "—"
        out += [
            str(index + 1),
            f"{cue_time(segment.start_s)} --> {cue_time(end)}",
            text,
            "",
        ]
    return "\n".join(out)


def to_srt(
    segments: Sequence[Segment], duration_s: float | None = None, *, body: str = "title"
) -> str:
    """An SRT file: cues numbered from 1, times with comma milliseconds."""
    out = []
    for index, (segment, end) in enumerate(zip(segments, _ends(segments, duration_s), strict=True)):
        text = _cue_text(getattr(segment, body) or segment.title) or "—"
        times = f"{cue_time(segment.start_s, ',')} --> {cue_time(end, ',')}"
        out += [str(index + 1), times, text, ""]
    return "\n".join(out)


@dataclass(frozen=True)
class YouTubeList:
    """A description's chapter list, or why YouTube would not take it (`text` None)."""

    text: str | None
    problems: tuple[str, ...]
    notes: tuple[str, ...] = ()


def to_youtube(segments: Sequence[Segment], duration_s: float | None = None) -> YouTubeList:
    """`0:00 Title` lines, per YouTube's rules: first at 0:00, at least 3, each at least 10 s.

    A first chapter after 0:00 is moved to 0:00 (said in `notes`); the other rules cannot be
    met by moving chapters without changing what they say, so they are reported instead.
    """
    items = list(segments)
    notes: list[str] = []
    if items and items[0].start_s > 0:
        notes.append(
            f"The first chapter started at {clock(items[0].start_s)}: "
            "listed at 0:00, as YouTube requires."
        )
    problems: list[str] = []
    if len(items) < YOUTUBE_MIN_CHAPTERS:
        problems.append(
            f"YouTube needs at least {YOUTUBE_MIN_CHAPTERS} chapters; there are {len(items)}. "
            "Ask for more chapters (or a longer video)."
        )
    if not items:
        return YouTubeList(None, tuple(problems), tuple(notes))
    starts = [0.0, *(s.start_s for s in items[1:])]
    ends = [*starts[1:], _ends(items, duration_s)[-1]]
    short = [
        f"'{_one_line(s.title)}' ({clock(start)}) lasts {end - start:.0f} s"
        for s, start, end in zip(items, starts, ends, strict=True)
        if end - start < YOUTUBE_MIN_LENGTH_S
    ]
    if short:
        problems.append(
            f"YouTube needs every chapter to last at least {YOUTUBE_MIN_LENGTH_S:.0f} s: "
            + "; ".join(short)
            + ". Merge the short ones or ask for fewer chapters."
        )
    if problems:
        return YouTubeList(None, tuple(problems), tuple(notes))
    lines = [f"{clock(start)} {_one_line(s.title)}" for s, start in zip(items, starts, strict=True)]
    return YouTubeList("\n".join(lines) + "\n", (), tuple(notes))


def to_markdown(segments: Sequence[Segment], title: str = "Chapters") -> str:
    """A heading per chapter with its time (to the millisecond), then its summary and what is
    said, quoted."""
    out = [f"# {title}", ""]
    for segment in segments:
        span = clock(segment.start_s, decimals=MAX_DECIMALS)
        if segment.end_s is not None:
            span += f"–{clock(segment.end_s, decimals=MAX_DECIMALS)}"
        out += [f"## {span} {_md(segment.title)}", ""]
        if segment.summary:
            out += [_md(segment.summary), ""]
        if segment.speech:
            out += [f"> {_md(segment.speech)}", ""]
    return "\n".join(out)


def _md(text: str) -> str:
    """Model text as inert Markdown: one line, with Markdown's active characters escaped."""
    line = _one_line(text)
    return "".join("\\" + c if c in "\\`*_{}[]()<>#+!|~" else c for c in line)


def to_json(segments: Sequence[Segment], header: dict[str, str] | None = None) -> str:
    """The checked items with seconds and clock times, plus the answer's header fields."""
    items = [
        {
            "start": clock(s.start_s, decimals=MAX_DECIMALS),
            "end": None if s.end_s is None else clock(s.end_s, decimals=MAX_DECIMALS),
            "start_s": round(s.start_s, 3),
            "end_s": None if s.end_s is None else round(s.end_s, 3),
            "title": s.title,
            "summary": s.summary,
            "speech": s.speech,
            **({"value": s.value} if s.value is not None else {}),
        }
        for s in segments
    ]
    return json.dumps({**(header or {}), "items": items}, indent=2, ensure_ascii=False) + "\n"
