"""Recording and replay over real HTTP: the emulator streams, the store keeps, a replay is offline.

- events are in the database while the run streams, not only at its end;
- Stop mid-stream keeps every event that arrived; a killed server process keeps them too;
- a replay re-delivers the kept events at their recorded pace (1x, 2x) within 10%, and the
  emulator sees no request while it plays.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from reelscope.catalog import load_catalog
from reelscope.generation.events import Stopped, TextDelta
from reelscope.generation.request import build_request
from reelscope.generation.runner import Target
from reelscope.parameters import defaults_for
from reelscope.runs import Run, Runs, RunSpec
from reelscope.runs.replay import replay_events, replay_spec
from reelscope.store import open_store
from reelscope.store.recorder import WRITE_EVERY_S
from reelscope.tasks import TaskRegistry
from reelscope.vertex import make_genai_client
from tests.requests import checked

ROOT = Path(__file__).resolve().parents[2]
MODEL = load_catalog().get("gemini-3.5-flash")
TARGET = Target("test-project", "global")
WORDS = " ".join(f"w{i:03d}" for i in range(60))


@pytest.fixture
def store(tmp_path):
    opened = open_store(tmp_path / "data")
    yield opened
    opened.close()


@pytest.fixture
def runs(store):
    owner = Runs(TaskRegistry(), on_start=store.recorder)
    yield owner
    owner.stop_all()


def start(runs, emulator_settings, prompt="Describe"):
    params = defaults_for(MODEL)
    request = build_request(MODEL, checked(MODEL, []), prompt, params)
    client = make_genai_client(emulator_settings)
    return runs.start(RunSpec(MODEL.id, prompt, params), client, request, target=TARGET)


def kept_events(path: Path, run_id: str) -> int:
    """Counted through a connection of its own: what is on disk for anyone to read."""
    with sqlite3.connect(path) as check:
        query = "SELECT coalesce(sum(count), 0) FROM event_batches WHERE run_id = ?"
        return check.execute(query, (run_id,)).fetchone()[0]


def test_events_are_kept_as_they_stream_and_a_stop_keeps_what_arrived(
    store, runs, vertex, emulator_settings
):
    vertex.set_reply(WORDS, chunks=30, chunk_delay=0.05)  # 1.5 s in all
    run = start(runs, emulator_settings)
    assert run.wait_until(lambda s: len(s.text) > 40, timeout=10)
    deadline = time.monotonic() + 1.0
    while kept_events(store.path, run.id) == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    streaming = kept_events(store.path, run.id)
    assert streaming > 0 and not run.done, "events are written while the run streams"

    run.stop()
    assert store.recorder.flush(5)
    stored = store.runs.get(run.id)
    assert stored.events == run.events()
    assert isinstance(stored.events[-1], Stopped) and stored.status == "stopped"
    assert stored.state().text == run.state().text and WORDS.startswith(stored.state().text)
    assert store.recorder.max_lag_s() < 0.5


_CRASHING_SERVER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from reelscope.catalog import load_catalog
    from reelscope.generation.request import build_request
    from reelscope.generation.runner import Target
    from reelscope.parameters import defaults_for
    from reelscope.runs import RunSpec, Runs
    from reelscope.settings import Settings
    from reelscope.store import open_store
    from reelscope.tasks import TaskRegistry
    from reelscope.vertex import make_genai_client
    from tests.requests import checked

    base_url, adc, data = sys.argv[1:4]
    store = open_store(Path(data))
    model = load_catalog().get("gemini-3.5-flash")
    params = defaults_for(model)
    client = make_genai_client(Settings(project="p", vertex_base_url=base_url,
                                        credentials_file=adc))
    runs = Runs(TaskRegistry(), on_start=store.recorder)
    run = runs.start(RunSpec(model.id, "Describe", params), client,
                     build_request(model, checked(model, []), "Describe", params), target=Target("p", "global"))
    print(run.id, flush=True)
    seen = 0
    while not run.done:
        run.wait_for_news(seen, timeout=5)
        seen = run.event_count
        print(seen, flush=True)
    print("ended:", run.events()[-1], flush=True)  # the test kills us long before this
    """
)


def test_a_server_killed_mid_stream_keeps_what_arrived(vertex, adc_file, tmp_path):
    vertex.set_reply(WORDS, chunks=30, chunk_delay=0.1)
    data = tmp_path / "data"
    server = subprocess.Popen(
        [sys.executable, "-c", _CRASHING_SERVER, vertex.base_url, str(adc_file), str(data)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        run_id = server.stdout.readline().strip()
        appended, line = 0, ""
        while appended < 10:
            line = server.stdout.readline()
            assert line and not line.startswith("ended:"), f"the run ended early: {line!r}"
            appended = int(line)
        time.sleep(WRITE_EVERY_S + 0.1)  # the writer's batch, and time to commit it
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()

    store = open_store(data)  # the next start closes the run as interrupted
    stored = store.runs.get(run_id)
    assert stored.status == "interrupted"
    # Every event heard a batch interval before the kill is kept, and nothing more than arrived.
    assert appended <= len(stored.events) < appended + 6
    assert WORDS.startswith(stored.state().text) and len(stored.state().text) > 20
    store.close()


def arrival_times(run) -> list[tuple[float, float]]:
    """(recorded at, seconds after the replay started) of each text chunk, as a view sees it."""
    arrivals: list[tuple[float, float]] = []
    started = time.monotonic()

    def heard(_run, event) -> None:
        if isinstance(event, TextDelta):
            arrivals.append((event.at, time.monotonic() - started))

    run.subscribe(heard)
    return arrivals


@pytest.mark.parametrize("speed", [1.0, 2.0])
def test_a_replay_keeps_the_recorded_pace_and_sends_nothing(
    store, runs, vertex, emulator_settings, speed
):
    vertex.set_reply(WORDS, chunks=20, chunk_delay=0.06)  # chunks 60 ms apart, 1.2 s in all
    original = start(runs, emulator_settings)
    assert original.wait_done(timeout=20)
    assert store.recorder.flush(5)
    kept = store.runs.get(original.id)
    sent = len(vertex.requests)

    replay_runs = Runs(
        TaskRegistry(), on_start=store.recorder
    )  # as the page's: a replay is not kept
    # What start_replay does, with a listener in place before the worker delivers anything.
    run = Run(replay_spec(kept.spec, kept.id, kept.started_at, speed))
    arrivals = arrival_times(run)
    replay_runs.adopt(run, lambda: replay_events(kept.events, speed))
    assert run.wait_done(timeout=20)

    assert run.state().text == original.state().text
    assert len(vertex.requests) == sent, "a replay must not call Vertex AI"
    first_at, first_arrival = arrivals[0]
    span = arrivals[-1][0] - first_at
    assert span > 0.5
    for at, arrival in arrivals:
        expected = (at - first_at) / speed
        assert abs((arrival - first_arrival) - expected) <= 0.1 * span / speed, (at, arrival)
    total = arrivals[-1][1] - first_arrival
    assert abs(total - span / speed) <= 0.1 * span / speed
    assert store.runs.count() == 1, "the replay is not kept as a new run"
    replay_runs.stop_all()
