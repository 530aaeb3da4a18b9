"""Clock times as Reelscope writes them: `M:SS` under an hour, `H:MM:SS` from an hour on.

One writer for every page, message and export. A time is first rounded to the millisecond
(so 7.3 s is not 7.299999 s), then cut, never rounded up, to the precision asked for: a
chapter at 0:03.5 shown to the second is at 0:03, the second a player shows while it plays.
Each caller asks for the precision its reader or format can hold (`decimals`); digits that
are zero are not written (0:03.5, not 0:03.500).
"""

from __future__ import annotations

MAX_DECIMALS = 3  # milliseconds: what every format we write can hold at most


def clock(seconds: float, *, decimals: int = 0) -> str:
    """`M:SS` / `H:MM:SS`, with up to `decimals` digits of the second where they are not zero."""
    if not 0 <= decimals <= MAX_DECIMALS:
        raise ValueError(f"decimals must be 0 to {MAX_DECIMALS}, not {decimals}")
    hours, minutes, whole, millis = _split(seconds)
    step = 10 ** (MAX_DECIMALS - decimals)
    fraction = f"{millis // step:0{decimals}d}".rstrip("0") if decimals else ""
    tail = f".{fraction}" if fraction else ""
    if hours:
        return f"{hours}:{minutes:02d}:{whole:02d}{tail}"
    return f"{minutes}:{whole:02d}{tail}"


def cue_time(seconds: float, separator: str = ".") -> str:
    """`HH:MM:SS.mmm` (WebVTT) or, with separator ",", `HH:MM:SS,mmm` (SRT): fixed width."""
    hours, minutes, whole, millis = _split(seconds)
    return f"{hours:02d}:{minutes:02d}:{whole:02d}{separator}{millis:03d}"


def _split(seconds: float) -> tuple[int, int, int, int]:
    total_ms = round(max(seconds, 0.0) * 1000)
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole, millis = divmod(rest, 1000)
    return hours, minutes, whole, millis
