"""Events are plain records: every kind round-trips, and the fold depends on them alone."""

from __future__ import annotations

import json

import pytest

from reelscope.generation.events import (
    Blocked,
    Completed,
    EndedEarly,
    ErrorKind,
    Failed,
    Finished,
    Retrying,
    RunError,
    Stopped,
    StopReason,
    TextDelta,
    Thought,
    Usage,
    from_record,
    is_terminal,
    to_record,
)
from reelscope.generation.state import RunState

EVERY_KIND = [
    TextDelta(0.5, "Hello", 1),
    Thought(0.4, "Looking at the first scene", 0),
    Usage(1.0, prompt_tokens=10, output_tokens=5, thinking_tokens=3, total_tokens=18),
    Usage(1.0, 900, 5, cached_tokens=600, prompt_by_modality=(("VIDEO", 600), ("AUDIO", 300))),
    Finished(1.0, "STOP", 0),
    Blocked(0.9, "response", "SAFETY", ("HARM_CATEGORY_HATE_SPEECH",), 0),
    Retrying(0.1, 1, 4, 1.5, "Quota exhausted (429)"),
    EndedEarly(1.1, 0),
    Completed(1.2),
    Failed(1.2, RunError(ErrorKind.QUOTA, "Quota exhausted", "Wait", retryable=True)),
    Stopped(0.7, StopReason.REPLACED),
]


@pytest.mark.parametrize("event", EVERY_KIND, ids=lambda e: e.kind)
def test_every_event_survives_json(event):
    record = json.loads(json.dumps(to_record(event)))
    assert record["kind"] == event.kind
    assert from_record(record) == event


@pytest.mark.parametrize(
    "record",
    [{"kind": "telepathy", "at": 1}, {"kind": "text", "at": 1}, {"at": 1, "text": "x"}],
)
def test_unknown_or_incomplete_records_are_refused(record):
    with pytest.raises(ValueError):
        from_record(record)


def test_only_completed_failed_and_stopped_end_a_run():
    assert [e.kind for e in EVERY_KIND if is_terminal(e)] == ["completed", "failed", "stopped"]


def test_the_fold_reads_everything_from_the_events():
    events = [
        Retrying(0.0, 1, 4, 2.0, "busy"),
        TextDelta(2.5, "Red, "),
        TextDelta(3.0, "green."),
        Usage(3.5, prompt_tokens=100, output_tokens=20),
        Finished(3.5, "STOP"),
        Completed(3.5),
    ]
    state = RunState.of(events)
    assert state.text == "Red, green."
    assert state.done and state.completed and not state.incomplete
    assert state.time_to_first_token == pytest.approx(0.5)  # from the retry that answered
    assert state.tokens_per_second == pytest.approx(20 / 1.0)


def test_a_stopped_run_is_partial_and_says_who_stopped_it():
    state = RunState.of([TextDelta(0.2, "Red"), Stopped(0.4, StopReason.USER)])
    assert state.done and state.stopped and state.incomplete and not state.completed
    assert state.stop_reason is StopReason.USER


def test_a_snapshot_does_not_change_when_the_run_goes_on():
    state = RunState.of([TextDelta(0.1, "a")])
    snapshot = state.copy()
    state.apply(TextDelta(0.2, "b"))
    state.apply(Retrying(0.3, 1, 2, 1.0, "x"))
    assert snapshot.text == "a" and snapshot.retries == []
