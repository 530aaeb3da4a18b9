"""Runs in the worker, over real HTTP: Stop is real, proven from the emulator's side."""

from __future__ import annotations

import gc
import time

from reelscope.catalog import load_catalog
from reelscope.generation.events import (
    Completed,
    Retrying,
    Stopped,
    StopReason,
    TextDelta,
    from_record,
    to_record,
)
from reelscope.generation.request import build_request
from reelscope.generation.runner import Target
from reelscope.parameters import defaults_for
from reelscope.retries import RetryPolicy
from reelscope.runs import Runs, RunSpec, worker
from reelscope.tasks import TaskRegistry
from tests.requests import checked

CATALOG = load_catalog()
MODEL = CATALOG.get("gemini-3.5-flash")
WORDS = " ".join(f"w{i:03d}" for i in range(100))
TARGET = Target("test-project", "global")


def start(runs: Runs, client, prompt="Describe", retry=None, stream=True):
    params = defaults_for(MODEL)
    request = build_request(MODEL, checked(MODEL, []), prompt, params)
    spec = RunSpec(MODEL.id, prompt, params, stream=stream)
    return runs.start(spec, client, request, target=TARGET, retry=retry)


def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_stop_mid_stream_closes_the_http_stream_and_keeps_the_text(runs, client, vertex):
    vertex.set_reply(WORDS, chunks=50, chunk_delay=0.1)  # 5 s in all
    run = start(runs, client)
    assert run.wait_until(lambda s: len(s.text) > 20, timeout=10)

    pressed = time.time()
    run.stop()
    answer = vertex.last_request("streamGenerateContent").answer
    assert answer.wait(timeout=1.0), "the emulator should see the stream end within 1 s"
    assert answer.how == "client_closed"
    assert answer.ended_at - pressed < 1.0

    kept = run.state()
    assert kept.stopped and kept.stop_reason is StopReason.USER
    assert kept.text and WORDS.startswith(kept.text) and kept.text != WORDS
    assert isinstance(run.events()[-1], Stopped)
    time.sleep(0.3)
    assert run.state().text == kept.text, "nothing is added after Stop"
    assert len(vertex.requests) == 1


def test_stop_during_a_backoff_wait_sends_no_further_request(runs, client, vertex):
    vertex.fail(429, "slow down", times=3)
    slow_retry = RetryPolicy(attempts=4, initial_delay_s=0.8, jitter=0)
    run = start(runs, client, retry=slow_retry)
    assert run.wait_until(lambda s: bool(s.retries), timeout=5)

    run.stop()
    time.sleep(1.5)  # past the moment the retry would have gone out
    assert len(vertex.requests) == 1, "Stop must cancel the backoff wait and the retry"
    state = run.state()
    assert state.stopped and not state.completed and state.error is None
    assert [type(e) for e in run.events()] == [Retrying, Stopped]


def test_stop_while_the_model_is_silent_closes_the_connection(runs, client, vertex):
    vertex.delay(10.0)  # thinking: no byte for 10 s
    run = start(runs, client)
    assert wait_until(lambda: vertex.requests)
    time.sleep(0.3)

    pressed = time.time()
    run.stop()
    answer = vertex.last_request().answer
    assert answer.wait(timeout=1.0), "a silent stream must be closed within 1 s of Stop"
    assert answer.how == "client_closed" and answer.ended_at - pressed < 1.0
    assert wait_until(lambda: worker().active_count() == 0, timeout=1.0)


def test_stop_in_non_streaming_mode_closes_the_request(runs, client, vertex):
    vertex.delay(10.0)
    run = start(runs, client, stream=False)
    assert wait_until(lambda: vertex.requests)
    run.stop()
    assert vertex.last_request("generateContent").answer.wait(timeout=1.0)
    assert run.state().stopped


def test_a_finished_run_cannot_be_stopped_into_looking_partial(runs, client, vertex):
    run = start(runs, client)
    assert run.wait_done(timeout=10)
    assert run.stop() is False
    assert isinstance(run.events()[-1], Completed)
    assert not run.state().stopped


def test_runs_outlive_the_session_that_started_them_and_are_found_by_their_owner(client, vertex):
    vertex.set_reply(WORDS, chunks=50, chunk_delay=0.1)
    registry = TaskRegistry()
    first_tab = Runs(registry)
    first = start(first_tab, client)
    assert wait_until(lambda: worker().active_count() == 1)

    del first_tab  # the tab is reloaded: its session's state goes
    gc.collect()
    time.sleep(0.3)
    assert not first.done, "a reload must not stop the user's run"

    reloaded = Runs(registry)  # the new tab's view of the same process
    assert [run.id for run in reloaded.live(owner=first.owner)] == [first.id]
    assert reloaded.get(first.id) is first
    assert reloaded.get(first.id).stop()
    assert wait_until(lambda: worker().active_count() == 0, timeout=1.0)
    assert vertex.last_request().answer.wait(1.0)
    assert vertex.last_request().answer.how == "client_closed"


def test_stop_all_ends_every_live_run_as_stopped_by_the_server(client, vertex):
    vertex.set_reply(WORDS, chunks=50, chunk_delay=0.1)
    runs = Runs(TaskRegistry())
    first, second = start(runs, client), start(runs, client)
    assert wait_until(lambda: worker().active_count() == 2)
    assert runs.stop_all() == 2
    assert wait_until(lambda: worker().active_count() == 0, timeout=1.0)
    for run in (first, second):
        assert run.state().stop_reason is StopReason.SERVER_STOPPED


def test_ttft_counts_from_the_request_that_answered_not_the_backoff(runs, client, vertex):
    vertex.fail(503, times=1)
    vertex.set_reply(WORDS, chunks=2)
    run = start(runs, client, retry=RetryPolicy(initial_delay_s=0.6, jitter=0))
    assert run.wait_done(timeout=10)
    state = run.state()
    assert state.retries and state.first_token_at > 0.6
    assert state.time_to_first_token < 0.5


def test_a_run_rebuilt_from_its_records_folds_to_the_same_state(runs, client, vertex):
    vertex.set_reply(WORDS, chunks=7)
    run = start(runs, client)
    assert run.wait_done(timeout=10)
    record = run.to_record()
    events = [from_record(r) for r in record["events"]]
    assert events == run.events()
    assert [e for e in events if isinstance(e, TextDelta)]
    assert record["spec"]["model_id"] == MODEL.id
    assert record["events"] == [to_record(e) for e in events]


def test_listeners_hear_every_event_as_it_is_appended(client, vertex):
    heard = []
    started = []

    def on_start(run):
        started.append(run.id)
        run.subscribe(lambda r, event: heard.append((r.id, event)))

    runs = Runs(TaskRegistry(), on_start=on_start)
    vertex.set_reply(WORDS, chunks=5)
    run = start(runs, client)
    assert run.wait_done(timeout=10)
    assert started == [run.id]
    assert [event for _, event in heard] == run.events()
    assert {run_id for run_id, _ in heard} == {run.id}
