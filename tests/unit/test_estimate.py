"""Token and cost estimates against hand-computed values, from the real catalog file."""

from __future__ import annotations

import copy
import tomllib

import pytest

from reelscope.catalog import CATALOG_FILE, CatalogError, load_catalog, parse_catalog
from reelscope.estimate import (
    VideoInput,
    clip_seconds,
    estimate_request,
    frame_count,
    propose_fit,
)

CATALOG = load_catalog()
G35 = CATALOG.get("gemini-3.5-flash")
G35_LITE = CATALOG.get("gemini-3.5-flash-lite")
G25 = CATALOG.get("gemini-2.5-flash")
VISION = CATALOG.get("gemini-1.0-pro-vision")
LIMIT = 1_048_576


def test_one_minute_with_audio_on_gemini_3() -> None:
    # 60 frames x 70 + 60 s x 25 + 60 timestamps x 7 + 40 chars / 4
    estimate = estimate_request(G35, [VideoInput(60, has_audio=True)], prompt="abcd" * 10)
    assert (estimate.frames, estimate.video_tokens) == (60, 4_200)
    assert (estimate.audio_tokens, estimate.timestamp_tokens) == (1_500, 420)
    assert (estimate.text_tokens, estimate.total) == (10, 6_130)
    assert estimate.share_of_limit == pytest.approx(6_130 / LIMIT)
    assert estimate.price is G35.price and estimate.fits
    assert estimate.cost_usd == pytest.approx(6_130 * 1.50 / 1_000_000)  # one rate for all input


@pytest.mark.parametrize(
    ("model", "resolution", "per_frame", "audio_per_s"),
    [
        (G35, None, 70, 25),
        (G35, "LOW", 70, 25),
        (G35, "MEDIUM", 70, 25),
        (G35, "HIGH", 280, 25),
        (G25, None, 258, 32),
        (G25, "LOW", 66, 32),
        (G25, "HIGH", 258, 32),
    ],
)
def test_tokens_per_frame_by_model_and_resolution(
    model, resolution, per_frame, audio_per_s
) -> None:
    estimate = estimate_request(model, [VideoInput(30, has_audio=True)], resolution=resolution)
    assert estimate.video_tokens == 30 * per_frame
    assert estimate.audio_tokens == 30 * audio_per_s
    assert estimate.total == 30 * per_frame + 30 * audio_per_s + 30 * 7


def test_fps_and_clip_set_the_frame_count() -> None:
    assert clip_seconds(600, start_s=100, end_s=110.5) == 10.5
    assert clip_seconds(600, start_s=590) == 10
    assert clip_seconds(60, end_s=90) == 60
    assert frame_count(10.5, 2) == 21 and frame_count(12, 1) == 12 and frame_count(12.5, 1) == 13
    assert frame_count(100, 0.1) == 10
    estimate = estimate_request(G35, [VideoInput(10.5, has_audio=True, fps=2)])
    # 21 frames x (70 + 7) + 11 one-second audio stems x 25
    assert (estimate.frames, estimate.total) == (21, 21 * 77 + 11 * 25)


def test_a_video_without_audio_and_a_model_that_ignores_audio() -> None:
    silent = estimate_request(G35, [VideoInput(60, has_audio=False)])
    assert silent.audio_tokens == 0 and silent.total == 60 * 77
    vision = estimate_request(VISION, [VideoInput(60, has_audio=True)])
    assert (vision.audio_tokens, vision.timestamp_tokens, vision.total) == (0, 0, 60 * 258)


def test_a_per_part_resolution_wins_over_the_request() -> None:
    videos = [VideoInput(10, False, resolution="HIGH"), VideoInput(10, False)]
    estimate = estimate_request(G35, videos, resolution="LOW")
    assert estimate.frames == 20 and estimate.video_tokens == 10 * 280 + 10 * 70


def test_images_by_resolution_and_unknown_image_rates() -> None:
    assert estimate_request(G35, images=2).image_tokens == 2 * 1_120
    assert estimate_request(G35, images=2, resolution="LOW").image_tokens == 2 * 280
    assert estimate_request(G35, images=1, resolution="MEDIUM").image_tokens == 560
    older = estimate_request(G25, images=3)
    assert older.image_tokens == 0 and "images not counted" in older.notes[0]


def test_cost_from_the_catalog_price_with_its_source() -> None:
    estimate = estimate_request(G35_LITE, [VideoInput(600, has_audio=True)], prompt="x" * 400)
    expected_tokens = 600 * 70 + 600 * 25 + 600 * 7 + 100
    assert estimate.total == expected_tokens
    assert estimate.cost_usd == pytest.approx(expected_tokens * 0.30 / 1_000_000)
    assert estimate.price is not None and estimate.price.sources[0].startswith("https://")
    assert estimate.price.as_of.year == 2026 and "third-party table" in estimate.price.basis


def test_audio_input_is_priced_at_its_own_rate_where_the_catalog_has_one() -> None:
    lite = CATALOG.get("gemini-3.1-flash-lite")  # $0.25 input, $0.50 audio input
    estimate = estimate_request(lite, [VideoInput(60, has_audio=True)], prompt="abcd" * 10)
    assert estimate.cost.input_by_modality_usd == pytest.approx(
        {"VIDEO": (4_200 + 420) * 0.25e-6, "AUDIO": 1_500 * 0.50e-6, "TEXT": 10 * 0.25e-6}
    )
    assert estimate.cost_usd == pytest.approx((4_630 * 0.25 + 1_500 * 0.50) / 1_000_000)
    assert estimate.cost.output_usd is None  # not known before the run


def test_the_estimate_is_priced_at_the_backend_that_will_answer() -> None:
    clip = [VideoInput(60, has_audio=True)]
    on_vertex = estimate_request(G25, clip, prompt="abcd" * 10)  # audio at $1.00 on Vertex AI
    on_key = estimate_request(G25, clip, prompt="abcd" * 10, backend="gemini-api")
    assert on_key.total == on_vertex.total
    assert on_key.price is G25.price_on("gemini-api") and "paid tier" in on_key.price.basis
    assert on_key.cost_usd == pytest.approx(on_key.total * 0.30 / 1_000_000)
    assert on_vertex.cost_usd > on_key.cost_usd  # its audio tokens cost more there
    unpriced = estimate_request(G35, clip, backend="gemini-api")  # served by Vertex AI alone
    assert unpriced.price is None and unpriced.cost_usd is None
    assert unpriced.cost.notes == (G35.no_price_reason("gemini-api"),)


def test_an_hour_at_24_fps_high_does_not_fit_and_gets_proposals_that_do() -> None:
    video = VideoInput(3_600, has_audio=True, fps=24, resolution="HIGH")
    estimate = estimate_request(G35, [video])
    assert estimate.total == 86_400 * (280 + 7) + 3_600 * 25 and not estimate.fits
    proposals = {p.change: p for p in propose_fit(G35, video, other_tokens=1_000)}
    assert set(proposals) == {"lower fps", "lower resolution", "clip"}
    for proposal in proposals.values():
        assert proposal.total_tokens <= LIMIT
    fps = proposals["lower fps"]  # 3,312 frames x 287 + 90,000 audio + 1,000 other
    assert (fps.fps, fps.resolution, fps.total_tokens) == (0.92, "HIGH", 1_041_544)
    assert estimate_request(G35, [VideoInput(3_600, True, 0.93, "HIGH")]).total + 1_000 > LIMIT
    low = proposals["lower resolution"]  # 12,420 frames x 77 + 90,000 + 1,000
    assert (low.fps, low.resolution, low.total_tokens) == (3.45, "LOW", 1_047_340)
    clip = proposals["clip"]  # 151 s x (24 x 287 + 25) + 1,000
    assert (clip.clip_s, clip.total_tokens) == (151.0, 1_044_863)
    assert "at most 2:31 (of 1:00:00)" in clip.message


def test_nothing_to_propose_when_it_fits() -> None:
    assert propose_fit(G35, VideoInput(600, True)) == []


def _raw_catalog() -> dict:
    with CATALOG_FILE.open("rb") as handle:
        return tomllib.load(handle)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda m: m["media_tokens"]["frame"].update(ULTRA=5), "is not default or one of"),
        (lambda m: m["media_tokens"]["frame"].update(high=-1), "positive whole number"),
        (lambda m: m["media_tokens"]["frame"].update(default=71), "video_tokens_per_frame"),
        (lambda m: m["media_tokens"].update(sources=[]), "https:// sources"),
        (lambda m: m["price"].pop("as_of"), "as_of"),
        (lambda m: m["price"].update(input_usd_per_mtok="cheap"), "non-negative numbers"),
        (lambda m: m["price"].update(sources=["http://x"]), "https:// sources"),
    ],
)
def test_the_loader_validates_token_rates_and_prices(change, words) -> None:
    raw = copy.deepcopy(_raw_catalog())
    model = next(m for m in raw["models"] if m["id"] == "gemini-3.5-flash-lite")
    change(model)
    with pytest.raises(CatalogError, match=words):
        parse_catalog(raw)
