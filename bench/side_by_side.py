"""Benchmark: three models streaming side by side, against the slowest of them alone.

The emulator answers each model at its own pace (its own first-chunk delay and chunk interval);
the slowest is the reference. "Together" starts three Runs and follows them in one loop with
`reelscope.tasks.follow`, as pages/compare.py does; "alone" starts and follows
only the slowest model's run the same way. Both are timed from the first start to the moment
the follow loop returns (every run ended and seen). Rounds alternate which goes first. Prints
the medians and the paired ratio together / alone (goal: at most 1.2).
Run with `python -m bench.side_by_side`.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from reelscope.catalog import load_catalog
from reelscope.generation.request import build_request
from reelscope.generation.runner import Target
from reelscope.media_rules import check_for_model
from reelscope.parameters import defaults_for
from reelscope.runs import Run, Runs, RunSpec
from reelscope.settings import Settings
from reelscope.tasks import TaskRegistry, Watch, follow
from reelscope.vertex import make_genai_client
from tests.vertex_emulator import Fault, FaultKind, VertexEmulator, write_static_adc

CHUNKS = 40
# model -> (seconds to the first chunk, seconds between chunks); the last is the slowest
PACES = {
    "gemini-3.5-flash": (0.05, 0.015),
    "gemini-3.5-flash-lite": (0.10, 0.020),
    "gemini-3.8-flash": (0.20, 0.030),
}
SLOWEST = "gemini-3.8-flash"
ROUNDS = 9
WARMUP = 1


def main() -> None:
    catalog = load_catalog()
    prompt = "Describe the video. Give timestamps as MM:SS."
    jobs = []
    for model_id in PACES:
        model = catalog.get(model_id)
        params = defaults_for(model)
        jobs.append(
            (
                RunSpec(model_id, prompt, params),
                build_request(
                    model, check_for_model([], model, load_catalog().media), prompt, params
                ),
            )
        )
    runs = Runs(TaskRegistry())

    def side_by_side(model_ids: list[str]) -> float:
        started = time.perf_counter()
        chosen = [(spec, request) for spec, request in jobs if spec.model_id in model_ids]
        live: list[Run] = [
            runs.start(spec, client, request, target=Target("bench", "global"))
            for spec, request in chosen
        ]
        follow([Watch(run, settle=False) for run in live])  # the page's loop, no drawing
        elapsed = time.perf_counter() - started
        for run in live:
            assert run.state().completed and len(run.state().text) > 0, run
        return elapsed

    with tempfile.TemporaryDirectory() as folder, VertexEmulator() as emulator:
        for model_id, (_, interval) in PACES.items():
            text = " ".join(f"{model_id}-{i:02d}" for i in range(CHUNKS))
            emulator.set_model_reply(model_id, text, chunks=CHUNKS, chunk_delay=interval)
        emulator.on_request(
            lambda request: Fault(FaultKind.DELAY, delay_seconds=PACES[request.model][0])
        )
        settings = Settings(
            project="bench", vertex_base_url=emulator.base_url,
            credentials_file=str(write_static_adc(Path(folder) / "adc.json")),
        )  # fmt: skip
        client = make_genai_client(settings)
        timings: dict[str, list[float]] = {"together": [], "alone": []}
        for round_number in range(WARMUP + ROUNDS):
            order = (("together", list(PACES)), ("alone", [SLOWEST]))
            for name, model_ids in order if round_number % 2 else order[::-1]:
                elapsed = side_by_side(model_ids)
                if round_number >= WARMUP:
                    timings[name].append(elapsed)
                emulator.clear()

    together, alone = statistics.median(timings["together"]), statistics.median(timings["alone"])
    paired = sorted(t / a for t, a in zip(timings["together"], timings["alone"], strict=True))
    ideal = PACES[SLOWEST][0] + (CHUNKS - 1) * PACES[SLOWEST][1]
    print(f"{CHUNKS} chunks per model, {ROUNDS} rounds, medians:")
    print(f"  slowest stream's pace : {ideal:8.3f} s  (first-chunk delay + chunk intervals)")
    print(f"  slowest model alone   : {alone:8.3f} s")
    print(f"  three side by side    : {together:8.3f} s")
    print(f"  paired ratio, median  : {statistics.median(paired):8.3f}  (goal <= 1.2)")
    print(f"bench side_by_side_slowest_alone_s: {alone:.3f}")
    print(f"bench side_by_side_3_together_s: {together:.3f}")
    print(f"bench side_by_side_3_ratio: {statistics.median(paired):.3f}")


if __name__ == "__main__":
    main()
