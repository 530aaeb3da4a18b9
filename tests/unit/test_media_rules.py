"""Every generated fixture probed and judged per model; estimates against hand-computed values."""

from __future__ import annotations

import dataclasses
import math
import uuid
from pathlib import Path

import pytest

from reelscope.catalog import load_catalog
from reelscope.media import (
    Clip,
    MediaSource,
    SourceError,
    SourceKind,
    accept_upload,
    source_from_link,
)
from reelscope.media_rules import (
    blocking,
    check_gcs_access,
    check_request,
    estimate_sources,
    fit_proposals,
    notes,
    takes_media_resolution,
    takes_part_resolution,
)
from reelscope.settings import Settings
from reelscope.spool import Spool
from reelscope.vertex import make_storage_client
from tests.media_files import (
    make_corrupt_mp4,
    make_empty_file,
    make_image_pair,
    make_long_video,
    make_mov,
    make_text_file,
    make_video,
    make_webm,
)

CATALOG = load_catalog()
MEDIA = CATALOG.media
G35 = CATALOG.get("gemini-3.5-flash")
G38 = CATALOG.get("gemini-3.8-flash")
G25 = CATALOG.get("gemini-2.5-flash")
VISION = CATALOG.get("gemini-1.0-pro-vision")  # 2 minutes, 1 video, ignores audio

MAKERS = {
    "mp4": ("scenes.mp4", lambda p: make_video(p)),
    "webm": ("clip.webm", lambda p: make_webm(p)),
    "mov": ("clip.mov", lambda p: make_mov(p)),
    "silent": ("silent.mp4", lambda p: make_video(p, audio=False)),
    "three_minutes": ("three.mp4", lambda p: make_long_video(p, 180)),
    "fifty_minutes": ("talk.mp4", lambda p: make_long_video(p, 3000)),
    "corrupt": ("broken.mp4", lambda p: make_corrupt_mp4(p)),
    "empty": ("empty.mp4", lambda p: make_empty_file(p)),
    "text_mov": ("notes.mov", lambda p: make_text_file(p)),
}


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("fixtures")
    files = {name: make(folder / file) for name, (file, make) in MAKERS.items()}
    files["image_a"], files["image_b"] = make_image_pair(folder)
    return files


@pytest.fixture(scope="module")
def spool(tmp_path_factory) -> Spool:
    return Spool(tmp_path_factory.mktemp("spool"), max_bytes=10**9)


def upload(spool: Spool, path: Path, name: str | None = None) -> MediaSource:
    with path.open("rb") as data:
        return accept_upload(spool, name or path.name, data, MEDIA)


# (fixture, model, verdict, words in the message): ok / note / blocked / refused at upload
MATRIX = [
    ("mp4", G35, "ok", ""),
    ("webm", G35, "ok", ""),
    ("mov", G35, "ok", ""),
    ("silent", G35, "ok", ""),
    ("three_minutes", G35, "ok", ""),
    (
        "fifty_minutes",
        G35,
        "blocked",
        "runs 50:00; Gemini 3.5 Flash takes at most 45:00 with audio",
    ),
    ("fifty_minutes", G25, "blocked", "(1:00:00 without audio). Clip it to 45:00 or less"),
    ("mp4", VISION, "note", "ignores the sound of videos"),
    ("silent", VISION, "ok", ""),
    ("three_minutes", VISION, "blocked", "takes at most 2:00 of video. Clip it"),
    ("image_a", G35, "ok", ""),
    ("image_b", VISION, "ok", ""),
    ("corrupt", G35, "refused", "broken.mp4 is damaged"),
    ("empty", G35, "refused", "empty.mp4 is empty (0 bytes)"),
    ("text_mov", G35, "refused", "notes.mov is not a video or image file"),
]


@pytest.mark.parametrize(
    ("fixture", "model", "verdict", "says"),
    MATRIX,
    ids=[f"{f}-{m.id}" for f, m, *_ in MATRIX],
)
def test_each_fixture_gets_its_verdict_from_the_model(made, spool, fixture, model, verdict, says):
    if verdict == "refused":
        with pytest.raises(SourceError) as refused:
            upload(spool, made[fixture])
        assert says in str(refused.value)
        return
    source = upload(spool, made[fixture])
    findings = check_request([source], model, MEDIA)
    if verdict == "ok":
        assert findings == []
    elif verdict == "note":
        assert blocking(findings) == [] and says in " ".join(notes(findings))
    else:
        assert says in " ".join(blocking(findings))


def test_probe_facts_of_the_fixtures(made, spool):
    webm, mov, silent = (upload(spool, made[n]) for n in ("webm", "mov", "silent"))
    assert (webm.mime_type, webm.probe.video_codec, webm.probe.audio_codec) == (
        "video/webm",
        "vp9",
        "opus",
    )
    assert mov.mime_type == "video/quicktime" and mov.has_audio
    assert silent.has_audio is False and silent.duration_s == pytest.approx(12, abs=0.2)
    talk = upload(spool, made["fifty_minutes"])
    assert talk.duration_s == pytest.approx(3000, abs=1) and talk.has_audio


def test_clipping_the_fifty_minute_talk_makes_it_fit(made, spool):
    talk = upload(spool, made["fifty_minutes"])
    clipped = dataclasses.replace(talk, clip=Clip(start_s=300, end_s=300 + 45 * 60))
    assert check_request([clipped], G35, MEDIA) == []


def test_bad_clip_settings_block_before_any_call(made, spool):
    video = upload(spool, made["mp4"])
    bad = dataclasses.replace(video, clip=Clip(start_s=10, end_s=30, fps=30))
    problems = blocking(check_request([bad], G35, MEDIA))
    assert any("end 0:30 is after the video's end (0:12)" in p for p in problems)
    assert any("30 frames a second is out of range" in p for p in problems)


def test_an_upload_over_the_inline_limit_says_how_to_stage_it(made, spool):
    video = upload(spool, made["mp4"])
    small = dataclasses.replace(MEDIA, inline_limit_bytes=1_000)
    (problem,) = blocking(check_request([video], G35, small))
    assert "REELSCOPE_BUCKET" in problem and "gcloud storage buckets create" in problem
    staged = dataclasses.replace(video, kind=SourceKind.GCS, uri="gs://b/reelscope/x.mp4")
    assert check_request([staged], G35, small) == []


def _link(name: str, kind: SourceKind = SourceKind.HTTPS) -> MediaSource:
    mime = "image/png" if name.endswith(".png") else "video/mp4"
    return MediaSource(kind, mime, name, uri=f"https://example.com/{name}")


def test_an_https_request_takes_one_video_and_up_to_ten_images():
    ten_images = [_link(f"i{i}.png") for i in range(10)]
    assert check_request([_link("a.mp4"), *ten_images], G35, MEDIA) == []
    problems = blocking(check_request([_link("a.mp4"), _link("b.mp4")], G35, MEDIA))
    assert problems == [
        "Vertex AI fetches at most 1 video from https:// links per request; you linked 2. "
        "Remove 1, or upload them (large files are staged to Cloud Storage)."
    ]
    problems = blocking(check_request([*ten_images, _link("i10.png")], G35, MEDIA))
    assert "at most 10 images from https:// links" in problems[0]


def test_which_models_take_media_resolution():
    assert takes_media_resolution(G35) and takes_part_resolution(G35)
    assert takes_media_resolution(G25) and not takes_part_resolution(G25)
    assert not takes_media_resolution(VISION)


# ---------------------------------------------------------------- estimates, by hand


def test_estimate_of_a_clipped_upload_at_two_fps(made, spool):
    video = upload(spool, made["mp4"])  # 12 s, with audio
    clipped = dataclasses.replace(video, clip=Clip(start_s=2, end_s=10, fps=2))
    estimate = estimate_sources(G35, [clipped], "abcd" * 5)
    # 8 s x 2 fps = 16 frames x 70 + 8 s x 25 audio + 16 timestamps x 7 + 20 chars / 4
    assert (estimate.frames, estimate.video_tokens) == (16, 1_120)
    assert (estimate.audio_tokens, estimate.timestamp_tokens, estimate.text_tokens) == (200, 112, 5)
    assert estimate.total == 1_120 + 200 + 112 + 5


def test_estimate_at_high_resolution_per_part_and_per_request(made, spool):
    video = upload(spool, made["silent"])  # 12 s, no audio: 12 frames at 1 fps
    assert estimate_sources(G35, [video], "").total == 12 * 70 + 12 * 7
    assert estimate_sources(G35, [video], "", resolution="HIGH").total == 12 * 280 + 12 * 7
    low_part = dataclasses.replace(video, clip=Clip(resolution="LOW"))
    assert estimate_sources(G35, [low_part], "", resolution="HIGH").total == 12 * 70 + 12 * 7
    # Gemini 2.5: 258 a frame, 66 at LOW; audio 32 a second (seed 003)
    assert estimate_sources(G25, [video], "", resolution="LOW").total == 12 * 66 + 12 * 7


def test_estimate_of_images_and_of_links(made, spool):
    images = [upload(spool, made["image_a"]), upload(spool, made["image_b"])]
    assert estimate_sources(G35, images, "").image_tokens == 2 * 1120
    assert estimate_sources(G35, images, "", resolution="MEDIUM").image_tokens == 2 * 560
    link = _link("a.mp4", SourceKind.YOUTUBE)
    unknown = estimate_sources(G35, [link], "")
    assert unknown.total == 0 and "length is unknown" in unknown.notes[0]
    ranged = dataclasses.replace(link, clip=Clip(start_s=60, end_s=120))
    # a link's sound is unknown: counted as if it had audio (an upper bound)
    assert estimate_sources(G35, [ranged], "").total == 60 * 70 + 60 * 25 + 60 * 7


def test_a_long_video_at_24_fps_gets_proposals_that_fit(made, spool):
    talk = upload(spool, made["fifty_minutes"])
    fast = dataclasses.replace(talk, clip=Clip(fps=24, resolution="HIGH"))
    estimate = estimate_sources(G35, [fast], "")
    assert estimate.total == 3000 * 24 * (280 + 7) + 3000 * 25 and not estimate.fits
    proposals = fit_proposals(G35, [fast], "")
    assert {p.change for _, p in proposals} == {"lower fps", "lower resolution", "clip"}
    for label, proposal in proposals:
        assert label == "talk.mp4" and proposal.total_tokens <= G35.input_token_limit
    lower = next(p for _, p in proposals if p.change == "lower fps")
    refit = dataclasses.replace(talk, clip=Clip(fps=lower.fps, resolution="HIGH"))
    assert estimate_sources(G35, [refit], "").fits
    assert fit_proposals(G35, [talk], "") == []  # at 1 fps it fits as it is
    assert math.isclose(G35.input_token_limit, 1_048_576)


# ---------------------------------------------------------------- gs:// objects


def test_gs_objects_are_looked_up_with_the_storage_client(storage_emulator, tmp_path):
    client = make_storage_client(
        Settings(project="test-project", storage_emulator_host=storage_emulator)
    )
    bucket = f"rules-{uuid.uuid4().hex[:10]}"
    client.create_bucket(bucket)
    client.bucket(bucket).blob("videos/a.mp4").upload_from_string(b"x" * 100)
    assert check_gcs_access(client, f"gs://{bucket}/videos/a.mp4") is None
    missing = check_gcs_access(client, f"gs://{bucket}/videos/missing.mp4")
    assert missing.blocking and "does not exist" in missing.message
    assert "gcloud storage ls" in missing.message


@pytest.mark.parametrize(
    ("link", "backend", "refused"),
    [
        ("gs://my-bucket/holiday.mp4", "vertex", False),
        ("gs://my-bucket/holiday.mp4", "gemini-api", True),
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "gemini-api", False),
    ],
)
def test_the_developer_api_refuses_cloud_storage_with_the_way_out(link, backend, refused):
    model = load_catalog().get("gemini-3.8-flash")
    source = source_from_link(link)
    problems = blocking(check_request([source], model, load_catalog().media, backend=backend))
    gs_problems = [p for p in problems if "cannot read Cloud Storage" in p]
    assert bool(gs_problems) is refused
    if refused:
        assert "REELSCOPE_BACKEND=vertex" in gs_problems[0] and link in gs_problems[0]
