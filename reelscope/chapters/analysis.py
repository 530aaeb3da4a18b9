"""A chapters (or other mode) run: what it records, reading its answer, and what the page draws
of it (the items checked against the video, the player's spans, a captions track)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from reelscope.chapters.exports import to_webvtt
from reelscope.chapters.modes import Kind, Mode, response_schema
from reelscope.chapters.parse import Parsed, Segment, parse_answer
from reelscope.chapters.shots import snap_to_cuts
from reelscope.chapters.validate import Checked, LengthFrom, check
from reelscope.generation.state import RunState


def analysis_extra(mode: Mode) -> dict[str, object]:
    """What a run of `mode` records beside the usual model, prompt and sources: the mode and
    its schema (the page starts it through Runs.start_generation with that schema)."""
    schema = response_schema(mode.kind).model_dump(mode="json", exclude_none=True)
    return {"mode": mode.id, "mode_name": mode.name, "kind": str(mode.kind), "schema": schema}


@dataclass(frozen=True)
class Reading:
    """What a run's answer holds so far, and whether items may be missing from it."""

    parsed: Parsed
    live: bool
    incomplete: bool  # ended without the whole JSON: the items received so far are kept

    @property
    def note(self) -> str | None:
        if not self.incomplete:
            return None
        count = len(self.parsed.segments)
        return (
            f"The answer ended before its JSON was complete: the {count} item"
            f"{'' if count == 1 else 's'} received so far are kept; later ones are missing. "
            "Run it again for the full list."
        )


def read_state(state: RunState, mode: Mode) -> Reading:
    parsed = parse_answer(state.text, mode.kind)
    incomplete = state.done and (not parsed.whole or state.incomplete) and bool(state.text)
    return Reading(parsed, not state.done, incomplete)


Length = tuple[float | None, LengthFrom]
"""A video's length (None: unknown) and who read it: the probe, the player, or nobody."""


def checked_items(
    reading: Reading, kind: Kind, length: Length, cuts: Sequence[float] | None, snap: bool
) -> tuple[Checked, int]:
    """The answer's items checked against the video; snapped onto shot cuts when asked.
    Returns the checked items and how many starts moved."""
    checked = check(reading.parsed.segments, kind, *length)
    if not (snap and cuts):
        return checked, 0
    snapped, moved = snap_to_cuts(checked.segments, cuts)
    return check(snapped, kind, *length), moved


def player_spans(
    kind: Kind, segments: Sequence[Segment], duration: float | None
) -> list[tuple[float, float, str]]:
    """The items as the player's timeline draws them: (start, end, title), each at least half
    a second wide; none for kinds that are not spans (a series, captions)."""
    if kind is Kind.SERIES or kind is Kind.CAPTIONS:
        return []
    spans = []
    for index, segment in enumerate(segments):
        following = segments[index + 1].start_s if index + 1 < len(segments) else None
        end = segment.end_s or following or duration or segment.start_s + 5
        spans.append((segment.start_s, max(end, segment.start_s + 0.5), segment.title))
    return spans


def captions_track(readings: Mapping[str, tuple[Mode, Reading]], length: Length) -> str | None:
    """WebVTT of the captions mode's answer, when one was run on the video."""
    for mode, reading in readings.values():
        if mode.kind is Kind.CAPTIONS and reading.parsed.segments:
            items, _ = checked_items(reading, Kind.CAPTIONS, length, None, False)
            return to_webvtt(items.segments, items.duration_s, body="summary")
    return None


def finished_readings(
    runs: Iterable[tuple[Mode, RunState]],
) -> dict[str, tuple[Mode, Reading]]:
    """The answers of the finished runs of a video, by mode name, read and ready to draw."""
    return {mode.name: (mode, read_state(state, mode)) for mode, state in runs if state.done}
