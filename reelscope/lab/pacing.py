"""One quota, shared by every cell of a grid: how many run at once, and a 429's pause for all.

Vertex AI's quota is per model, and a grid sends many calls to each model at once. Left alone,
every cell that gets a 429 retries on its own timer, so a burst of 429s comes back as a burst
of retries. The QuotaLimiter instead lets the first 429 of a model pause that model for every
cell (1 s, doubling while the 429s go on, up to ~20 s), and halves how many of its cells may be
in flight (then one more back per success: additive increase, multiplicative decrease).

The grid's scheduler (reelscope/lab/online.py, on a thread of its own) takes a slot before it
starts a cell and gives it back when the cell's run ends; each run's calls (on the run worker's
asyncio loop) go through a ModelPacer. Everything shared goes through one lock.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from reelscope.generation.runner import Pacer

MAX_CONCURRENCY = 16  # cells in flight: a 30-cell grid runs in two waves
FIRST_PAUSE_S = 1.0
MAX_PAUSE_S = 20.0
QUIET_S = MAX_PAUSE_S  # a 429 this long after a pause ended starts again from FIRST_PAUSE_S
RESET_AFTER_SUCCESSES = 3  # successes in a row after a pause that start it again too


@dataclass
class _ModelQuota:
    """What the limiter knows of one model's quota."""

    allowed: int  # cells of this model that may be in flight
    in_flight: int = 0
    pause_s: float = 0.0  # the last pause; 0 once it was reset
    paused_at: float = float("-inf")  # when the last pause was decided
    paused_until: float = float("-inf")
    successes: int = 0  # since the last pause was decided


class QuotaLimiter:
    """Cells in flight and per-model 429 backoff for one grid. Thread-safe."""

    def __init__(
        self,
        max_concurrency: int = MAX_CONCURRENCY,
        *,
        first_pause_s: float = FIRST_PAUSE_S,
        max_pause_s: float = MAX_PAUSE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, not {max_concurrency}")
        self.max_concurrency = max_concurrency
        self._first_pause_s = first_pause_s
        self._max_pause_s = max_pause_s
        self._clock = clock
        self._lock = threading.Lock()
        self._models: dict[str, _ModelQuota] = {}
        self._watchers: dict[int, Callable[[], None]] = {}
        self._next_watcher = 0

    # -- what the grid's scheduler calls --

    def try_acquire(self, model_id: str) -> bool:
        """Take a slot for a cell of `model_id` if one is free now (not paused, under both caps)."""
        with self._lock:
            quota = self._quota(model_id)
            free = (
                self._in_flight() < self.max_concurrency
                and quota.in_flight < quota.allowed
                and self._clock() >= quota.paused_until
            )
            if free:
                quota.in_flight += 1
            return free

    def release(self, model_id: str) -> None:
        """Give back the slot of a cell that ended."""
        with self._lock:
            quota = self._quota(model_id)
            quota.in_flight = max(0, quota.in_flight - 1)
        self._changed()

    def pacer(self, model_id: str) -> ModelPacer:
        """The pacer of one cell's run: its calls wait out `model_id`'s pauses."""
        return ModelPacer(self, model_id)

    def pause_left(self, model_id: str) -> float:
        """Seconds until `model_id`'s pause ends (0 when it is not paused)."""
        with self._lock:
            return max(0.0, self._quota(model_id).paused_until - self._clock())

    def allowed(self, model_id: str) -> int:
        """How many of `model_id`'s cells may be in flight now."""
        with self._lock:
            return self._quota(model_id).allowed

    def in_flight(self) -> int:
        """Cells holding a slot, every model together."""
        with self._lock:
            return self._in_flight()

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` (quick; from any thread) after a slot is given back or a limit or
        pause changed. Returns the function that stops watching."""
        with self._lock:
            token = self._next_watcher
            self._next_watcher += 1
            self._watchers[token] = callback

        def unwatch() -> None:
            with self._lock:
                self._watchers.pop(token, None)

        return unwatch

    # -- what a ModelPacer reports --

    def now(self) -> float:
        """The limiter's clock (time.monotonic unless a test gave another)."""
        return self._clock()

    def report_throttled(self, model_id: str, sent_at: float) -> float:
        """A call sent at `sent_at` got a 429: the seconds it waits before trying again.

        A call sent before the model's current pause was decided belongs to the burst that
        caused it: it waits out that pause and changes nothing. A later one proves the pause
        was too short: the pause doubles (or starts again at the first one after a quiet spell
        or a run of successes) and the model's cells in flight are halved.
        """
        with self._lock:
            quota = self._quota(model_id)
            now = self._clock()
            if sent_at <= quota.paused_at:
                return max(0.0, quota.paused_until - now)
            quiet = now - quota.paused_until > QUIET_S
            if quota.pause_s == 0 or quiet:
                quota.pause_s = self._first_pause_s
            else:
                quota.pause_s = min(quota.pause_s * 2, self._max_pause_s)
            quota.paused_at = now
            quota.paused_until = now + quota.pause_s
            quota.allowed = max(1, quota.allowed // 2)
            quota.successes = 0
            wait = quota.pause_s
        self._changed()
        return wait

    def report_success(self, model_id: str, sent_at: float) -> None:
        """A call sent at `sent_at` got its first chunk or response: one more cell may fly.

        Unless it was sent before the model's current pause was decided: then it says nothing
        about the quota since.
        """
        with self._lock:
            quota = self._quota(model_id)
            if sent_at <= quota.paused_at:
                return
            quota.allowed = min(self.max_concurrency, quota.allowed + 1)
            quota.successes += 1
            if quota.successes >= RESET_AFTER_SUCCESSES:
                quota.pause_s = 0.0
        self._changed()

    # -- inside the lock --

    def _quota(self, model_id: str) -> _ModelQuota:
        quota = self._models.get(model_id)
        if quota is None:
            quota = self._models[model_id] = _ModelQuota(allowed=self.max_concurrency)
        return quota

    def _in_flight(self) -> int:
        return sum(quota.in_flight for quota in self._models.values())

    def _changed(self) -> None:
        with self._lock:
            watchers = list(self._watchers.values())
        for callback in watchers:
            callback()


class ModelPacer(Pacer):
    """One run's calls to one model, paced by the grid's QuotaLimiter (see runner.Pacer)."""

    def __init__(self, limiter: QuotaLimiter, model_id: str) -> None:
        self._limiter = limiter
        self.model_id = model_id
        self._sent_at = float("-inf")

    async def before_call(self) -> None:
        """Wait until the model's pause (which may grow meanwhile) has passed."""
        while (left := self._limiter.pause_left(self.model_id)) > 0:
            await asyncio.sleep(left)
        self._sent_at = self._limiter.now()

    def throttled(self) -> float:
        return self._limiter.report_throttled(self.model_id, self._sent_at)

    def succeeded(self) -> None:
        self._limiter.report_success(self.model_id, self._sent_at)
