"""One writer of clock times, for pages, messages and every export."""

from __future__ import annotations

import pytest

from reelscope.chapters.timestamps import parse_timestamp
from reelscope.clock import clock, cue_time


@pytest.mark.parametrize(
    ("seconds", "written"),
    [
        (0, "0:00"),
        (9.9, "0:09"),  # cut, never rounded up: the second a player shows
        (75, "1:15"),
        (3599, "59:59"),
        (3599.999, "59:59"),
        (3600, "1:00:00"),
        (4510, "1:15:10"),
        (-2, "0:00"),
    ],
)
def test_m_ss_then_h_mm_ss(seconds: float, written: str) -> None:
    assert clock(seconds) == written


@pytest.mark.parametrize(
    ("seconds", "decimals", "written"),
    [
        (3.5, 3, "0:03.5"),  # zero digits are not written
        (3.0, 3, "0:03"),
        (754.567, 3, "12:34.567"),
        (754.567, 1, "12:34.5"),
        (7.3, 1, "0:07.3"),  # 7.3 is 7.2999… as a float: rounded to the millisecond first
        (59.96, 1, "0:59.9"),  # never rounded up into the next second
        (4510.25, 2, "1:15:10.25"),
        (0.001, 3, "0:00.001"),
    ],
)
def test_fractions_to_the_precision_asked_for(seconds: float, decimals: int, written: str):
    assert clock(seconds, decimals=decimals) == written


@pytest.mark.parametrize("seconds", [0.0, 0.5, 3.5, 12.25, 754.567, 3600.001, 4510.25, 86399.999])
def test_milliseconds_round_trip_through_the_reader(seconds: float) -> None:
    assert parse_timestamp(clock(seconds, decimals=3)) == pytest.approx(seconds, abs=1e-9)


def test_precision_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="decimals"):
        clock(1, decimals=4)


def test_cue_times_for_webvtt_and_srt() -> None:
    assert cue_time(4510.25) == "01:15:10.250"
    assert cue_time(4510.25, ",") == "01:15:10,250"
    assert cue_time(0) == "00:00:00.000"
