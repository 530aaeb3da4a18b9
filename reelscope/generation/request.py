"""Building a generation request (parts + GenerateContentConfig) from what the user chose.

Only what the model takes is sent: sampling parameters the model ignores, fields it rejects
(candidate count on 3.7/3.8 Flash) and a fixed top-k never go on the wire.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from google.genai import types

from reelscope.catalog import Model
from reelscope.media import MediaSource
from reelscope.parameters import (
    RANGED_PARAMETERS,
    THINKING_DYNAMIC,
    THINKING_OFF,
    GenerationParams,
    clamp_to,
    takes,
)

DYNAMIC_THINKING_BUDGET = -1  # the SDK's "AUTOMATIC"


@dataclass(frozen=True)
class GenerationRequest:
    model_id: str
    contents: list[types.Content]
    config: types.GenerateContentConfig


def build_request(
    model: Model,
    sources: Sequence[MediaSource],
    prompt: str,
    params: GenerationParams,
    stop_sequences_max: int = 5,
) -> GenerationRequest:
    return GenerationRequest(
        model_id=model.id,
        contents=[types.Content(role="user", parts=build_parts(sources, prompt))],
        config=build_config(model, params, stop_sequences_max),
    )


def build_parts(sources: Sequence[MediaSource], prompt: str) -> list[types.Part]:
    """Videos first, then images, then the prompt: Google's advice for video prompts."""
    ordered = sorted(sources, key=lambda s: 0 if s.is_video else 1)
    parts = [source_part(s) for s in ordered]
    if prompt.strip():
        parts.append(types.Part.from_text(text=prompt.strip()))
    return parts


def source_part(source: MediaSource) -> types.Part:
    """Uploads go inline, read from the spool once, now; links go as URIs Vertex AI fetches."""
    if source.path is not None:
        return types.Part.from_bytes(data=source.path.read_bytes(), mime_type=source.mime_type)
    return types.Part.from_uri(file_uri=str(source.uri), mime_type=source.mime_type)


def build_config(
    model: Model, params: GenerationParams, stop_sequences_max: int = 5
) -> types.GenerateContentConfig:
    """The config of one request: `params` fitted to the model, and only fields it takes."""
    params, _ = clamp_to(model, params, stop_sequences_max)
    fields: dict[str, object] = {
        name: getattr(params, name)
        for name in RANGED_PARAMETERS
        if takes(model, name) and getattr(params, name) is not None
    }
    if fields.get("candidate_count") == 1:
        del fields["candidate_count"]  # the API default; some models reject the field
    if params.stop_sequences:
        fields["stop_sequences"] = list(params.stop_sequences)
    thinking = _thinking_config(model, params)
    if thinking:
        fields["thinking_config"] = thinking
    safety = [
        types.SafetySetting(category=category, threshold=threshold)
        for category, threshold in params.safety.items()
        if threshold != "DEFAULT"
    ]
    if safety:
        fields["safety_settings"] = safety
    return types.GenerateContentConfig(**fields)


def _thinking_config(model: Model, params: GenerationParams) -> types.ThinkingConfig | None:
    spec = model.thinking
    if spec is None:
        return None
    if takes(model, "thinking_level") and params.thinking_level in spec.levels:
        return types.ThinkingConfig(thinking_level=types.ThinkingLevel(params.thinking_level))
    if takes(model, "thinking_budget"):
        budget = params.thinking_budget
        if budget == THINKING_DYNAMIC:
            return types.ThinkingConfig(thinking_budget=DYNAMIC_THINKING_BUDGET)
        if budget == THINKING_OFF and spec.can_disable:
            return types.ThinkingConfig(thinking_budget=0)
        if isinstance(budget, int):
            return types.ThinkingConfig(thinking_budget=budget)
    return None
