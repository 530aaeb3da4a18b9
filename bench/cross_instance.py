"""Benchmark: a run's end on one instance to its row, ended, in another instance's History.

Instance A (a store and its recorder, as one app process has) records a run streaming; the
moment its last event arrives, instance B (another store on the same database, as another app
process has) starts asking its History query (`runs.search`, the table's first page) every
POLL_S until the run is listed with its final status. Timed from the end on A to that answer
on B: the recorder writes a run's end at once, so this is one commit and one query. On a local
PostgreSQL 15 (what instances share), beside the same on one SQLite file shared by two stores
(the baseline: one machine). Goal: at most 1 s. Run with `make bench`
(python -m bench.cross_instance).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from reelscope.generation.events import Completed, TextDelta
from reelscope.parameters import GenerationParams
from reelscope.runs import Run, RunSpec
from reelscope.store import RunQuery, Store, open_store
from tests.postgres import postgres_cluster

ROUNDS = 30
CHUNKS = 40
POLL_S = 0.005
OWNER = "ana@example.com"


def visible_after_end(a: Store, b: Store, n: int) -> float:
    run = Run(RunSpec("gemini-3.5-flash", f"Run {n}: describe", GenerationParams()), owner=OWNER)
    a.recorder(run)
    for i in range(CHUNKS):
        run.append(TextDelta(0.01 * i, f"word{i} "))
        time.sleep(0.002)
    ended = time.perf_counter()
    run.append(Completed(0.01 * CHUNKS))
    while True:
        rows = b.runs.search(RunQuery()).rows
        if any(row.id == run.id and row.status == "completed" for row in rows):
            return time.perf_counter() - ended
        time.sleep(POLL_S)


def measure(open_instance) -> list[float]:
    b = open_instance("host-b")  # first: a store opening a SQLite file closes its live runs
    a = open_instance("host-a")
    visible_after_end(a, b, -1)  # warm-up: connections made, caches filled
    times = [visible_after_end(a, b, n) for n in range(ROUNDS)]
    a.close()
    b.close()
    return sorted(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, postgres_cluster() as cluster:
        data = Path(folder) / "data"
        sqlite = measure(lambda name: open_store(data, instance=name))
        url = cluster.new_database()
        postgres = measure(
            lambda name: open_store(Path(folder) / name, database_url=url, instance=name)
        )
    print(f"a run's end on A to its row in B's History query, {ROUNDS} runs:")
    for name, times in (("SQLite file", sqlite), ("PostgreSQL", postgres)):
        print(
            f"  {name:12s}: median {statistics.median(times) * 1000:7.2f} ms, "
            f"max {times[-1] * 1000:7.2f} ms"
        )
    print(f"bench cross_instance_visible_sqlite_s: {statistics.median(sqlite):.4f}")
    print(f"bench cross_instance_visible_s: {statistics.median(postgres):.4f}")
    print(f"bench cross_instance_visible_max_s: {postgres[-1]:.4f}")


if __name__ == "__main__":
    main()
