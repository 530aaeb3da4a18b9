"""Timestamps as models write them (MM:SS, H:MM:SS, 75:10, MM:SS.sss, seconds) and as we write them."""

from __future__ import annotations

import pytest

from reelscope.chapters.timestamps import (
    TimestampError,
    format_clock,
    format_cue_time,
    parse_timestamp,
)


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ("00:00", 0.0),
        ("0:07", 7.0),
        ("04:30", 270.0),
        ("1:02:03", 3723.0),
        ("01:02:03", 3723.0),
        ("75:10", 4510.0),  # MM:SS beyond 60:00
        ("12:34.567", 754.567),
        ("1:00:00.250", 3600.25),
        ("42", 42.0),
        ("12.5", 12.5),
        ("12.5s", 12.5),
        (" 3 seconds ", 3.0),
        (90, 90.0),
        (90.25, 90.25),
    ],
)
def test_reads_every_way_models_write_times(written: object, seconds: float) -> None:
    assert parse_timestamp(written) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["", "soon", "1:60", "1:75:00", "-3", -1, None, True, "1:2:3:4"])
def test_refuses_what_is_not_a_time_and_quotes_it(bad: object) -> None:
    with pytest.raises(TimestampError, match="timestamp"):
        parse_timestamp(bad)


@pytest.mark.parametrize(
    ("seconds", "clock"),
    [
        (0, "0:00"),
        (9.9, "0:09"),
        (75, "1:15"),
        (3599, "59:59"),
        (3600, "1:00:00"),
        (4510, "1:15:10"),
    ],
)
def test_clock_is_m_ss_then_h_mm_ss(seconds: float, clock: str) -> None:
    assert format_clock(seconds) == clock
    assert parse_timestamp(clock) == int(seconds)


def test_clock_with_millis_round_trips() -> None:
    assert format_clock(754.567, millis=True) == "12:34.567"
    assert parse_timestamp(format_clock(4510.25, millis=True)) == pytest.approx(4510.25)


def test_cue_times_for_webvtt_and_srt() -> None:
    assert format_cue_time(4510.25) == "01:15:10.250"
    assert format_cue_time(4510.25, ",") == "01:15:10,250"
    assert format_cue_time(0) == "00:00:00.000"
