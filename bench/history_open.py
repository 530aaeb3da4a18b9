"""Benchmark: opening the History page over 10,000 kept runs, in a real server and Chromium.

Three Reelscope servers run side by side: one over a history of one run (the baseline: the
page's own cost, table included), one over 10,000 runs (each with a prompt, a ~1 KB answer in
30 events, usage and a cost, all in the search index) in the data folder's SQLite, and one over
the same 10,000 runs in a local PostgreSQL 15 (`REELSCOPE_DATABASE_URL`, as a team deployment
keeps them; `*_postgres_s`). Rounds alternate the servers' order.

- `history_open_*`: what a user does — in an open session on the Ask page, a second after it
  showed (the time it takes to reach for the sidebar), click History, until the script run is
  over and the table shows. Goal: under 1 s. That second is when the browser fetches the data
  grid's code for later (components/common/prefetch.py).
- `history_open_at_once_*`: the same click the moment the Ask page is shown, before the
  prefetch can have finished: what the grid's code costs a first visit without it.
- `history_cold_tab_*`: load /history in a fresh browser tab (a new session). This adds
  Streamlit's own frontend bootstrap and session start, the same for any page.

Run with `make bench`.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from reelscope.generation.events import Completed, Finished, TextDelta, Usage
from reelscope.generation.state import RunState
from reelscope.parameters import GenerationParams
from reelscope.runs import RunSpec
from reelscope.store import RunQuery, app_version, open_store
from tests.e2e.conftest import CHROMIUM_ARGS, DEBIAN_CHROMIUM, running_app, wait_idle
from tests.postgres import postgres_cluster
from tests.vertex_emulator import write_static_adc

RUNS = 10_000
DWELL_S = 1.0  # on the Ask page before the click
ROUNDS = 7
MODELS = ("gemini-3.5-flash", "gemini-3.1-pro-preview", "gemini-3.5-flash-lite")
WORDS = [
    "goal",
    "corner",
    "referee",
    "keeper",
    "striker",
    "whistle",
    "crowd",
    "replay",
    "offside",
    "pass",
    "header",
    "save",
]


def seed(data_dir: Path, count: int, database_url: str | None = None) -> float:
    """`count` finished runs written as the recorder writes them (in the data folder's SQLite,
    or at `database_url`); seconds it took."""
    started = time.perf_counter()
    store = open_store(data_dir, database_url=database_url)
    rng = random.Random(9)
    now = dt.datetime.now(dt.UTC)
    with store.db.transaction() as tx:
        for n in range(count):
            spec = RunSpec(
                rng.choice(MODELS),
                f"Run {n}: list every {rng.choice(WORDS)} with MM:SS timestamps.",
                GenerationParams(temperature=round(rng.random(), 2), max_output_tokens=2048),
            )
            events = [TextDelta(0.3 + 0.02 * i, _sentence(rng, i, n)) for i in range(30)]
            events += [Usage(1.0, 1200, 300, 0, 1500), Finished(1.01, "STOP"), Completed(1.02)]
            run_id = f"{n:032x}"
            store.runs.insert(tx, run_id, now - dt.timedelta(minutes=n), spec, app_version())
            store.runs.append_events(tx, run_id, 0, events)
            store.runs.summarise(tx, run_id, spec.model_id, RunState.of(events), "completed")
    store.runs.search(RunQuery(text="goal"))  # a search indexes them all, as it would in use
    store.close()
    return time.perf_counter() - started


def _sentence(rng: random.Random, i: int, n: int) -> str:
    return " ".join(rng.choices(WORDS, k=6)) + f" {i:02d}:{n % 60:02d}. "


def cold_tab(page, url: str) -> float:
    started = time.perf_counter()
    page.goto(f"{url}/history")
    wait_idle(page)
    page.wait_for_selector('[data-testid="stDataFrame"]', timeout=30_000)
    return time.perf_counter() - started


def from_the_sidebar(page, url: str, dwell_s: float = DWELL_S) -> float:
    page.goto(url)  # the Ask page, in a new session
    wait_idle(page)
    page.wait_for_selector('[data-testid="stSidebarNav"]')
    time.sleep(dwell_s)
    started = time.perf_counter()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="History").click()
    page.wait_for_selector('[data-testid="stDataFrame"]', timeout=30_000)
    wait_idle(page)
    return time.perf_counter() - started


WAYS = (
    ("open", from_the_sidebar),
    ("open_at_once", lambda page, url: from_the_sidebar(page, url, dwell_s=0.0)),
    ("cold_tab", cold_tab),
)


SERVERS = ("1_run", "10k_runs", "10k_runs_postgres")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, postgres_cluster() as cluster:
        root = Path(folder)
        empty, full, on_postgres = root / "one", root / "full", root / "pg"
        database_url = cluster.new_database()
        seed(empty, 1)
        seconds = seed(full, RUNS)
        size_mb = (full / "reelscope.db").stat().st_size / 1e6
        print(f"seeded {RUNS:,} runs in {seconds:.1f} s ({size_mb:.0f} MB)")
        seconds = seed(on_postgres, RUNS, database_url)
        print(f"seeded {RUNS:,} runs in PostgreSQL in {seconds:.1f} s")
        env = {
            "GOOGLE_CLOUD_PROJECT": "bench",
            "GOOGLE_VERTEX_BASE_URL": "http://127.0.0.1:9",  # never called: no run is made
            "GOOGLE_APPLICATION_CREDENTIALS": str(write_static_adc(root / "adc.json")),
            "CLOUDSDK_CONFIG": str(root / "gcloud"),
        }
        postgres_env = {**env, "REELSCOPE_DATA_DIR": str(on_postgres)}
        executable = str(DEBIAN_CHROMIUM) if DEBIAN_CHROMIUM.exists() else None
        with (
            running_app({**env, "REELSCOPE_DATA_DIR": str(empty)}, root / "a.log") as empty_url,
            running_app({**env, "REELSCOPE_DATA_DIR": str(full)}, root / "b.log") as full_url,
            running_app(
                {**postgres_env, "REELSCOPE_DATABASE_URL": database_url}, root / "c.log"
            ) as postgres_url,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            timings: dict[tuple[str, str], list[float]] = {}
            urls = dict(zip(SERVERS, (empty_url, full_url, postgres_url), strict=True))
            for round_number in range(ROUNDS + 1):  # the first round warms the servers
                order = list(urls.items())
                for name, url in order if round_number % 2 else order[::-1]:
                    for way, measure in WAYS:
                        context = browser.new_context(viewport={"width": 1400, "height": 1000})
                        elapsed = measure(context.new_page(), url)
                        context.close()
                        if round_number:
                            timings.setdefault((way, name), []).append(elapsed)
            browser.close()

    medians = {key: statistics.median(values) for key, values in timings.items()}
    print(f"{ROUNDS} rounds each, medians (History from the sidebar; /history in a new tab):")
    for (way, name), value in sorted(medians.items()):
        print(f"  {way:12s} {name:17s}: {value:8.3f} s")
    for way, _ in reversed(WAYS):
        for name in SERVERS:
            print(f"bench history_{way}_{name}_s: {medians[(way, name)]:.3f}")


if __name__ == "__main__":
    main()
