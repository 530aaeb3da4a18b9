"""Paired timing: two ways of doing the same work, in alternating rounds, compared per round.

Each round times both, and which goes first alternates, so drift and warm caches hit both
alike; a round's two times are neighbours, so their ratio cancels most machine noise.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def alternate(
    subject: Callable[[], object],
    baseline: Callable[[], object],
    *,
    rounds: int,
    warmup: int,
    between: Callable[[], None] = lambda: None,
) -> tuple[list[float], list[float]]:
    """Seconds per round for `subject` and for `baseline`, warm-up rounds left out."""
    times: dict[str, list[float]] = {"subject": [], "baseline": []}
    order = (("subject", subject), ("baseline", baseline))
    for round_number in range(warmup + rounds):
        for name, work in order if round_number % 2 else order[::-1]:
            started = time.perf_counter()
            work()
            if round_number >= warmup:
                times[name].append(time.perf_counter() - started)
            between()
    return times["subject"], times["baseline"]


def ratios(subject: list[float], baseline: list[float]) -> list[float]:
    """Each round's subject time over its baseline time, sorted."""
    return sorted(s / b for s, b in zip(subject, baseline, strict=True))
