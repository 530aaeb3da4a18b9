"""Benchmark: the queries the History page runs when it opens, over 10,000 kept runs, on
SQLite in the data folder and on a local PostgreSQL 15 (as a team deployment keeps it).

The page, on open, asks the store for the models filter's choices (`runs.models()`) and for
the first page of the table with the count of every run that matches (`runs.search`, which
first closes runs whose instance died). Both stores hold the same 10,000 runs (bench.history_open's
seed: a prompt, a ~1 KB answer in 30 events, usage and cost each), and a one-run store on each
backend is the baseline. The first open (a new store: its connections not yet made) is printed
too; the figure is the median of warm opens, as a running server answers them. Goal: under 1 s.
Run with `make bench` (python -m bench.history_query).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench.history_open import RUNS, seed
from reelscope.store import RunQuery, open_store
from tests.postgres import postgres_cluster

ROUNDS = 21


def open_history(store) -> float:
    started = time.perf_counter()
    store.runs.models()
    page = store.runs.search(RunQuery())
    assert page.rows and page.total, "the page lists runs"
    return time.perf_counter() - started


def measure(data_dir: Path, database_url: str | None) -> tuple[float, float]:
    """(first open, median of warm opens) in seconds."""
    store = open_store(data_dir, database_url=database_url)
    first = open_history(store)
    warm = [open_history(store) for _ in range(ROUNDS)]
    store.close()
    return first, statistics.median(warm)


def main() -> None:
    figures: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as folder, postgres_cluster() as cluster:
        root = Path(folder)
        stores = {
            "sqlite_1_run": (root / "one", None, 1),
            "sqlite_10k_runs": (root / "full", None, RUNS),
            "postgres_1_run": (root / "pg-one", cluster.new_database(), 1),
            "postgres_10k_runs": (root / "pg-full", cluster.new_database(), RUNS),
        }
        for name, (data_dir, url, count) in stores.items():
            print(f"seeded {name} in {seed(data_dir, count, url):.1f} s", flush=True)
        for name, (data_dir, url, _count) in stores.items():
            figures[name] = measure(data_dir, url)
    print(f"History opened: models + first page + count; first open, then median of {ROUNDS}:")
    for name, (first, warm) in figures.items():
        print(f"  {name:18s}: first {first * 1000:8.2f} ms, warm {warm * 1000:8.2f} ms")
    # The store's share of opening History; the whole page in a browser, on both databases, is
    # bench.history_open's (history_open_10k_runs_s, history_open_10k_runs_postgres_s).
    names = {
        "sqlite_1_run": "history_query_1_run_sqlite_s",
        "sqlite_10k_runs": "history_query_10k_runs_sqlite_s",
        "postgres_1_run": "history_query_1_run_postgres_s",
        "postgres_10k_runs": "history_query_10k_runs_postgres_s",
    }
    for name, bench_name in names.items():
        print(f"bench {bench_name}: {figures[name][1]:.4f}")


if __name__ == "__main__":
    main()
