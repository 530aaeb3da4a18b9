"""Demo replay: a kept run played again at its recorded pace (or faster), with no request sent.

A replay is a new Run whose events are the kept ones, each delivered when its recorded `at`
(divided by the speed) comes round, so the same view follows it as it followed the original:
same text, same chunks, same timings, same ending. Its spec says what it replays
(`extra["replay_of"]`, the original date and the speed), so the recorder does not keep it again
and the page can mark it as a replay.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Sequence

from reelscope.generation.events import ErrorKind, Event, Failed, RunError, is_terminal
from reelscope.runs.run import Run, RunSpec
from reelscope.runs.service import Runs

SPEEDS = (1.0, 2.0, 4.0)
REPLAY_OF = "replay_of"  # the same key reelscope.store.recorder skips
# How a kept run with no ending ends when it is shown or replayed: its worker is gone.
INTERRUPTED = RunError(
    ErrorKind.UNKNOWN,
    "Interrupted: the server stopped while this run was streaming, so it has no ending.",
    "Open it in Ask and run it again for the whole answer.",
)


def ended(events: Sequence[Event]) -> list[Event]:
    """Kept events that end: a run cut by a server that stopped ends with INTERRUPTED.

    Events with no terminal one were kept by a worker that is gone, so they are never live:
    History's detail and a replay both end them here, the same way, at the last event's time.
    """
    kept = list(events)
    if kept and is_terminal(kept[-1]):
        return kept
    return [*kept, Failed(kept[-1].at if kept else 0.0, INTERRUPTED)]


def replay_spec(spec: RunSpec, original_id: str, started_at: dt.datetime, speed: float) -> RunSpec:
    """The original spec, marked as a replay of `original_id` at `speed`."""
    extra = {
        **spec.extra,
        REPLAY_OF: original_id,
        "original_started_at": started_at.isoformat(),
        "speed": speed,
    }
    return dataclasses.replace(spec, extra=extra)


def replay_events(events: Sequence[Event], speed: float = 1.0) -> AsyncIterator[Event]:
    """The events again, each at its recorded time over `speed`, measured from the first await.

    Times are kept against one start rather than slept one gap at a time, so sleeping late for
    one chunk never makes the following ones late as well.
    """
    if speed <= 0:
        raise ValueError("The replay speed must be above 0.")
    return _paced(ended(events), speed)  # a run cut by a crash still ends readably


async def _paced(events: list[Event], speed: float) -> AsyncIterator[Event]:
    loop = asyncio.get_running_loop()
    start = loop.time()
    for event in events:
        wait = start + event.at / speed - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        yield event


def start_replay(
    runs: Runs,
    spec: RunSpec,
    events: Sequence[Event],
    *,
    original_id: str,
    started_at: dt.datetime,
    speed: float = 1.0,
) -> Run:
    """Replay kept events through `runs`' worker, as a live run the views can follow."""
    run = Run(replay_spec(spec, original_id, started_at, speed))
    return runs.adopt(run, lambda: replay_events(events, speed))


def replay_info(run: Run) -> dict[str, object] | None:
    """What a replay run replays (original id, date, speed), or None for an ordinary run."""
    extra = run.spec.extra
    if not extra.get(REPLAY_OF):
        return None
    return {
        "original_id": extra[REPLAY_OF],
        "original_started_at": dt.datetime.fromisoformat(str(extra["original_started_at"])),
        "speed": float(extra.get("speed", 1.0)),
        "model_id": run.spec.model_id,
    }
