"""A chapters (or other mode) run: the structured request, its spec, and reading its answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reelscope.catalog import Model
from reelscope.chapters.modes import Mode, response_schema, structured
from reelscope.chapters.parse import Parsed, parse_answer
from reelscope.generation.request import GenerationRequest, build_request
from reelscope.generation.state import RunState
from reelscope.media import MediaSource
from reelscope.parameters import GenerationParams
from reelscope.runs import RunSpec, SourceRef


def analysis_request(
    model: Model,
    sources: Sequence[MediaSource],
    mode: Mode,
    prompt: str,
    params: GenerationParams,
) -> GenerationRequest:
    """The request for `mode` on `sources`: the user's prompt, JSON in the mode's schema."""
    return structured(build_request(model, sources, prompt, params), mode.kind)


def analysis_spec(
    model: Model,
    sources: Sequence[MediaSource],
    mode: Mode,
    prompt: str,
    params: GenerationParams,
) -> RunSpec:
    """What a run records: the mode and its schema beside the usual model, prompt and sources."""
    schema = response_schema(mode.kind).model_dump(mode="json", exclude_none=True)
    extra = {"mode": mode.id, "mode_name": mode.name, "kind": str(mode.kind), "schema": schema}
    return RunSpec(
        model.id, prompt, params, tuple(map(SourceRef.of, sources)), params.stream, extra
    )


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
