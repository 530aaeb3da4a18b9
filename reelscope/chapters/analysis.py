"""A chapters (or other mode) run: the structured request, its spec, and reading its answer."""

from __future__ import annotations

from dataclasses import dataclass

from reelscope.chapters.modes import Mode, response_schema
from reelscope.chapters.parse import Parsed, parse_answer
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
