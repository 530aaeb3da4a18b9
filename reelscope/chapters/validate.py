"""Chapters are checked, not trusted: inside the video, in order, no overlaps, titled.

Each problem found is fixed where the fix is safe — an end clamped to the video's length or to
the next start, items sorted, items with the same start merged, an empty title named after its
time — and every problem is reported, fixed or not, so the page can always show it.
A gs:// or YouTube video is not downloaded here, so not probed: its length is the one the
browser's player read from the video, once it has, else the answer's own last timestamp; the
report says which.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from reelscope.chapters.modes import Kind
from reelscope.chapters.parse import Segment
from reelscope.clock import clock

SAME_START_S = 0.5  # two chapters starting this close are one chapter said twice
_TITLED = (Kind.CHAPTERS, Kind.MOMENTS, Kind.EVENTS)


class LengthFrom(StrEnum):
    """Where the length a check used came from."""

    PROBE = "probe"  # the file's bytes, probed here
    PLAYER = "player"  # the browser's player, from the video itself
    ANSWER = "answer"  # the answer's own last timestamp: nothing else knew it


@dataclass(frozen=True)
class Finding:
    rule: str  # "duration", "range", "order", "duplicate", "overlap", "title"
    message: str
    fixed: bool = True


@dataclass(frozen=True)
class Checked:
    segments: tuple[Segment, ...]
    findings: tuple[Finding, ...]
    duration_s: float | None  # the length checked against
    length_from: LengthFrom | None  # None: no length known at all


def check(
    segments: Sequence[Segment],
    kind: Kind,
    duration_s: float | None = None,
    length_from: LengthFrom = LengthFrom.PROBE,
) -> Checked:
    """The segments with safe fixes applied, and one finding per problem.

    `duration_s`: the video's length, `length_from` says who read it; None: not known, so the
    answer's last timestamp stands in for it.
    """
    findings: list[Finding] = []
    items = list(segments)
    known = duration_s is not None and duration_s > 0
    source: LengthFrom | None = length_from if known else None
    if not known:
        duration_s = _answer_length(items)
        source = LengthFrom.ANSWER if duration_s is not None else None
    if source is not None and source is not LengthFrom.PROBE:
        findings.append(Finding("duration", _length_note(source, duration_s), fixed=False))
    if known:
        items = _inside(items, duration_s, findings)
    items = _in_order(items, findings)
    if kind is Kind.CHAPTERS:
        items = _merge_same_starts(items, findings)
        items = _ends(items, duration_s, findings)
    if kind in _TITLED:
        items = _titled(items, findings)
    return Checked(tuple(items), tuple(findings), duration_s, source)


def _length_note(source: LengthFrom, duration_s: float) -> str:
    length = clock(duration_s)
    if source is LengthFrom.PLAYER:
        return (
            "This video was not probed here (it is a link), so its length, "
            f"{length}, is the one the player read from the video itself."
        )
    return (
        "This video was not probed here (a gs:// or YouTube link), so its length is taken "
        f"from the answer's own last timestamp, {length}: chapters past the real end cannot "
        "be caught."
    )


def _answer_length(items: list[Segment]) -> float | None:
    times = [t for s in items for t in (s.start_s, s.end_s) if t is not None]
    return max(times) if times else None


def _inside(items: list[Segment], duration: float, findings: list[Finding]) -> list[Segment]:
    kept: list[Segment] = []
    length = clock(duration)
    for item in items:
        if item.start_s >= duration:
            findings.append(
                Finding(
                    "range",
                    f"'{item.title or clock(item.start_s)}' starts at "
                    f"{clock(item.start_s)}, after the video ends ({length}): removed.",
                )
            )
            continue
        if item.end_s is not None and item.end_s > duration:
            findings.append(
                Finding(
                    "range",
                    f"'{item.title or clock(item.start_s)}' ends at "
                    f"{clock(item.end_s)}, after the video ends: clamped to {length}.",
                )
            )
            item = dataclasses.replace(item, end_s=duration)
        kept.append(item)
    return kept


def _in_order(items: list[Segment], findings: list[Finding]) -> list[Segment]:
    ordered = sorted(items, key=lambda s: s.start_s)  # stable: equal starts keep their order
    if ordered != items:
        findings.append(Finding("order", "The starts were not in increasing order: sorted."))
    return ordered


def _merge_same_starts(items: list[Segment], findings: list[Finding]) -> list[Segment]:
    merged: list[Segment] = []
    for item in items:
        if merged and item.start_s - merged[-1].start_s < SAME_START_S:
            first = merged[-1]
            findings.append(
                Finding(
                    "duplicate",
                    f"Two chapters start at {clock(first.start_s)} "
                    f"('{first.title}' and '{item.title}'): merged into one.",
                )
            )
            merged[-1] = _merge(first, item)
        else:
            merged.append(item)
    return merged


def _merge(first: Segment, second: Segment) -> Segment:
    def join(a: str, b: str, glue: str) -> str:
        return glue.join(t for t in dict.fromkeys((a, b)) if t)

    ends = [t for t in (first.end_s, second.end_s) if t is not None]
    return dataclasses.replace(
        first,
        end_s=max(ends) if ends else None,
        title=join(first.title, second.title, " / "),
        summary=join(first.summary, second.summary, " "),
        speech=join(first.speech, second.speech, " "),
    )


def _ends(items: list[Segment], duration: float | None, findings: list[Finding]) -> list[Segment]:
    """Each chapter ends where the next starts at the latest; a missing end is filled in."""
    fixed: list[Segment] = []
    for index, item in enumerate(items):
        following = items[index + 1].start_s if index + 1 < len(items) else duration
        end = item.end_s
        name = f"'{item.title}' ({clock(item.start_s)})"
        if following is not None and end is not None and end > following + 1e-6:
            findings.append(
                Finding(
                    "overlap",
                    f"{name} runs to {clock(end)}, past the next start "
                    f"{clock(following)}: its end is moved to it.",
                )
            )
            end = following
        elif end is not None and end <= item.start_s:
            findings.append(
                Finding(
                    "overlap", f"{name} ends before it starts: its end is set to the next start."
                )
            )
            end = following
        elif end is None:
            end = following
        fixed.append(dataclasses.replace(item, end_s=end))
    return fixed


def _titled(items: list[Segment], findings: list[Finding]) -> list[Segment]:
    named: list[Segment] = []
    for item in items:
        if not item.title.strip():
            title = f"Untitled ({clock(item.start_s)})"
            findings.append(
                Finding(
                    "title",
                    f"The item at {clock(item.start_s)} had no title: named '{title}'.",
                )
            )
            item = dataclasses.replace(item, title=title)
        named.append(item)
    return named
