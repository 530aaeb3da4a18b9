"""Building a generation request (parts + GenerateContentConfig) from what the user chose.

Only what the model takes is sent: sampling parameters the model ignores, fields it rejects
(candidate count on 3.7/3.8 Flash, system instructions on 1.0 Pro Vision) and a fixed top-k
never go on the wire.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from google.genai import types

from reelscope.catalog import MEDIA_RESOLUTIONS, Model
from reelscope.media import Clip, MediaSource, duration_literal
from reelscope.media_rules import CheckedSources, takes_media_resolution, takes_part_resolution
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


class UncheckedMedia(ValueError):
    """A request asked for from sources not checked against its model, or refused by the check."""


def build_request(
    model: Model,
    checked: CheckedSources,
    prompt: str,
    params: GenerationParams,
    stop_sequences_max: int = 5,
    media_resolution: str | None = None,
    response_schema: types.Schema | None = None,
) -> GenerationRequest:
    """The request for `checked` sources (media_rules.check_for_model, for this very model).

    `media_resolution` (LOW / MEDIUM / HIGH) applies to the whole request, where the model
    takes it; each video's own clip settings (offsets, fps, per-part resolution) ride on its
    part. A `response_schema` asks for JSON in that shape (structured output).
    """
    if not isinstance(checked, CheckedSources) or checked.model_id != model.id:
        raise UncheckedMedia(f"These sources were not checked against {model.name}.")
    if not checked.ok:
        raise UncheckedMedia(" ".join(checked.problems))
    sources = checked.sources
    parts = build_parts(sources, prompt, per_part_resolution=takes_part_resolution(model))
    config = build_config(model, params, stop_sequences_max, media_resolution)
    if response_schema is not None:
        config = config.model_copy(
            update={"response_mime_type": "application/json", "response_schema": response_schema}
        )
    return GenerationRequest(
        model_id=model.id, contents=[types.Content(role="user", parts=parts)], config=config
    )


def build_parts(
    sources: Sequence[MediaSource], prompt: str, *, per_part_resolution: bool = False
) -> list[types.Part]:
    """Videos first, then images, then the prompt: Google's advice for video prompts."""
    ordered = sorted(sources, key=lambda s: 0 if s.is_video else 1)
    parts = [source_part(s, per_part_resolution=per_part_resolution) for s in ordered]
    if prompt.strip():
        parts.append(types.Part.from_text(text=prompt.strip()))
    return parts


def source_part(source: MediaSource, *, per_part_resolution: bool = False) -> types.Part:
    """Links and staged uploads go as URIs Vertex AI fetches; uploads inline, read now, once.

    A video's clip becomes `videoMetadata` (offsets as "12.5s", fps), and its own media
    resolution `mediaResolution` when the model takes one per part.
    """
    if source.uri is not None:
        part = types.Part.from_uri(file_uri=source.uri, mime_type=source.mime_type)
    else:
        data = source.path.read_bytes() if source.path is not None else b""
        part = types.Part.from_bytes(data=data, mime_type=source.mime_type)
    clip = source.clip or Clip()
    if source.is_video and clip.sends_metadata:
        part.video_metadata = video_metadata(clip)
    if per_part_resolution and clip.resolution in MEDIA_RESOLUTIONS:
        level = types.PartMediaResolutionLevel(f"MEDIA_RESOLUTION_{clip.resolution}")
        part.media_resolution = types.PartMediaResolution(level=level)
    return part


def video_metadata(clip: Clip) -> types.VideoMetadata:
    """Offsets as protobuf Duration strings ("12.5s"); fps only when the user set one."""
    return types.VideoMetadata(
        start_offset=duration_literal(clip.start_s) if clip.start_s is not None else None,
        end_offset=duration_literal(clip.end_s) if clip.end_s is not None else None,
        fps=clip.fps,
    )


def build_config(
    model: Model,
    params: GenerationParams,
    stop_sequences_max: int = 5,
    media_resolution: str | None = None,
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
    if media_resolution in MEDIA_RESOLUTIONS and takes_media_resolution(model):
        fields["media_resolution"] = types.MediaResolution(f"MEDIA_RESOLUTION_{media_resolution}")
    instruction = sent_instruction(model, params.system_instruction)
    if instruction:
        # A Content with no role, as Vertex AI's REST samples write systemInstruction.
        fields["system_instruction"] = types.Content(parts=[types.Part.from_text(text=instruction)])
    return types.GenerateContentConfig(**fields)


def sent_instruction(model: Model, text: str) -> str:
    """The system instruction as sent to `model`: trimmed, or "" where none is sent."""
    return text.strip() if takes(model, "system_instruction") else ""


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
