"""A grid's plan: each video checked against each model, and its cost online and as a batch."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from reelscope.catalog import load_catalog
from reelscope.costs import TokenUse, batch_price, cost_of
from reelscope.lab.grid import GridSpec, ModelColumn, VideoRow
from reelscope.lab.plan import ASSUMED_OUTPUT_TOKENS, BATCH, ONLINE, RowSource, plan_grid
from reelscope.media import MediaSource, SourceKind, source_from_link
from reelscope.parameters import defaults_for
from reelscope.probe import VideoProbe

CATALOG = load_catalog()
TODAY = dt.date(2026, 12, 3)
FLASH = CATALOG.get("gemini-3.5-flash")
LITE = CATALOG.get("gemini-3.1-flash-lite")
RETIRED = CATALOG.get("gemini-2.0-flash")


def upload(seconds: float, name: str = "clip.mp4") -> MediaSource:
    probe = VideoProbe("mp4", "video/mp4", seconds, 640, 360, 25.0, "h264", "aac", True, 1000)
    return MediaSource(SourceKind.UPLOAD, "video/mp4", name, sha256="a" * 64,
                       path=Path("/nonexistent"), size=1000, probe=probe)  # fmt: skip


def spec(*models, rows=2, variants=("Describe {video}.",)) -> GridSpec:
    columns = tuple(ModelColumn(m.id, defaults_for(m)) for m in models)
    videos = tuple(VideoRow(f"k{i}", f"v{i}.mp4") for i in range(rows))
    return GridSpec(variants, columns, videos)


def test_each_cell_is_estimated_and_the_batch_costs_the_batch_rate():
    grid = spec(FLASH, LITE)
    rows = [
        RowSource(source_from_link("gs://lib/v0.mp4")),
        RowSource(source_from_link("gs://lib/v1.mp4")),
    ]
    online = plan_grid(grid, rows, CATALOG, how=ONLINE, today=TODAY)
    batch = plan_grid(grid, rows, CATALOG, how=BATCH, today=TODAY)
    assert len(online.runnable) == len(batch.runnable) == 4
    assert online.output_tokens == 4 * ASSUMED_OUTPUT_TOKENS
    expected_online = sum(
        cost_of(c.model.price, TokenUse(c.input_tokens, ASSUMED_OUTPUT_TOKENS)).total_usd
        for c in online.cells
    )
    expected_batch = sum(
        cost_of(
            batch_price(c.model.price), TokenUse(c.input_tokens, ASSUMED_OUTPUT_TOKENS)
        ).total_usd
        for c in batch.cells
    )
    assert online.usd == pytest.approx(expected_online)
    assert batch.usd == pytest.approx(expected_batch)
    assert 0 < batch.usd < online.usd
    assert "4 cells have a video whose length is not known" in online.notes[-1]


def test_a_retired_model_and_an_unreadable_video_refuse_their_cells_only():
    grid = spec(FLASH, RETIRED)
    rows = [RowSource(upload(60)), RowSource(None, "v1.mp4 is no longer in the library.")]
    plan = plan_grid(grid, rows, CATALOG, how=ONLINE, today=TODAY)
    refused = {c.cell.key: c.refusal for c in plan.refused}
    assert set(refused) == {"r0-v0-m1", "r1-v0-m0", "r1-v0-m1"}
    assert "retired" in refused["r0-v0-m1"]
    assert "no longer in the library" in refused["r1-v0-m0"]
    assert [c.cell.key for c in plan.runnable] == ["r0-v0-m0"]


def test_a_video_too_long_for_the_model_is_refused_with_the_gates_reason():
    plan = plan_grid(spec(FLASH, rows=1), [RowSource(upload(4 * 3600))], CATALOG, today=TODAY)
    assert not plan.runnable
    assert plan.refused[0].refusal and "long" in plan.refused[0].refusal.lower()


def test_a_batch_takes_only_videos_in_cloud_storage():
    rows = [RowSource(upload(60)), RowSource(source_from_link("https://example.com/a.mp4"))]
    plan = plan_grid(spec(FLASH), rows, CATALOG, how=BATCH, today=TODAY)
    assert not plan.runnable
    assert all("Cloud Storage" in (c.refusal or "") for c in plan.refused)
    online = plan_grid(spec(FLASH, rows=1), rows[:1], CATALOG, how=ONLINE, today=TODAY)
    assert len(online.runnable) == 1  # the same upload goes inline online


def test_a_model_without_a_price_is_named_and_left_out_of_the_total():
    unpriced = next(m for m in CATALOG.models if m.price is None and m.is_callable(TODAY))
    rows = [RowSource(source_from_link("gs://lib/v0.mp4"))]
    plan = plan_grid(spec(unpriced, rows=1), rows, CATALOG, today=TODAY)
    assert plan.usd == 0.0
    assert any(unpriced.name in note for note in plan.notes)


def test_on_the_developer_api_cells_follow_its_dates_and_prices():
    """3.6 Flash: retired on Vertex AI on Nov 19, 2026, no shutdown announced on the Developer
    API; priced there at that API's own figure."""
    three_six = CATALOG.get("gemini-3.6-flash")
    rows = [RowSource(upload(60))]
    on_vertex = plan_grid(spec(three_six, rows=1), rows, CATALOG, today=TODAY)
    on_key = plan_grid(spec(three_six, rows=1), rows, CATALOG, today=TODAY, backend="gemini-api")
    assert not on_vertex.runnable and "retired" in on_vertex.refused[0].refusal
    (cell,) = on_key.runnable
    price = three_six.price_on("gemini-api")
    expected = cost_of(price, TokenUse(cell.input_tokens, ASSUMED_OUTPUT_TOKENS)).total_usd
    assert on_key.usd == pytest.approx(expected) and on_key.usd > 0
