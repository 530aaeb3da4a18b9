"""Stop across instances over real HTTP: a run streams from the emulator on instance A; Stop
pressed on instance B (a stop request in the shared history) closes A's stream within 2 s,
and the emulator sees the client close. On SQLite and on PostgreSQL."""

from __future__ import annotations

import time

from reelscope.catalog import load_catalog
from reelscope.generation.request import build_request
from reelscope.generation.runner import Target
from reelscope.parameters import defaults_for
from reelscope.runs import Runs, RunSpec
from reelscope.store import open_store
from reelscope.tasks import TaskRegistry
from reelscope.vertex import make_genai_client
from tests.requests import checked

MODEL = load_catalog().get("gemini-3.5-flash")
TARGET = Target("test-project", "global")
WORDS = " ".join(f"w{i:03d}" for i in range(100))
OWNER = "ana@example.com"


def test_stop_on_another_instance_closes_the_stream_within_two_seconds(
    database_url_for, tmp_path, vertex, emulator_settings
):
    url = database_url_for("shared")
    b = open_store(tmp_path / "data", database_url=url, instance="host-b")
    a = open_store(tmp_path / "data", database_url=url, instance="host-a")
    runs_on_a = Runs(TaskRegistry(), on_start=a.recorder)
    try:
        vertex.set_reply(WORDS, chunks=50, chunk_delay=0.1)  # 5 s in all
        params = defaults_for(MODEL)
        request = build_request(MODEL, checked(MODEL, []), "Describe", params)
        client = make_genai_client(emulator_settings)
        spec = RunSpec(MODEL.id, "Describe", params)
        run = runs_on_a.start(spec, client, request, target=TARGET, owner=OWNER)
        assert run.wait_until(lambda s: len(s.text) > 20, timeout=10)
        assert a.recorder.flush(5)

        listed = b.runs.running_elsewhere(OWNER, b.instance)
        assert [(r.id, r.instance) for r in listed] == [(run.id, "host-a")]
        pressed = time.time()
        assert b.runs.request_stop(run.id, OWNER)

        answer = vertex.last_request("streamGenerateContent").answer
        assert answer.wait(timeout=2.0), "the emulator should see the stream end within 2 s"
        assert answer.how == "client_closed"
        assert answer.ended_at - pressed < 2.0
        assert run.state().stopped and run.state().text != WORDS
        assert a.recorder.flush(5)
        stored = b.runs.get(run.id)
        assert stored.status == "stopped" and stored.state().text == run.state().text
        assert b.runs.running_elsewhere(OWNER, b.instance) == []
    finally:
        runs_on_a.stop_all()
        a.close()
        b.close()
