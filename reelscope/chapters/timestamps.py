"""Timestamps as models write them, read into seconds.

Google's guidance for video prompts is `MM:SS`, `H:MM:SS` past an hour and `MM:SS.sss` when
sampling above 1 fps. Models also write `75:10` for an hour and a quarter, and plain seconds
(`12`, `12.5`, `"12.5s"`): all are read. Writing times is reelscope/clock.py's job.
"""

from __future__ import annotations

import math
import re

_CLOCK = re.compile(
    r"^\s*(?:(?P<h>\d+):)?(?P<m>\d+):(?P<s>\d+(?:\.\d+)?)\s*$"  # [H:]M:SS[.sss]
)
_SECONDS = re.compile(r"^\s*(?P<s>\d+(?:\.\d+)?)\s*(?:s|sec|seconds)?\s*$", re.IGNORECASE)


class TimestampError(ValueError):
    """A timestamp that cannot be read; the message quotes it."""


def parse_timestamp(value: object) -> float:
    """Seconds from `MM:SS`, `H:MM:SS`, `75:10`, `MM:SS.sss`, or plain seconds (number or text)."""
    if isinstance(value, bool):
        raise TimestampError(f"{value!r} is not a timestamp")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise TimestampError(f"{value!r} is not a timestamp")
        return float(value)
    if not isinstance(value, str):
        raise TimestampError(f"{value!r} is not a timestamp")
    if match := _CLOCK.match(value):
        hours = int(match["h"] or 0)
        minutes, seconds = int(match["m"]), float(match["s"])
        if seconds >= 60 or (match["h"] is not None and minutes >= 60):
            raise TimestampError(f"'{value}' is not a valid MM:SS or H:MM:SS timestamp")
        return hours * 3600 + minutes * 60 + seconds  # minutes past 59 (75:10) are accepted
    if match := _SECONDS.match(value):
        return float(match["s"])
    raise TimestampError(f"'{value}' is not a timestamp (expected MM:SS, H:MM:SS or seconds)")
