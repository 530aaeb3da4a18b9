"""Timestamps as models write them, and as each export format wants them.

Google's guidance for video prompts is `MM:SS`, `H:MM:SS` past an hour and `MM:SS.sss` when
sampling above 1 fps. Models also write `75:10` for an hour and a quarter, and plain seconds
(`12`, `12.5`, `"12.5s"`): all are read. What we write is `M:SS` / `H:MM:SS`.
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


def format_clock(seconds: float, *, millis: bool = False) -> str:
    """`M:SS` under an hour, `H:MM:SS` from an hour on; `.sss` when `millis` is asked."""
    total_ms = round(max(seconds, 0.0) * 1000)
    if not millis:
        total_ms = (total_ms // 1000) * 1000  # floor to the second a viewer sees
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    tail = f".{ms:03d}" if millis else ""
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}{tail}"
    return f"{minutes}:{secs:02d}{tail}"


def format_cue_time(seconds: float, separator: str = ".") -> str:
    """`HH:MM:SS.mmm` (WebVTT) or, with separator ",", `HH:MM:SS,mmm` (SRT)."""
    total_ms = round(max(seconds, 0.0) * 1000)
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"
