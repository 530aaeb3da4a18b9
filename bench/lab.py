"""Benchmark: a prompt lab's online grid of 30 cells, for speed and for calls under a 429 burst.

Speed: 30 cells, each answered by the emulator in 1 s of chunk delays, run as an OnlineGrid
under the default QuotaLimiter (16 in flight), against the same 30 started one after another,
each waited for, as a loop would. Both in the same run, over real HTTP; prints both times and
their ratio (goal: at least 8).

Quota: the emulator answers 429 to every third generate request for 3 s while a 30-cell grid
runs; the figure is the calls the emulator received over 30 cells (goal: at most 1.5), beside
the same 30 runs started together with RetryPolicy alone (each 429 retried on its own timer).
Run with `python -m bench.lab`.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from reelscope.catalog import load_catalog
from reelscope.generation.runner import Pacer, Target
from reelscope.lab.online import CellStart, CellState, OnlineGrid
from reelscope.lab.pacing import QuotaLimiter
from reelscope.media_rules import check_for_model
from reelscope.parameters import defaults_for
from reelscope.runs import Run, Runs
from reelscope.settings import Settings
from reelscope.tasks import TaskRegistry
from reelscope.vertex import make_genai_client
from tests.vertex_emulator import GENERATION_RPCS, VertexEmulator, write_static_adc

CELLS = 30
CHUNKS = 5
CHUNK_DELAY_S = 0.25  # 4 pauses between 5 chunks: 1 s per answer
SQUEEZE_EVERY = 3
SQUEEZE_S = 3.0


def main() -> None:
    catalog = load_catalog()
    model = catalog.get("gemini-3.5-flash")
    params = defaults_for(model)
    sources = check_for_model([], model, catalog.media)
    runs = Runs(TaskRegistry())

    def starter(index: int) -> Callable[[Pacer | None], Run]:
        def start(pacer: Pacer | None) -> Run:
            prompt = f"Describe video {index}."
            return runs.start_generation(
                client, model, sources, prompt, params, target=Target("bench", "global"),
                pacer=pacer,
            )  # fmt: skip

        return start

    def grid() -> OnlineGrid:
        cells = [CellStart(f"r{i}-v0-m0", model.id, starter(i)) for i in range(CELLS)]
        grid = OnlineGrid(cells, QuotaLimiter(), label="bench grid")
        grid.begin()
        assert grid.wait(timeout=120), grid.progress().text
        states = {status.state for status in grid.cells().values()}
        assert states == {CellState.COMPLETED}, grid.progress().text
        return grid

    def one_after_another() -> None:
        for index in range(CELLS):
            run = starter(index)(None)
            assert run.wait_done(timeout=60) and run.state().completed, run

    def all_at_once_without_limiter() -> None:
        live = [starter(index)(None) for index in range(CELLS)]
        for run in live:
            assert run.wait_done(timeout=60) and run.state().completed, run

    def calls() -> int:
        return sum(request.rpc in GENERATION_RPCS for request in emulator.requests)

    with tempfile.TemporaryDirectory() as folder, VertexEmulator() as emulator:
        settings = Settings(
            project="bench", vertex_base_url=emulator.base_url,
            credentials_file=str(write_static_adc(Path(folder) / "adc.json")),
        )  # fmt: skip
        client = make_genai_client(settings)
        emulator.set_reply("One scene, then another.", chunks=CHUNKS)
        grid()  # warm-up: the client's connections, the worker, the imports
        emulator.clear()

        emulator.set_reply("One scene, then another.", chunks=CHUNKS, chunk_delay=CHUNK_DELAY_S)
        started = time.perf_counter()
        one_after_another()
        sequential_s = time.perf_counter() - started
        started = time.perf_counter()
        grid()
        grid_s = time.perf_counter() - started
        emulator.clear()

        emulator.set_reply("Fine.", chunks=2, chunk_delay=0.05)
        emulator.throttle(every=SQUEEZE_EVERY, seconds=SQUEEZE_S)
        grid()
        with_limiter = calls() / CELLS
        emulator.clear()
        emulator.throttle(every=SQUEEZE_EVERY, seconds=SQUEEZE_S)
        all_at_once_without_limiter()
        without_limiter = calls() / CELLS

    answer_s = (CHUNKS - 1) * CHUNK_DELAY_S
    print(f"{CELLS} cells, {answer_s:.2f} s of chunk delays per answer:")
    print(f"  one after another     : {sequential_s:8.2f} s")
    print(f"  OnlineGrid (16 at once): {grid_s:7.2f} s")
    print(f"  speedup               : {sequential_s / grid_s:8.2f}  (goal >= 8)")
    print(f"429 to every {SQUEEZE_EVERY}rd generate request for {SQUEEZE_S:.0f} s, calls per cell:")
    print(f"  RetryPolicy alone     : {without_limiter:8.2f}")
    print(f"  QuotaLimiter          : {with_limiter:8.2f}  (goal <= 1.5)")
    print(f"bench lab_sequential_30_s: {sequential_s:.2f}")
    print(f"bench lab_grid_30_s: {grid_s:.2f}")
    print(f"bench lab_grid_30_speedup: {sequential_s / grid_s:.2f}")
    print(f"bench lab_quota_extra_calls_ratio_no_limiter: {without_limiter:.2f}")
    print(f"bench lab_quota_extra_calls_ratio: {with_limiter:.2f}")


if __name__ == "__main__":
    main()
