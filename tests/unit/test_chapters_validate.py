"""Chapters checked against the video: every problem fixed where safe, and always reported."""

from __future__ import annotations

from reelscope.chapters.modes import Kind
from reelscope.chapters.parse import Segment
from reelscope.chapters.validate import LengthFrom, check


def seg(start: float, end: float | None, title: str = "T") -> Segment:
    return Segment(start, end, title or "", f"about {title}")


def rules(checked) -> list[str]:
    return [f.rule for f in checked.findings]


def test_good_chapters_pass_untouched() -> None:
    chapters = [seg(0, 4, "A"), seg(4, 8, "B"), seg(8, 12, "C")]
    checked = check(chapters, Kind.CHAPTERS, duration_s=12)
    assert checked.segments == tuple(chapters)
    assert checked.findings == ()
    assert checked.length_from is LengthFrom.PROBE


def test_out_of_range_is_clamped_or_removed() -> None:
    checked = check([seg(0, 5, "A"), seg(5, 20, "B"), seg(30, 40, "Ghost")], Kind.CHAPTERS, 12)
    assert [(s.title, s.start_s, s.end_s) for s in checked.segments] == [
        ("A", 0, 5),
        ("B", 5, 12),
    ]
    messages = " ".join(f.message for f in checked.findings)
    assert "clamped to 0:12" in messages and "'Ghost' starts at 0:30" in messages
    assert all(f.fixed for f in checked.findings)


def test_unordered_starts_are_sorted() -> None:
    checked = check([seg(8, 12, "C"), seg(0, 4, "A"), seg(4, 8, "B")], Kind.CHAPTERS, 12)
    assert [s.title for s in checked.segments] == ["A", "B", "C"]
    assert rules(checked) == ["order"]


def test_overlaps_end_at_the_next_start() -> None:
    checked = check([seg(0, 6, "A"), seg(4, 8, "B"), seg(8, 12, "C")], Kind.CHAPTERS, 12)
    assert [(s.start_s, s.end_s) for s in checked.segments] == [(0, 4), (4, 8), (8, 12)]
    assert rules(checked) == ["overlap"]
    assert "past the next start 0:04" in checked.findings[0].message


def test_duplicates_are_merged() -> None:
    checked = check([seg(0, 4, "A"), seg(4, 8, "B"), seg(4.2, 8, "B again")], Kind.CHAPTERS, 12)
    assert [s.title for s in checked.segments] == ["A", "B / B again"]
    assert checked.segments[1].summary == "about B about B again"
    assert rules(checked) == ["duplicate"]


def test_empty_titles_are_named_after_their_time() -> None:
    checked = check([seg(0, 4, "A"), seg(4, 8, "  "), seg(8, 12, "C")], Kind.CHAPTERS, 12)
    assert checked.segments[1].title == "Untitled (0:04)"
    assert rules(checked) == ["title"]


def test_missing_and_backwards_ends_are_filled_from_the_next_start() -> None:
    checked = check([seg(0, None, "A"), seg(4, 2, "B"), seg(8, None, "C")], Kind.CHAPTERS, 12)
    assert [(s.start_s, s.end_s) for s in checked.segments] == [(0, 4), (4, 8), (8, 12)]
    assert rules(checked) == ["overlap"]


def test_without_a_probe_the_length_comes_from_the_answer_and_the_check_says_so() -> None:
    checked = check([seg(0, 1800, "A"), seg(1800, 4510, "B")], Kind.CHAPTERS, None)
    assert checked.duration_s == 4510 and checked.length_from is LengthFrom.ANSWER
    (finding,) = checked.findings
    assert finding.rule == "duration" and not finding.fixed
    assert "1:15:10" in finding.message and "not probed" in finding.message


def test_a_length_the_player_read_is_checked_against_and_named() -> None:
    # A gs:// video of 0:12 whose answer runs to 0:25: the player's length catches it.
    answer = [seg(0, 6, "A"), seg(6, 25, "B"), seg(20, 25, "Ghost")]
    checked = check(answer, Kind.CHAPTERS, 12, LengthFrom.PLAYER)
    assert checked.duration_s == 12 and checked.length_from is LengthFrom.PLAYER
    assert [(s.title, s.start_s, s.end_s) for s in checked.segments] == [
        ("A", 0, 6),
        ("B", 6, 12),
    ]
    length, *fixes = checked.findings
    assert length.rule == "duration" and not length.fixed
    assert "0:12" in length.message and "the player read" in length.message
    assert [f.rule for f in fixes] == ["range", "range"]


def test_no_length_and_no_times_leaves_the_length_unknown() -> None:
    checked = check([], Kind.CHAPTERS, None, LengthFrom.PLAYER)
    assert checked.duration_s is None and checked.length_from is None
    assert checked.findings == ()


def test_one_hour_video_with_times_beyond_sixty_minutes() -> None:
    chapters = [seg(i * 600, (i + 1) * 600, f"Part {i}") for i in range(7)]  # up to 70:00
    checked = check(chapters, Kind.CHAPTERS, duration_s=3900)  # 65:00
    assert checked.segments[-1].start_s == 3600 and checked.segments[-1].end_s == 3900
    assert "1:10:00" in checked.findings[0].message


def test_other_kinds_keep_overlaps_but_are_sorted_and_ranged() -> None:
    captions = [seg(2, 5, "speech"), seg(0, 3, "visual"), seg(20, 21, "speech")]
    checked = check(captions, Kind.CAPTIONS, 12)
    assert [(s.start_s, s.end_s) for s in checked.segments] == [(0, 3), (2, 5)]
    assert rules(checked) == ["range", "order"]
