"""The lab's QuotaLimiter: slots for cells, and one 429 pause per model shared by every cell."""

from __future__ import annotations

import asyncio
import time

import pytest

from reelscope.lab.online import CellStart, OnlineGrid
from reelscope.lab.pacing import MAX_PAUSE_S, QUIET_S, QuotaLimiter

A, B = "model-a", "model-b"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def play(limiter: QuotaLimiter, clock: FakeClock, script: list[tuple]) -> list[tuple]:
    """Play (time, action, cell) steps; each 429 records (wait it got, cells of A allowed).

    Actions: "send" (a call goes out: its pacer's before_call, which must not have to wait),
    "429" (that cell's last call got a 429), "ok" (it got its first chunk).
    """
    pacers: dict[str, object] = {}
    seen = []
    for at, action, cell in script:
        clock.now = at
        pacer = pacers.setdefault(cell, limiter.pacer(A))
        if action == "send":
            assert limiter.pause_left(A) == 0, f"{cell} sent at {at} while {A} is paused"
            asyncio.run(pacer.before_call())
        elif action == "429":
            seen.append((round(pacer.throttled(), 3), limiter.allowed(A)))
        else:
            pacer.succeeded()
    return seen


SCRIPTS = {
    "the first 429 pauses 1 s and halves the cells in flight": (
        [(0, "send", "c1"), (0.1, "429", "c1")],
        [(1.0, 8)],
    ),
    "a burst of 429s from calls already out: one pause, halved once, each waits what is left": (
        [(0, "send", "c1"), (0, "send", "c2"), (0, "send", "c3"),
         (0.1, "429", "c1"), (0.3, "429", "c2"), (0.6, "429", "c3")],
        [(1.0, 8), (0.8, 8), (0.5, 8)],
    ),
    "a 429 on a call sent after the pause: the pause doubles, halved again": (
        [(0, "send", "c1"), (0, "429", "c1"),
         (1, "send", "c1"), (1, "429", "c1"),
         (3, "send", "c1"), (3, "429", "c1")],
        [(1.0, 8), (2.0, 4), (4.0, 2)],
    ),
    "the pause stops doubling at its cap, and cells in flight at one": (
        [step for t in (0, 1, 3, 7, 15, 31, 51, 71)
         for step in ((t, "send", "c1"), (t, "429", "c1"))],
        [(1.0, 8), (2.0, 4), (4.0, 2), (8.0, 1), (16.0, 1), (MAX_PAUSE_S, 1), (MAX_PAUSE_S, 1),
         (MAX_PAUSE_S, 1)],
    ),
    "each success lets one more cell fly; three in a row reset the pause": (
        [(0, "send", "c1"), (0, "429", "c1"),
         (1, "send", "c1"), (1, "429", "c1"),  # 2 s, 4 allowed
         (3, "send", "c2"), (3, "ok", "c2"), (3, "send", "c3"), (3, "ok", "c3"),
         (3, "send", "c1"), (3, "429", "c1"),  # two successes: still doubling; 6 // 2
         (7, "send", "c2"), (7, "ok", "c2"), (7, "send", "c3"), (7, "ok", "c3"),
         (7, "send", "c4"), (7, "ok", "c4"),
         (7, "send", "c1"), (7, "429", "c1")],  # three: back to 1 s; 6 // 2
        [(1.0, 8), (2.0, 4), (4.0, 3), (1.0, 3)],
    ),
    "successes of calls sent before the pause say nothing about the quota since": (
        [(0, "send", "c1"), (0, "send", "c2"), (0, "send", "c3"), (0, "send", "c4"),
         (0.1, "429", "c1"), (0.2, "ok", "c2"), (0.2, "ok", "c3"), (0.2, "ok", "c4"),
         (1.1, "send", "c1"), (1.1, "429", "c1")],
        [(1.0, 8), (2.0, 4)],
    ),
    "a 429 long after the last pause ended starts again from 1 s": (
        [(0, "send", "c1"), (0, "429", "c1"),
         (1, "send", "c1"), (1, "429", "c1"),
         (3 + QUIET_S + 1, "send", "c1"), (3 + QUIET_S + 1, "429", "c1")],
        [(1.0, 8), (2.0, 4), (1.0, 2)],
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", SCRIPTS)
def test_backoff_is_shared_per_model(name: str) -> None:
    script, expected = SCRIPTS[name]
    clock = FakeClock()
    assert play(QuotaLimiter(16, clock=clock), clock, script) == expected


def test_slots_are_capped_in_all_and_per_model_and_refused_while_a_model_is_paused() -> None:
    clock = FakeClock()
    limiter = QuotaLimiter(4, clock=clock)
    assert [limiter.try_acquire(A) for _ in range(3)] == [True] * 3
    assert limiter.try_acquire(B) and not limiter.try_acquire(B), "4 in all"
    assert limiter.in_flight() == 4

    limiter.release(A)
    pacer = limiter.pacer(A)
    asyncio.run(pacer.before_call())
    assert pacer.throttled() == 1.0 and limiter.allowed(A) == 2
    assert not limiter.try_acquire(A), "A is paused"
    clock.now = 1.0
    assert not limiter.try_acquire(A), "A has 2 in flight, 2 allowed"
    limiter.release(A)
    assert limiter.try_acquire(A), "1 of A's 2 in flight, pause over"
    assert not limiter.try_acquire(A)
    assert limiter.try_acquire(B) and not limiter.try_acquire(B), "4 in all again"


def test_a_paused_model_leaves_the_others_alone() -> None:
    clock = FakeClock()
    limiter = QuotaLimiter(16, clock=clock)
    pacer = limiter.pacer(A)
    asyncio.run(pacer.before_call())
    pacer.throttled()
    assert limiter.pause_left(A) == 1.0 and limiter.pause_left(B) == 0
    assert limiter.allowed(B) == 16 and limiter.try_acquire(B)


def test_watchers_hear_releases_pauses_and_successes_until_they_stop_watching() -> None:
    clock = FakeClock()
    limiter = QuotaLimiter(2, clock=clock)
    heard = []
    unwatch = limiter.watch(lambda: heard.append(limiter.allowed(A)))
    assert limiter.try_acquire(A)
    pacer = limiter.pacer(A)
    asyncio.run(pacer.before_call())
    pacer.throttled()
    clock.now = 1.0
    asyncio.run(pacer.before_call())
    pacer.succeeded()
    limiter.release(A)
    assert heard == [1, 2, 2]
    unwatch()
    limiter.release(A)
    assert len(heard) == 3


def test_before_call_waits_out_the_pause_on_the_real_clock() -> None:
    limiter = QuotaLimiter(first_pause_s=0.3)
    first, second = limiter.pacer(A), limiter.pacer(A)
    asyncio.run(first.before_call())
    asyncio.run(second.before_call())
    assert first.throttled() == pytest.approx(0.3, abs=0.05)
    started = time.monotonic()
    asyncio.run(second.before_call())
    assert time.monotonic() - started >= 0.25
    assert second.throttled() == pytest.approx(0.6, abs=0.05), "sent after the pause: doubled"


def test_a_limiter_needs_room_for_one_cell() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        QuotaLimiter(0)


def test_a_grids_progress_counts_ended_cells_and_says_when_its_models_are_paused() -> None:
    clock = FakeClock()
    limiter = QuotaLimiter(clock=clock)
    pacer = limiter.pacer(A)
    asyncio.run(pacer.before_call())
    clock.now = 0.4
    pacer.throttled()  # A paused until 1.4

    def never(_pacer):
        raise AssertionError("nothing starts in this test")

    cells = [CellStart("a0", A, never), CellStart("a1", A, never), CellStart("b0", B, never)]
    grid = OnlineGrid(cells, limiter, label="grid")
    clock.now = 0.5
    assert grid.progress().text == "0 of 3 cells, paused 1 s for quota"
    grid.stop(["a0", "a1"])
    assert grid.progress().text == "2 of 3 cells", "no cell of A is left to wait"
    assert grid.progress().fraction == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="its own key"):
        OnlineGrid([*cells, cells[0]], limiter, label="grid")
