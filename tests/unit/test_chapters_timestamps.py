"""Timestamps as models write them (MM:SS, H:MM:SS, 75:10, MM:SS.sss, seconds), read."""

from __future__ import annotations

import pytest

from reelscope.chapters.timestamps import TimestampError, parse_timestamp


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
