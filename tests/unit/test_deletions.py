"""Pending deletes: hidden at once, undone step by step, purged when the page is left or the
session that could undo them is gone."""

from __future__ import annotations

import gc

import pytest

from reelscope.generation.events import Completed, TextDelta
from reelscope.parameters import GenerationParams
from reelscope.runs import Run, RunSpec
from reelscope.store import RunQuery
from reelscope.store.deletions import PendingDeletes
from reelscope.tasks import LOCAL_OWNER


@pytest.fixture
def store(store_opener):  # on SQLite and on PostgreSQL (tests/conftest.py)
    return store_opener()


def runs(store, count: int) -> list[str]:
    ids = []
    for n in range(count):
        run = Run(RunSpec("gemini-3.5-flash", f"run {n}", GenerationParams()))
        run.append(TextDelta(0.1, f"answer {n}"))
        run.append(Completed(0.2))
        store.runs.record_whole(run, "0.1.0", "local")
        ids.append(run.id)
    return ids


def listed(store) -> set[str]:
    return {row.id for row in store.runs.search(RunQuery()).rows}


def test_each_delete_is_a_step_and_undo_brings_back_the_last_one(store):
    a, b, c = runs(store, 3)
    pending = PendingDeletes(store.runs, LOCAL_OWNER)
    assert pending.delete([a]).ids == [a]
    assert pending.delete([b, c, a]).ids == [b, c], "a run already deleted is not a new step's"
    assert listed(store) == set() and pending.steps == [(a,), (b, c)]
    assert pending.undo() == [b, c] and listed(store) == {b, c}
    assert pending.steps == [(a,)]
    assert pending.undo() == [a] and listed(store) == {a, b, c}
    assert pending.undo() == [] and pending.steps == []


def test_undo_all_restores_every_step_and_finish_purges_only_what_is_pending(store):
    a, b, c = runs(store, 3)
    pending = PendingDeletes(store.runs, LOCAL_OWNER)
    pending.delete([a])
    pending.delete([b])
    assert sorted(pending.undo_all()) == sorted([a, b]) and listed(store) == {a, b, c}
    pending.delete([c])
    assert pending.finish() == 1 and pending.steps == []
    assert store.runs.get(c) is None and store.runs.get(a) is not None


def test_a_run_brought_back_another_way_leaves_its_step(store):
    a, b = runs(store, 2)
    pending = PendingDeletes(store.runs, LOCAL_OWNER)
    pending.delete([a, b])
    store.runs.restore([a], owner=LOCAL_OWNER)  # an import of the same run
    pending.forget([a])
    assert pending.steps == [(b,)] and pending.run_ids == [b]
    assert pending.undo() == [b] and listed(store) == {a, b}
    pending.delete([a])
    store.runs.restore([a], owner=LOCAL_OWNER)
    pending.forget([a])
    assert pending.steps == [], "a step left empty is no step"


def test_a_dropped_session_purges_what_it_could_still_undo(store):
    a, b = runs(store, 2)
    pending = PendingDeletes(store.runs, LOCAL_OWNER)
    pending.delete([a])
    del pending
    gc.collect()
    assert store.runs.get(a) is None and store.runs.get(b) is not None
