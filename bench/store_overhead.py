"""Benchmark: the stream pipeline with every event recorded in the store, over the same without.

Both runs consume one 200-chunk stream from the local Vertex AI emulator over real HTTP through
the Runs service and the worker, as the Ask page does; "recorded" also has the store's recorder
(`Runs(registry, on_start=store.recorder)`) and is timed until its last event is committed, not
only until the run ends. Runs alternate, and so does which goes first. Prints medians, the paired
ratio (goal: at most 1.05) and how long an event waited to be committed (the most a crash
could lose). Run with `make bench` (python -m bench.store_overhead).
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from bench.pairing import alternate, ratios
from reelscope.catalog import load_catalog
from reelscope.generation.request import build_request
from reelscope.generation.runner import Target
from reelscope.media_rules import check_for_model
from reelscope.parameters import defaults_for
from reelscope.runs import Runs, RunSpec
from reelscope.settings import Settings
from reelscope.store import open_store
from reelscope.tasks import TaskRegistry
from reelscope.vertex import make_genai_client
from tests.vertex_emulator import VertexEmulator, write_static_adc

CHUNKS = 200
ROUNDS = 150  # the paired median is within about ±0.01 at this many
WARMUP = 5


def main() -> None:
    model = load_catalog().get("gemini-3.5-flash")
    params = defaults_for(model)
    request = build_request(
        model, check_for_model([], model, load_catalog().media), "Describe the video.", params
    )
    spec = RunSpec(model.id, "Describe the video.", params)
    reply = " ".join(f"token{i:04d}" for i in range(CHUNKS * 4))
    target = Target("bench", "global")

    with tempfile.TemporaryDirectory() as folder, VertexEmulator() as emulator:
        store = open_store(Path(folder) / "data")
        plain, recorded = Runs(TaskRegistry()), Runs(TaskRegistry(), on_start=store.recorder)

        def without() -> str:
            run = plain.start(spec, client, request, target=target)
            run.wait_done(timeout=60)
            return run.state().text

        def with_store() -> str:
            run = recorded.start(spec, client, request, target=target)
            run.wait_done(timeout=60)
            store.recorder.flush(timeout=60)  # done means on disk
            return run.state().text

        emulator.set_reply(reply, chunks=CHUNKS)
        settings = Settings(
            project="bench", vertex_base_url=emulator.base_url,
            credentials_file=str(write_static_adc(Path(folder) / "adc.json")),
        )  # fmt: skip
        client = make_genai_client(settings)
        assert without() == with_store() == reply, "both must read the whole answer"
        recorded_times, plain_times = alternate(
            with_store, without, rounds=ROUNDS, warmup=WARMUP, between=emulator.clear
        )
        kept = store.runs.count()
        lags = sorted(store.recorder.lags)
        store.close()

    base, app = statistics.median(plain_times), statistics.median(recorded_times)
    paired = ratios(recorded_times, plain_times)
    quartiles = statistics.quantiles(paired, n=4)
    print(f"stream of {CHUNKS} chunks, {ROUNDS} rounds each, medians; {kept} runs kept:")
    print(f"  pipeline, no store    : {base * 1000:8.2f} ms")
    print(f"  pipeline, recorded    : {app * 1000:8.2f} ms")
    print(f"  paired ratio, median  : {statistics.median(paired):8.3f}  (goal <= 1.05)")
    print(f"  paired ratio, IQR     : {quartiles[0]:.3f} – {quartiles[2]:.3f}")
    print(
        f"  news -> committed     : p50 {lags[len(lags) // 2] * 1000:.2f} ms, "
        f"p99 {lags[int(len(lags) * 0.99)] * 1000:.2f} ms, max {lags[-1] * 1000:.2f} ms "
        f"({len(lags)} batches)"
    )
    print(f"bench store_pipeline_no_store_ms: {base * 1000:.2f}")
    print(f"bench store_pipeline_recorded_ms: {app * 1000:.2f}")
    print(f"bench store_write_overhead_ratio: {statistics.median(paired):.3f}")
    print(f"bench store_commit_lag_p99_ms: {lags[int(len(lags) * 0.99)] * 1000:.2f}")


if __name__ == "__main__":
    main()
