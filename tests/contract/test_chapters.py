"""Chapters over real HTTP: the request carries JSON mode and the schema; chunks become chapters.

Streaming into chapters runs on both backends (`backend_settings`); the request-shape test
links a gs:// video, which only Vertex AI reads."""

from __future__ import annotations

import json

from reelscope.catalog import load_catalog
from reelscope.chapters.analysis import analysis_extra, read_state
from reelscope.chapters.modes import BUILTIN_MODES, Kind, response_schema
from reelscope.generation.runner import Target
from reelscope.media import source_from_link
from reelscope.parameters import defaults_for
from reelscope.settings import choose_backend
from reelscope.vertex import make_genai_client
from tests.requests import checked

MODEL = load_catalog().get("gemini-3.5-flash")
TARGET = Target("test-project", "global")
CHAPTERS_MODE = next(m for m in BUILTIN_MODES if m.kind is Kind.CHAPTERS)
HOUR_CHAPTERS = [
    {"start": "00:00", "end": "20:00", "title": "Opening", "summary": "Intro.", "speech": "Hi"},
    {"start": "20:00", "end": "59:30", "title": "Talk", "summary": "Talk.", "speech": "So"},
    {"start": "59:30", "end": "75:10", "title": "Past the hour", "summary": "Q&A.", "speech": "Q"},
    {"start": "1:15:10", "end": "1:20:00", "title": "Credits", "summary": "End.", "speech": ""},
]
ANSWER = json.dumps({"chapters": HOUR_CHAPTERS})


def start(runs, emulator_settings, sources=()):
    client = make_genai_client(emulator_settings)
    run = runs.start_generation(
        client,
        MODEL,
        checked(MODEL, sources),
        CHAPTERS_MODE.prompt,
        defaults_for(MODEL),
        target=TARGET,
        response_schema=response_schema(CHAPTERS_MODE.kind),
        extra=analysis_extra(CHAPTERS_MODE),
    )
    return run, client


def test_request_carries_json_mode_and_the_schema(runs, emulator_settings, vertex):
    vertex.set_reply(ANSWER, chunks=6)
    run, _client = start(runs, emulator_settings, [source_from_link("gs://bucket/talk.mp4")])
    assert run.wait_done(10)
    sent = vertex.last_request("streamGenerateContent")
    config = sent.generation_config
    assert config["responseMimeType"] == "application/json"
    schema = config["responseSchema"]
    assert schema["type"] == "OBJECT"
    item = schema["properties"]["chapters"]["items"]
    assert set(item["properties"]) == {"start", "end", "title", "summary", "speech"}
    assert sorted(item["required"]) == ["end", "speech", "start", "summary", "title"]
    ordering = item.get("propertyOrdering") or item.get("property_ordering")
    assert ordering == ["start", "end", "title", "summary", "speech"]
    assert sent.parts[0]["fileData"]["fileUri"] == "gs://bucket/talk.mp4"
    assert run.spec.extra["schema"] == response_schema(Kind.CHAPTERS).model_dump(
        mode="json", exclude_none=True
    )


def test_chapters_arrive_in_several_chunks_and_each_shows_when_whole(
    runs, backend_settings, vertex
):
    vertex.set_reply(ANSWER, chunks=12, chunk_delay=0.05)
    run, _client = start(runs, backend_settings)
    counts = []
    while not run.done:
        counts.append(len(read_state(run.state(), CHAPTERS_MODE).parsed.segments))
        run.wait_for_news(run.event_count, timeout=1)
    final = read_state(run.state(), CHAPTERS_MODE)
    assert len(vertex.last_request().answer.chunk_times) == 12
    assert {1, 2, 3} <= set(counts)  # one by one, as each object closed
    assert counts == sorted(counts)
    assert final.parsed.whole and not final.incomplete
    assert [s.start_s for s in final.parsed.segments] == [0, 1200, 3570, 4510]
    assert final.parsed.segments[2].end_s == 4510  # 75:10
    backend = choose_backend(backend_settings).backend
    sent = vertex.last_request("streamGenerateContent")
    assert sent.backend == backend and run.spec.extra["backend"] == backend
    assert sent.generation_config["responseMimeType"] == "application/json"


def test_a_cut_stream_keeps_the_chapters_so_far_marked_incomplete(runs, backend_settings, vertex):
    vertex.set_reply(ANSWER, chunks=10)
    vertex.cut_stream(after_chunks=7)
    run, _client = start(runs, backend_settings)
    assert run.wait_done(10)
    reading = read_state(run.state(), CHAPTERS_MODE)
    assert reading.incomplete and not reading.parsed.whole
    titles = [s.title for s in reading.parsed.segments]
    assert titles and titles == [c["title"] for c in HOUR_CHAPTERS[: len(titles)]]
    assert len(titles) < 4
    assert f"the {len(titles)} item" in reading.note
