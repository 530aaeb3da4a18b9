"""Structured answers read while they stream: whole items only, fences tolerated, cuts kept."""

from __future__ import annotations

import json

import pytest

from reelscope.chapters.modes import Kind
from reelscope.chapters.parse import parse_answer, strip_fences

CHAPTERS = [
    {"start": "00:00", "end": "00:04", "title": "Red", "summary": "A red screen.", "speech": ""},
    {"start": "00:04", "end": "00:08", "title": "Green", "summary": "Green.", "speech": "Hello"},
    {"start": "00:08", "end": "00:12", "title": "Blue", "summary": "Blue.", "speech": "Bye"},
]
ANSWER = json.dumps({"chapters": CHAPTERS})


def test_good_json() -> None:
    parsed = parse_answer(ANSWER, Kind.CHAPTERS)
    assert parsed.whole
    assert [s.title for s in parsed.segments] == ["Red", "Green", "Blue"]
    assert [(s.start_s, s.end_s) for s in parsed.segments] == [(0, 4), (4, 8), (8, 12)]
    assert parsed.segments[1].speech == "Hello"


@pytest.mark.parametrize(
    "wrapped",
    [
        f"```json\n{ANSWER}\n```",
        f"```\n{ANSWER}\n```\nThese are the chapters.",
        f"Here you go:\n```json\n{ANSWER}```",
        f"{ANSWER}\n\nHope this helps!",
    ],
)
def test_json_in_code_fences_or_followed_by_prose(wrapped: str) -> None:
    parsed = parse_answer(wrapped, Kind.CHAPTERS)
    assert parsed.whole
    assert len(parsed.segments) == 3


def test_a_code_fence_inside_a_summary_does_not_end_the_json() -> None:
    """Model text is anything: a summary may hold a fenced block, or a title three backticks."""
    chapters = [
        {**CHAPTERS[0], "summary": 'Shows:\n```mermaid\ngraph TD; A-->B\n```\nand "quotes\\"'},
        {**CHAPTERS[1], "title": "```"},
        CHAPTERS[2],
    ]
    for wrapped in (json.dumps({"chapters": chapters}), f"```json\n{json.dumps(chapters)}\n```"):
        parsed = parse_answer(wrapped, Kind.CHAPTERS)
        assert parsed.whole, wrapped
        assert [s.title for s in parsed.segments] == ["Red", "```", "Blue"]
        assert parsed.segments[0].summary.startswith("Shows:\n```mermaid")


def test_a_bare_array_is_read_too() -> None:
    assert len(parse_answer(json.dumps(CHAPTERS), Kind.CHAPTERS).segments) == 3


def test_each_chapter_appears_exactly_when_its_object_is_complete() -> None:
    """Feed the answer one character at a time: the count grows only at each closing brace."""
    text = json.dumps({"chapters": CHAPTERS}, indent=1)
    counts = [len(parse_answer(text[:n], Kind.CHAPTERS).segments) for n in range(len(text) + 1)]
    assert counts == sorted(counts)  # never goes back
    for index in range(3):
        # the last field's closing quote is the moment; no chapter before it
        speech = json.dumps(CHAPTERS[index]["speech"])
        closing = text.index(f'"speech": {speech}', text.index(CHAPTERS[index]["title"]))
        done_at = closing + len(f'"speech": {speech}')
        assert counts[done_at - 1] == index
        assert counts[done_at] == index + 1


def test_numbers_and_seconds_and_long_times() -> None:
    items = [
        {"start": 0, "end": 65.5, "title": "A", "summary": "", "speech": ""},
        {"start": "1:05.5", "end": "75:10", "title": "B", "summary": "", "speech": ""},
        {"start": "1:15:10", "end": "1:20:00", "title": "C", "summary": "", "speech": ""},
    ]
    parsed = parse_answer(json.dumps({"chapters": items}), Kind.CHAPTERS)
    assert [(s.start_s, s.end_s) for s in parsed.segments] == [
        (0, 65.5),
        (65.5, 4510),
        (4510, 4800),
    ]


def test_truncated_json_keeps_the_chapters_received_so_far() -> None:
    cut = ANSWER[: ANSWER.index("Blue") + 2]
    parsed = parse_answer(cut, Kind.CHAPTERS)
    assert not parsed.whole
    assert [s.title for s in parsed.segments] == ["Red", "Green"]


def test_a_bad_timestamp_skips_that_item_and_says_why() -> None:
    items = [*CHAPTERS[:1], {**CHAPTERS[1], "start": "soon"}, CHAPTERS[2]]
    parsed = parse_answer(json.dumps({"chapters": items}), Kind.CHAPTERS)
    assert [s.title for s in parsed.segments] == ["Red", "Blue"]
    assert "Item 2" in parsed.problems[0] and "soon" in parsed.problems[0]


def test_not_json_says_so() -> None:
    parsed = parse_answer("{ this is not json", Kind.CHAPTERS)
    assert parsed.empty and parsed.problems == ("The answer is not JSON.",)
    assert parse_answer("no json at all", Kind.CHAPTERS).empty


def test_series_header_and_values() -> None:
    answer = {
        "quantity": "people on screen",
        "unit": "count",
        "points": [
            {"time": "0:00", "value": 2, "note": "two"},
            {"time": "0:05", "value": 3, "note": "x"},
        ],
    }
    parsed = parse_answer(json.dumps(answer), Kind.SERIES)
    assert parsed.header == {"quantity": "people on screen", "unit": "count"}
    assert [(s.start_s, s.value) for s in parsed.segments] == [(0, 2), (5, 3)]


def test_strip_fences_of_a_stream_still_in_its_fence() -> None:
    assert strip_fences('```json\n{"chapters": [') == '{"chapters": ['
    assert strip_fences("```js") == ""
