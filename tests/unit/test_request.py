import dataclasses
import hashlib

import pytest
from google.genai import types

from reelscope.catalog import load_catalog
from reelscope.generation.request import build_config, build_parts, build_request
from reelscope.media import Clip, MediaSource, SourceKind
from reelscope.parameters import (
    RANGED_PARAMETERS,
    GenerationParams,
    clamp_to,
    defaults_for,
    takes,
)
from tests.requests import checked

CATALOG = load_catalog()

VIDEO_GCS = MediaSource(SourceKind.GCS, "video/mp4", "a.mp4", uri="gs://b/a.mp4")
VIDEO_YT = MediaSource(
    SourceKind.YOUTUBE, "video/mp4", "yt", uri="https://www.youtube.com/watch?v=x"
)
VIDEO_HTTPS = MediaSource(SourceKind.HTTPS, "video/webm", "c.webm", uri="https://e.com/c.webm")
PNG_BYTES = b"\x89PNG...."
MP4_BYTES = b"\x00\x00\x00\x20ftyp"


@pytest.fixture
def image_upload(tmp_path):
    return spooled(tmp_path, "image/png", "p.png", PNG_BYTES)


@pytest.fixture
def video_upload(tmp_path):
    return spooled(tmp_path, "video/mp4", "v.mp4", MP4_BYTES)


def spooled(folder, mime_type: str, name: str, data: bytes) -> MediaSource:
    """An upload as the spool keeps it: bytes on disk, named by their hash."""
    path = folder / name
    path.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    return MediaSource(SourceKind.UPLOAD, mime_type, name, sha256=digest, path=path, size=len(data))


@pytest.mark.parametrize(
    ("source", "uri", "data"),
    [
        (VIDEO_GCS, "gs://b/a.mp4", None),
        (VIDEO_YT, "https://www.youtube.com/watch?v=x", None),
        (VIDEO_HTTPS, "https://e.com/c.webm", None),
        ("video_upload", None, MP4_BYTES),
    ],
)
def test_each_source_kind_becomes_one_part(request, source, uri, data):
    if isinstance(source, str):
        source = request.getfixturevalue(source)
    (part, _) = build_parts([source], "hi")
    if uri:
        assert (part.file_data.file_uri, part.file_data.mime_type) == (uri, source.mime_type)
    else:
        assert (part.inline_data.data, part.inline_data.mime_type) == (data, source.mime_type)


def test_videos_come_before_images_and_the_prompt_last(image_upload):
    parts = build_parts([image_upload, VIDEO_GCS], "  what is this?  ")
    assert parts[0].file_data.file_uri == "gs://b/a.mp4"
    assert parts[1].inline_data.mime_type == "image/png"
    assert parts[2].text == "what is this?"


def test_empty_prompt_sends_no_text_part():
    assert [p.text for p in build_parts([VIDEO_GCS], "   ")] == [None]


def test_settable_model_sends_its_sampling_parameters():
    model = CATALOG.get("gemini-3.5-flash")
    params = GenerationParams(
        temperature=0.2,
        top_p=0.7,
        top_k=10,
        max_output_tokens=512,
        stop_sequences=("END", ""),
        candidate_count=2,
        thinking_level="LOW",
        safety={
            "HARM_CATEGORY_HATE_SPEECH": "BLOCK_ONLY_HIGH",
            "HARM_CATEGORY_HARASSMENT": "DEFAULT",
        },
    )
    config = build_config(model, params)
    assert (config.temperature, config.top_p, config.max_output_tokens) == (0.2, 0.7, 512)
    assert config.top_k is None  # fixed at 64 on this model: never sent
    assert config.stop_sequences == ["END"]
    assert config.candidate_count == 2
    assert config.thinking_config.thinking_level == types.ThinkingLevel.LOW
    assert config.thinking_config.thinking_budget is None
    assert [(s.category.value, s.threshold.value) for s in config.safety_settings] == [
        ("HARM_CATEGORY_HATE_SPEECH", "BLOCK_ONLY_HIGH")
    ]


def test_model_that_ignores_sampling_gets_none_of_it_nor_candidate_count():
    model = CATALOG.get("gemini-3.8-flash")
    params = GenerationParams(temperature=0.2, top_p=0.5, top_k=3, candidate_count=3)
    config = build_config(model, params)
    assert (config.temperature, config.top_p, config.top_k, config.candidate_count) == (
        None,
        None,
        None,
        None,
    )


def test_top_k_sent_where_the_model_takes_it():
    model = CATALOG.get("gemini-1.0-pro-vision")
    assert build_config(model, defaults_for(model)).top_k == 32


@pytest.mark.parametrize(("budget", "sent"), [("dynamic", -1), ("off", 0), (2048, 2048)])
def test_thinking_budget_for_budget_models(budget, sent):
    model = CATALOG.get("gemini-2.5-flash")
    config = build_config(model, GenerationParams(thinking_budget=budget))
    assert config.thinking_config.thinking_budget == sent
    assert config.thinking_config.thinking_level is None


def test_request_names_the_model_and_carries_one_user_turn():
    model = CATALOG.get("gemini-3.5-flash")
    request = build_request(model, checked(model, [VIDEO_GCS]), "describe", defaults_for(model))
    assert request.model_id == "gemini-3.5-flash"
    assert [c.role for c in request.contents] == ["user"]
    assert len(request.contents[0].parts) == 2


@pytest.mark.parametrize("model", CATALOG.models, ids=lambda m: m.id)
def test_a_field_is_sent_exactly_when_the_model_takes_it(model):
    """Every ranged parameter set to its maximum: sent iff takes() says so, never out of range."""
    wide = GenerationParams(
        temperature=9.0, top_p=9.0, top_k=999, max_output_tokens=10**7, candidate_count=99
    )
    config = build_config(model, wide)
    for name in RANGED_PARAMETERS:
        sent = getattr(config, name)
        if name == "candidate_count" and takes(model, name):
            assert sent == int(model.candidate_count.max)
        elif takes(model, name):
            assert sent == getattr(model, name).max, name
        else:
            assert sent is None, name


@pytest.mark.parametrize("model", CATALOG.models, ids=lambda m: m.id)
def test_thinking_is_sent_the_way_the_model_takes_it(model):
    config = build_config(model, defaults_for(model))
    thinking = config.thinking_config
    if takes(model, "thinking_level"):
        assert thinking.thinking_level.value == model.thinking.default_level
    elif takes(model, "thinking_budget"):
        assert thinking.thinking_budget is not None and thinking.thinking_level is None
    else:
        assert thinking is None


@pytest.mark.parametrize("model", CATALOG.models, ids=lambda m: m.id)
def test_the_system_instruction_is_sent_exactly_to_models_that_take_it(model):
    params = GenerationParams(system_instruction="  You are a film critic.\n")
    sent = build_config(model, params).system_instruction
    if takes(model, "system_instruction"):
        assert sent == types.Content(parts=[types.Part(text="You are a film critic.")])
    else:
        assert sent is None
    assert (
        build_config(model, GenerationParams(system_instruction=" \n ")).system_instruction is None
    )


def test_the_system_instruction_stays_out_of_the_contents():
    model = CATALOG.get("gemini-3.5-flash")
    params = GenerationParams(system_instruction="Be brief.")
    request = build_request(model, checked(model, [VIDEO_GCS]), "describe", params)
    texts = [part.text for part in request.contents[0].parts if part.text]
    assert texts == ["describe"]


def test_out_of_range_values_are_fitted_on_the_wire_too():
    model = CATALOG.get("gemini-1.0-pro-vision")  # temperature 0–1
    assert build_config(model, GenerationParams(temperature=1.8)).temperature == 1.0


def test_the_stop_sequence_cap_is_the_one_clamp_to_applies():
    model = CATALOG.get("gemini-3.5-flash")
    params = GenerationParams(stop_sequences=("", "a", "b", "c", "d"))
    fitted, _ = clamp_to(model, params, stop_sequences_max=3)
    config = build_config(model, params, stop_sequences_max=3)
    assert config.stop_sequences == list(fitted.stop_sequences) == ["a", "b", "c"]


def test_a_clip_becomes_video_metadata_with_duration_strings():
    clipped = dataclasses.replace(VIDEO_GCS, clip=Clip(start_s=12.5, end_s=75, fps=2.0))
    (part,) = build_parts([clipped], "")
    metadata = part.video_metadata
    assert (metadata.start_offset, metadata.end_offset, metadata.fps) == ("12.5s", "75s", 2.0)


@pytest.mark.parametrize(
    ("clip", "wire"),
    [
        (Clip(), None),  # nothing set: no videoMetadata at all
        (Clip(fps=0.5), {"fps": 0.5}),
        (Clip(start_s=3), {"start_offset": "3s"}),
        (Clip(end_s=59.25), {"end_offset": "59.25s"}),
    ],
)
def test_only_what_the_user_set_is_sent(clip, wire):
    (part,) = build_parts([dataclasses.replace(VIDEO_YT, clip=clip)], "")
    sent = part.video_metadata.model_dump(exclude_none=True) if part.video_metadata else None
    assert sent == wire


def test_an_image_never_carries_video_metadata(image_upload):
    (part,) = build_parts([dataclasses.replace(image_upload, clip=Clip(start_s=1))], "")
    assert part.video_metadata is None


@pytest.mark.parametrize(
    ("model_id", "per_part", "request_level"),
    [
        ("gemini-3.5-flash", "MEDIA_RESOLUTION_HIGH", "MEDIA_RESOLUTION_LOW"),
        ("gemini-2.5-flash", None, "MEDIA_RESOLUTION_LOW"),  # per part: Gemini 3 only
        ("gemini-1.0-pro-vision", None, None),  # takes neither
    ],
)
def test_media_resolution_per_request_and_per_part_where_the_model_takes_it(
    model_id, per_part, request_level
):
    model = CATALOG.get(model_id)
    source = dataclasses.replace(VIDEO_GCS, clip=Clip(resolution="HIGH"))
    request = build_request(
        model, checked(model, [source]), "hi", defaults_for(model), media_resolution="LOW"
    )
    part = request.contents[0].parts[0]
    assert (part.media_resolution.level.value if part.media_resolution else None) == per_part
    config_level = request.config.media_resolution
    assert (config_level.value if config_level else None) == request_level


def test_no_media_resolution_is_sent_by_default():
    model = CATALOG.get("gemini-3.5-flash")
    request = build_request(model, checked(model, [VIDEO_GCS]), "hi", defaults_for(model))
    assert request.config.media_resolution is None
    assert request.contents[0].parts[0].media_resolution is None


def test_a_staged_upload_goes_by_its_gs_uri_not_its_bytes(video_upload):
    staged = dataclasses.replace(
        video_upload, kind=SourceKind.GCS, uri=f"gs://stage/reelscope/{video_upload.sha256}.mp4"
    )
    (part,) = build_parts([staged], "")
    assert part.inline_data is None
    assert part.file_data.file_uri == staged.uri
