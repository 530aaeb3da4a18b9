"""Exports checked against each format's rules: WebVTT, SRT, YouTube lists, Markdown, JSON."""

from __future__ import annotations

import json
import re

from reelscope.chapters.exports import to_json, to_markdown, to_srt, to_webvtt, to_youtube
from reelscope.chapters.parse import Segment
from reelscope.chapters.timestamps import parse_timestamp

HOUR = [
    Segment(0, 1200, "Intro", "Hello *there*", "We begin"),
    Segment(1200, 3600, "Middle", "Talk"),
    Segment(3600, 4510.5, "Past the hour", "Late"),
    Segment(4510.5, 4800, "End --> credits", "Line one\n\nLine two"),
]
VTT_TIMING = re.compile(
    r"^(\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3}) --> (\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3})$"
)
SRT_TIMING = re.compile(
    r"^(\d{2}):([0-5]\d):([0-5]\d),(\d{3}) --> (\d{2}):([0-5]\d):([0-5]\d),(\d{3})$"
)


def cue_blocks(text: str) -> list[list[str]]:
    return [block.split("\n") for block in text.strip().split("\n\n")]


def to_s(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def test_webvtt_header_and_cue_timings() -> None:
    text = to_webvtt(HOUR, 4800)
    assert text.startswith("WEBVTT\n\n")
    blocks = cue_blocks(text)[1:]
    assert len(blocks) == 4
    previous_start = -1.0
    for block, segment in zip(blocks, HOUR, strict=True):
        timing = VTT_TIMING.match(block[1])
        assert timing, block
        start, end = to_s(*timing.groups()[:4]), to_s(*timing.groups()[4:])
        assert start == segment.start_s and end == segment.end_s
        assert start > previous_start and end > start
        previous_start = start
        assert all("-->" not in line for line in block[2:])  # no timing lookalike in a cue
    assert blocks[2][1] == "01:00:00.000 --> 01:15:10.500"
    assert blocks[3][2] == "End → credits"


def test_captions_export_their_text_with_no_blank_line_inside_a_cue() -> None:
    blocks = cue_blocks(to_webvtt(HOUR, 4800, body="summary"))[1:]
    assert blocks[3][2:] == ["Line one", "Line two"]


def test_srt_numbering_and_comma_millis() -> None:
    blocks = cue_blocks(to_srt(HOUR, 4800))
    assert [b[0] for b in blocks] == ["1", "2", "3", "4"]
    for block in blocks:
        assert SRT_TIMING.match(block[1]), block[1]
    assert blocks[2][1] == "01:00:00,000 --> 01:15:10,500"


def test_youtube_list_follows_the_rules() -> None:
    result = to_youtube(HOUR, 4800)
    assert result.problems == ()
    lines = result.text.strip().split("\n")
    assert lines[0] == "0:00 Intro"
    assert lines[2] == "1:00:00 Past the hour"
    starts = [parse_timestamp(line.split(" ", 1)[0]) for line in lines]
    assert starts[0] == 0 and len(starts) >= 3
    gaps = [b - a for a, b in zip(starts, [*starts[1:], 4800], strict=True)]
    assert min(gaps) >= 10


def test_youtube_moves_a_late_first_chapter_to_zero_and_says_so() -> None:
    late = [Segment(5, 20, "A"), Segment(20, 40, "B"), Segment(40, 60, "C")]
    result = to_youtube(late, 60)
    assert result.text.startswith("0:00 A\n")
    assert "0:05" in result.notes[0]


def test_youtube_says_why_when_the_rules_cannot_be_met() -> None:
    two = to_youtube([Segment(0, 30, "A"), Segment(30, 60, "B")], 60)
    assert two.text is None and "at least 3 chapters" in two.problems[0]
    short = to_youtube([Segment(0, 30, "A"), Segment(30, 35, "Blink"), Segment(35, 60, "C")], 60)
    assert short.text is None and "'Blink' (0:30) lasts 5 s" in short.problems[0]
    assert to_youtube([], None).text is None


def test_markdown_has_times_and_escapes_model_text() -> None:
    text = to_markdown(HOUR)
    assert "## 1:00:00–1:15:10.5 Past the hour" in text
    assert "Hello \\*there\\*" in text
    assert "> We begin" in text


def test_json_round_trips_times() -> None:
    data = json.loads(to_json(HOUR, {"quantity": "x"}))
    assert data["quantity"] == "x"
    assert data["items"][2]["start"] == "1:00:00" and data["items"][2]["end"] == "1:15:10.5"
    assert [i["start_s"] for i in data["items"]] == [s.start_s for s in HOUR]


def test_markdown_keeps_a_chapter_s_fraction_of_a_second() -> None:
    text = to_markdown([Segment(3.5, 8, "Opening"), Segment(8, 12.25, "Next")])
    assert "## 0:03.5–0:08 Opening" in text
    assert "## 0:08–0:12.25 Next" in text


ODD_TIMES = [
    Segment(0.125, 3.5, "A"),
    Segment(3.5, 17.875, "B"),
    Segment(17.875, 3600.001, "C"),
    Segment(3600.001, 3720.5, "D"),
]


def test_every_export_keeps_the_precision_its_format_holds() -> None:
    """Milliseconds where the format holds them; YouTube reads whole seconds only."""
    starts = [s.start_s for s in ODD_TIMES]
    ends = [s.end_s for s in ODD_TIMES]
    headings = [line[3:] for line in to_markdown(ODD_TIMES).splitlines() if line.startswith("## ")]
    spans = [heading.split(" ", 1)[0].split("–") for heading in headings]
    assert [parse_timestamp(a) for a, _ in spans] == starts
    assert [parse_timestamp(b) for _, b in spans] == ends
    items = json.loads(to_json(ODD_TIMES))["items"]
    assert [parse_timestamp(i["start"]) for i in items] == starts
    assert [parse_timestamp(i["end"]) for i in items] == ends
    for text, timing in ((to_webvtt(ODD_TIMES), VTT_TIMING), (to_srt(ODD_TIMES), SRT_TIMING)):
        cues = [timing.match(line) for line in text.splitlines() if "-->" in line]
        assert [to_s(*c.groups()[:4]) for c in cues] == starts
        assert [to_s(*c.groups()[4:]) for c in cues] == ends
    listed = to_youtube([Segment(0, 12.5, "A"), Segment(12.5, 30.9, "B"), Segment(30.9, 50, "C")])
    assert [line.split(" ")[0] for line in listed.text.splitlines()] == ["0:00", "0:12", "0:30"]
