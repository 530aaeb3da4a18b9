"""A lab grid's cells as real runs over real HTTP, under one QuotaLimiter, proven at the emulator."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from reelscope.catalog import load_catalog
from reelscope.generation.events import Retrying
from reelscope.generation.runner import Target
from reelscope.lab.online import CellStart, CellState, CellStatus, OnlineGrid
from reelscope.lab.pacing import QuotaLimiter
from reelscope.parameters import defaults_for
from reelscope.retries import RetryPolicy
from reelscope.runs import Runs
from reelscope.settings import choose_backend
from reelscope.tasks import TaskState
from reelscope.vertex import make_genai_client
from tests.requests import checked
from tests.vertex_emulator import GENERATION_RPCS, RecordedRequest

MODEL = load_catalog().get("gemini-3.5-flash")
TARGET = Target("test-project", "global")


def cell(runs: Runs, client, key: str) -> CellStart:
    def start(pacer):
        params = defaults_for(MODEL)
        prompt = f"Describe {key}"
        return runs.start_generation(
            client, MODEL, checked(MODEL), prompt, params, target=TARGET, pacer=pacer
        )

    return CellStart(key, MODEL.id, start)


def grid_of(runs: Runs, client, count: int, limiter: QuotaLimiter, **options) -> OnlineGrid:
    cells = [cell(runs, client, f"r{i}-v0-m0") for i in range(count)]
    return OnlineGrid(cells, limiter, label="test grid", **options)


def generate_requests(vertex) -> list[RecordedRequest]:
    return [r for r in vertex.requests if r.rpc in GENERATION_RPCS]


def most_at_once(requests: list[RecordedRequest]) -> int:
    """The most requests the emulator was answering at one moment: from arrival to the last
    chunk it sent (the client cannot have seen the answer end before that chunk left)."""
    edges = []
    for request in requests:
        assert request.answer.chunk_times, "every answer here streams"
        edges += [(request.received_at, 1), (request.answer.chunk_times[-1], -1)]
    most = current = 0
    for _, step in sorted(edges, key=lambda edge: (edge[0], edge[1])):
        current += step
        most = max(most, current)
    return most


def grid_threads(grid: OnlineGrid) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.endswith(grid.id[:8])]


def test_cells_in_flight_never_exceed_the_cap_and_the_grid_keeps_only_ids(
    runs, backend_settings, vertex
):
    """On both backends (`backend_settings`): the grid is the same on the Developer API."""
    client = make_genai_client(backend_settings)
    backend = choose_backend(backend_settings).backend
    vertex.set_reply("One scene, then another.", chunks=4, chunk_delay=0.1)
    told: dict[str, str] = {}
    grid = grid_of(
        runs, client, 10, QuotaLimiter(4), on_run=lambda key, run: told.setdefault(key, run.id)
    )
    grid.begin()
    assert grid.wait(timeout=30), grid.progress().text

    assert grid.status is TaskState.DONE
    assert most_at_once(generate_requests(vertex)) == 4
    assert {r.backend for r in generate_requests(vertex)} == {backend}
    cells = grid.cells()
    assert {status.state for status in cells.values()} == {CellState.COMPLETED}
    assert {key: status.run_id for key, status in cells.items()} == told
    assert all(
        runs.get(run_id).state().text == "One scene, then another." for run_id in told.values()
    )
    assert grid.progress().text == "10 of 10 cells" and grid.progress().fraction == 1.0
    assert grid._runs == {} and grid._cells == {}, "a finished grid holds ids, not runs"
    assert grid_threads(grid) == [], "the scheduler's thread ends with the grid"


def test_a_run_starts_only_when_its_cell_gets_a_slot(runs, client, vertex):
    vertex.set_reply("Slow.", chunks=3, chunk_delay=0.5)
    grid = grid_of(runs, client, 2, QuotaLimiter(1))
    grid.begin()
    assert grid.wait(timeout=30)
    first, second = (runs.get(grid.cell(key).run_id) for key in ("r0-v0-m0", "r1-v0-m0"))
    assert second.started_at >= first.started_at
    # its time to first token counts from sending, not from queueing behind the first (1 s)
    assert second.state().first_token_at < 0.8


def test_a_429_burst_makes_fewer_calls_with_the_limiter_than_without(runs, client, vertex):
    """30 cells while every third request gets 429 for 2 s: RetryPolicy alone retries every
    429 on its own timer; the limiter holds the whole grid in the model's shared pause."""
    vertex.set_reply("Fine.", chunks=2, chunk_delay=0.05)
    vertex.throttle(every=3, seconds=2.0)
    grid = grid_of(runs, client, 30, QuotaLimiter())
    grid.begin()
    assert grid.wait(timeout=60), grid.progress().text
    with_limiter = len(generate_requests(vertex))
    assert {s.state for s in grid.cells().values()} == {CellState.COMPLETED}
    delays = [
        event.delay_s
        for status in grid.cells().values()
        for event in runs.get(status.run_id).events()
        if isinstance(event, Retrying)
    ]
    assert delays and max(delays) <= 2.0 + 0.01, "the shared pause, not each cell's own backoff"

    vertex.clear()
    vertex.throttle(every=3, seconds=2.0)
    alone = [cell(runs, client, f"b{i}").start(None) for i in range(30)]
    assert all(run.wait_done(timeout=60) for run in alone)
    assert all(run.state().completed for run in alone)
    without_limiter = len(generate_requests(vertex))

    assert with_limiter < without_limiter, (with_limiter, without_limiter)


def test_a_pacers_wait_is_the_retry_delay_and_the_retry_waits_it_out(runs, client, vertex):
    vertex.fail(429)
    grid = grid_of(runs, client, 1, QuotaLimiter(first_pause_s=0.4))
    grid.begin()
    assert grid.wait(timeout=30)
    run = runs.get(grid.cell("r0-v0-m0").run_id)
    (retrying,) = [e for e in run.events() if isinstance(e, Retrying)]
    assert retrying.delay_s == pytest.approx(0.4, abs=0.05)
    first, second = generate_requests(vertex)
    assert second.received_at - first.received_at >= 0.35
    assert run.state().completed


def test_stop_a_queued_cell_and_a_running_one(runs, client, vertex):
    vertex.set_reply(" ".join(f"w{i}" for i in range(40)), chunks=20, chunk_delay=0.1)
    grid = grid_of(runs, client, 3, QuotaLimiter(1))
    grid.begin()
    assert wait_for(lambda: grid.cell("r0-v0-m0").run_id is not None)
    first = runs.get(grid.cell("r0-v0-m0").run_id)
    assert first.wait_until(lambda s: bool(s.text), timeout=10)

    grid.stop(["r2-v0-m0"])
    assert grid.cell("r2-v0-m0") == CellStatus(CellState.STOPPED), "stopped without a run"
    grid.stop(["r0-v0-m0"])
    assert first.state().stopped
    answer = generate_requests(vertex)[0].answer
    assert answer.wait(timeout=1.0) and answer.how == "client_closed"

    assert grid.wait(timeout=30), grid.progress().text
    states = {key: status.state for key, status in grid.cells().items()}
    assert states == {
        "r0-v0-m0": CellState.STOPPED,
        "r1-v0-m0": CellState.COMPLETED,
        "r2-v0-m0": CellState.STOPPED,
    }
    assert grid.cell("r2-v0-m0").run_id is None
    assert len(generate_requests(vertex)) == 2, "a stopped queued cell sends nothing"
    assert grid.status is TaskState.DONE


def test_cancel_stops_every_cell(runs, client, vertex):
    vertex.set_reply("Long.", chunks=20, chunk_delay=0.1)
    grid = grid_of(runs, client, 5, QuotaLimiter(2))
    grid.begin()
    assert wait_for(lambda: len(generate_requests(vertex)) == 2)
    assert grid.cancel()
    assert grid.wait(timeout=5)
    assert grid.status is TaskState.CANCELLED
    assert {s.state for s in grid.cells().values()} == {CellState.STOPPED}
    assert not grid.cancel()
    time.sleep(0.3)
    assert len(generate_requests(vertex)) == 2


def test_a_cell_whose_start_raises_fails_alone(runs, client, vertex):
    def refuse(pacer):
        raise ValueError("The video r1 is no longer in the library: add it again.")

    cells = [cell(runs, client, "r0"), CellStart("r1", MODEL.id, refuse), cell(runs, client, "r2")]
    limiter = QuotaLimiter(1)
    grid = OnlineGrid(cells, limiter, label="test grid")
    grid.begin()
    assert grid.wait(timeout=30)

    assert grid.status is TaskState.DONE
    failed = grid.cell("r1")
    assert failed.state is CellState.FAILED and failed.run_id is None
    assert failed.error == "The video r1 is no longer in the library: add it again."
    assert grid.cell("r0").state is grid.cell("r2").state is CellState.COMPLETED
    assert grid.progress().text == "3 of 3 cells, 1 failed"
    assert limiter.in_flight() == 0, "its slot was given back"


def test_failed_cells_run_again_as_a_new_grid(runs, client, vertex):
    vertex.fail(400, "Bad video.")
    limiter = QuotaLimiter(1)
    first = grid_of(runs, client, 2, limiter)
    first.begin()
    assert first.wait(timeout=30)
    failed = [key for key, s in first.cells().items() if s.state is CellState.FAILED]
    assert failed == ["r0-v0-m0"]

    again = OnlineGrid([cell(runs, client, key) for key in failed], limiter, label="re-run")
    again.begin()
    assert again.wait(timeout=30)
    assert again.cell("r0-v0-m0").state is CellState.COMPLETED
    assert again.cell("r0-v0-m0").run_id != first.cell("r0-v0-m0").run_id


class RecordingPacer:
    """A pacer that lets every call go at once and writes down what the runner told it."""

    def __init__(self) -> None:
        self.heard: list[str] = []

    async def before_call(self) -> None:
        self.heard.append("before")

    def throttled(self) -> float:
        self.heard.append("429")
        return 0.01

    def succeeded(self) -> None:
        self.heard.append("ok")


@pytest.mark.parametrize("stream", [True, False])
def test_the_runner_tells_its_pacer_each_attempt_each_429_and_the_first_answer(
    runs, client, vertex, stream
):
    vertex.fail(429)
    vertex.fail(503)
    params = replace(defaults_for(MODEL), stream=stream)
    pacer = RecordingPacer()
    run = runs.start_generation(
        client, MODEL, checked(MODEL), "Describe", params, target=TARGET, pacer=pacer,
        retry=RetryPolicy(attempts=4, initial_delay_s=0.05, jitter=0),
    )  # fmt: skip
    assert run.wait_done(timeout=20) and run.state().completed
    assert pacer.heard == ["before", "429", "before", "before", "ok"]
    delays = [e.delay_s for e in run.events() if isinstance(e, Retrying)]
    assert delays == [0.01, 0.1], "a 429 waits what the pacer says; a 503 RetryPolicy's"


def test_a_429_on_the_last_attempt_is_still_told(runs, client, vertex):
    vertex.fail(429, times=2)
    pacer = RecordingPacer()
    run = runs.start_generation(
        client, MODEL, checked(MODEL), "Describe", defaults_for(MODEL), target=TARGET,
        pacer=pacer, retry=RetryPolicy(attempts=2, initial_delay_s=0.05, jitter=0),
    )  # fmt: skip
    assert run.wait_done(timeout=20) and run.state().error is not None
    assert pacer.heard == ["before", "429", "before", "429"]


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False
