"""Runs across instances sharing one history: heartbeats, stop requests, stale runs.

Two stores on one database stand for two app processes (each names its instance). Every test
runs on SQLite and on a throwaway PostgreSQL (tests/conftest.py `database_url_for`). On SQLite
the second store is opened before the first one streams: a store opening a file closes every
run left running in it (one server uses a file), which is not what these tests are about.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from reelscope.generation.events import Completed, StopReason, TextDelta
from reelscope.instance import HEARTBEAT_S, INSTANCE_ID, STALE_AFTER_S
from reelscope.parameters import GenerationParams
from reelscope.runs import Run, RunSpec
from reelscope.store import RunQuery, open_store
from reelscope.tasks import LOCAL_OWNER

OWNER = "ana@example.com"


@pytest.fixture
def open_instance(database_url_for, tmp_path):
    """`open_instance("a")`: a store on the test's one database, as the app instance "host-a"."""
    opened = []

    def open_(name: str):
        url = database_url_for("shared")
        store = open_store(tmp_path / "data", database_url=url, instance=f"host-{name}")
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


@pytest.fixture
def instances(open_instance):
    """`two()`: stores A and B, as two instances of the app."""
    return lambda: (open_instance("a"), open_instance("b"))


def streaming(store, prompt="streaming on A", owner=OWNER) -> Run:
    run = Run(RunSpec("gemini-3.5-flash", prompt, GenerationParams()), owner=owner)
    store.recorder(run)
    run.append(TextDelta(0.1, "half "))
    assert store.recorder.flush(5)
    return run


def column(store, run_id, name):
    return store.db.fetchone(f"SELECT {name} FROM runs WHERE id = :id", {"id": run_id})[0]


def test_the_process_has_one_instance_id_and_a_store_names_it_on_its_runs(tmp_path):
    store = open_store(tmp_path / "data")
    assert store.instance == INSTANCE_ID and f"-{os.getpid()}-" in INSTANCE_ID
    run = streaming(store)
    assert column(store, run.id, "instance") == INSTANCE_ID
    run.append(Completed(0.2))
    store.close()


def test_the_owning_instance_refreshes_the_heartbeat_of_its_live_runs(instances):
    a, _b = instances()
    run = streaming(a)
    first = column(a, run.id, "heartbeat_at")
    assert first is not None and abs(first - time.time()) < 2
    time.sleep(HEARTBEAT_S + 1.5)  # a beat is due HEARTBEAT_S after the start, looked at every
    second = column(a, run.id, "heartbeat_at")  # STOP_POLL_S: slack for a loaded machine
    assert second > first + HEARTBEAT_S * 0.5, "one beat at least in the interval"
    run.append(Completed(0.2))
    assert a.recorder.flush(5) and column(a, run.id, "status") == "completed"
    time.sleep(HEARTBEAT_S + 0.6)
    assert column(a, run.id, "heartbeat_at") <= second + HEARTBEAT_S, "an ended run is not beaten"
    assert a.recorder.liveness.live_count() == 0


def test_another_instance_lists_the_owners_live_run_and_not_its_own_or_anothers(instances):
    a, b = instances()
    mine = streaming(a, "mine, on A")
    streaming(a, "someone else's, on A", owner="bob@example.com")
    on_b = streaming(b, "mine, on B")
    listed = b.runs.running_elsewhere(OWNER, b.instance)
    assert [(r.id, r.instance, r.stop_requested) for r in listed] == [(mine.id, "host-a", False)]
    assert listed[0].label == "gemini-3.5-flash · mine, on A"
    assert [r.id for r in a.runs.running_elsewhere(OWNER, a.instance)] == [on_b.id]


def test_a_stop_request_from_another_instance_stops_the_run_on_its_own(instances):
    a, b = instances()
    run = streaming(a)
    assert not b.runs.request_stop(run.id, "bob@example.com"), "only the owner stops a run"
    time.sleep(0.6)
    assert not run.done
    assert b.runs.request_stop(run.id, OWNER)
    assert [r.stop_requested for r in b.runs.running_elsewhere(OWNER, b.instance)] == [True]
    assert run.wait_done(2.0), "the owning instance stops it within 2 s"
    assert run.state().stopped and run.state().stop_reason is StopReason.USER
    assert a.recorder.flush(5)
    stored = b.runs.get(run.id)
    assert stored.status == "stopped" and stored.state().text == "half "
    assert column(b, run.id, "stop_requested_by") == OWNER
    assert not b.runs.request_stop(run.id, OWNER), "an ended run is not asked again"


def test_a_run_whose_instance_died_is_closed_as_interrupted_once_by_whoever_finds_it(
    open_instance,
):
    a, b = open_instance("a"), open_instance("b")
    finders = [open_instance(f"finder{n}") for n in range(3)]
    run = streaming(a)
    a.close()  # the instance is gone: its heartbeats stop
    assert b.runs.close_stale() == 0, "not stale yet: its last heartbeat is recent"
    assert [r.id for r in b.runs.running_elsewhere(OWNER, b.instance)] == [run.id]

    later = time.time() + STALE_AFTER_S + 1
    closed, barrier = [], threading.Barrier(len(finders))

    def find(store) -> None:
        barrier.wait()
        closed.append(store.runs.close_stale(now=later))

    threads = [threading.Thread(target=find, args=(store,)) for store in finders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(closed) == [0, 0, 1], "closed once, however many find it at once"
    stored = b.runs.get(run.id)
    assert stored.status == "interrupted" and stored.state().text == "half "
    assert b.runs.running_elsewhere(OWNER, b.instance) == []


def test_the_history_query_marks_a_stale_run_interrupted(instances):
    a, b = instances()
    run = streaming(a)
    a.close()
    with b.db.transaction() as tx:  # its instance died a while ago
        tx.execute(
            "UPDATE runs SET heartbeat_at = :then WHERE id = :id",
            {"then": time.time() - STALE_AFTER_S - 1, "id": run.id},
        )
    rows = b.runs.search(RunQuery()).rows
    assert [(r.id, r.status) for r in rows] == [(run.id, "interrupted")]


def test_a_shared_database_closes_only_stale_runs_at_start_a_file_every_running_one(
    open_instance,
):
    a = open_instance("a")
    run = streaming(a, owner=LOCAL_OWNER)
    b = open_instance("b")
    if b.db.shared:  # A may still be streaming it: its heartbeat is recent
        assert b.interrupted == 0 and b.runs.get(run.id).status == "running"
    else:  # one server uses a file: what an earlier one left running died with it
        assert b.interrupted == 1 and b.runs.get(run.id).status == "interrupted"
