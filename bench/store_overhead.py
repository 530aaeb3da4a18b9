"""Benchmark: the stream pipeline with every event recorded in the store, over the same without.

Both runs consume one 200-chunk stream from the local Vertex AI emulator over real HTTP through
the Runs service and the worker, as the Ask page does; "recorded" also has the store's recorder
(`Runs(registry, on_start=store.recorder)`) and is timed until its last event is committed, not
only until the run ends. Runs alternate, and so does which goes first. Prints medians, the paired
ratio (goal: at most 1.05) and how long an event waited to be committed (the most a crash
could lose); then the same with the store in a local PostgreSQL 15 (goal: at most 1.10), as a
team deployment keeps it. Run with `make bench` (python -m bench.store_overhead).
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.pairing import alternate, ratios
from reelscope.catalog import load_catalog
from reelscope.generation.request import build_request
from reelscope.generation.runner import Target
from reelscope.media_rules import check_for_model
from reelscope.parameters import defaults_for
from reelscope.runs import Runs, RunSpec
from reelscope.settings import Settings
from reelscope.store import Store, open_store
from reelscope.tasks import TaskRegistry
from reelscope.vertex import make_genai_client
from tests.postgres import postgres_cluster
from tests.vertex_emulator import VertexEmulator, write_static_adc

CHUNKS = 200
ROUNDS = 150  # the paired median is within about ±0.01 at this many
WARMUP = 5


def main() -> None:
    # SQLite in the data folder (the default), then the same on a throwaway local PostgreSQL 15
    # (as the tests start it), each against the same pipeline without a store.
    with tempfile.TemporaryDirectory() as folder:
        sqlite = measure(lambda: open_store(Path(folder) / "data"))
    with postgres_cluster() as cluster:
        url = cluster.new_database()
        postgres = measure(lambda: open_store(Path("unused"), database_url=url))
    for name, figures in (("SQLite", sqlite), ("PostgreSQL", postgres)):
        print(f"{name}:")
        report(figures)
    print(f"bench store_pipeline_no_store_ms: {sqlite.base * 1000:.2f}")
    print(f"bench store_pipeline_recorded_ms: {sqlite.app * 1000:.2f}")
    print(f"bench store_write_overhead_ratio: {sqlite.ratio:.3f}")
    print(f"bench store_commit_lag_p99_ms: {sqlite.lag_p99 * 1000:.2f}")
    print(f"bench store_write_overhead_ratio_postgres: {postgres.ratio:.3f}")
    print(f"bench store_commit_lag_p99_ms_postgres: {postgres.lag_p99 * 1000:.2f}")


@dataclass(frozen=True)
class Figures:
    base: float
    app: float
    paired: list[float]
    lags: list[float]
    kept: int

    @property
    def ratio(self) -> float:
        return statistics.median(self.paired)

    @property
    def lag_p99(self) -> float:
        return self.lags[int(len(self.lags) * 0.99)]


def measure(open_the_store: Callable[[], Store]) -> Figures:
    model = load_catalog().get("gemini-3.5-flash")
    params = defaults_for(model)
    request = build_request(
        model, check_for_model([], model, load_catalog().media), "Describe the video.", params
    )
    spec = RunSpec(model.id, "Describe the video.", params)
    reply = " ".join(f"token{i:04d}" for i in range(CHUNKS * 4))
    target = Target("bench", "global")

    with tempfile.TemporaryDirectory() as folder, VertexEmulator() as emulator:
        store = open_the_store()
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
    return Figures(
        statistics.median(plain_times),
        statistics.median(recorded_times),
        ratios(recorded_times, plain_times),
        lags,
        kept,
    )


def report(figures: Figures) -> None:
    quartiles = statistics.quantiles(figures.paired, n=4)
    lags = figures.lags
    print(f"stream of {CHUNKS} chunks, {ROUNDS} rounds each, medians; {figures.kept} runs kept:")
    print(f"  pipeline, no store    : {figures.base * 1000:8.2f} ms")
    print(f"  pipeline, recorded    : {figures.app * 1000:8.2f} ms")
    print(f"  paired ratio, median  : {figures.ratio:8.3f}  (goal <= 1.05; PostgreSQL <= 1.10)")
    print(f"  paired ratio, IQR     : {quartiles[0]:.3f} – {quartiles[2]:.3f}")
    print(
        f"  news -> committed     : p50 {lags[len(lags) // 2] * 1000:.2f} ms, "
        f"p99 {figures.lag_p99 * 1000:.2f} ms, max {lags[-1] * 1000:.2f} ms "
        f"({len(lags)} batches)"
    )


if __name__ == "__main__":
    main()
