"""Labs in the run history's database (SQLite and PostgreSQL): cells point at their runs, and a
batch job is recorded before it is submitted and read in once."""

from __future__ import annotations

import datetime as dt

import pytest

from reelscope.generation.events import Completed, ErrorKind, Failed, RunError, TextDelta, Usage
from reelscope.lab.grid import GridSpec, ModelColumn, VideoRow
from reelscope.owners import NotYours
from reelscope.parameters import GenerationParams
from reelscope.runs.run import RunSpec
from reelscope.store import StoredRun
from reelscope.store.labs import IN_BATCH, NOT_RUN, REFUSED

SPEC = GridSpec(("Describe {video}.",), (ModelColumn("gemini-3.5-flash", GenerationParams()),),
                (VideoRow("gs://lib/a.mp4", "a.mp4"), VideoRow("gs://lib/b.mp4", "b.mp4")))  # fmt: skip


def kept_run(run_id: str, events, tier: str | None = None) -> StoredRun:
    extra = {"tier": tier} if tier else {}
    spec = RunSpec("gemini-3.5-flash", "Describe a.mp4.", GenerationParams(), extra=extra)
    return StoredRun(run_id, dt.datetime.now(dt.UTC), spec, events, "completed")


ANSWER = [TextDelta(1.0, "A kitchen."), Usage(1.0, prompt_tokens=1_000_000, output_tokens=0),
          Completed(1.0)]  # fmt: skip


@pytest.fixture
def store(store_opener):
    return store_opener("main", price_of=lambda _id, _backend: _price())


def _price():
    from reelscope.catalog import load_catalog

    return load_catalog().get("gemini-3.5-flash").price


def test_a_labs_cells_show_their_runs_or_why_they_have_none(store):
    store.labs.create("lab1", owner="ana", name="n", how="online", spec=SPEC.to_record(),
                      cells=[("r0-v0-m0", None), ("r1-v0-m0", "too long")])  # fmt: skip
    cells = {c.key: c for c in store.labs.cells("lab1")}
    assert (cells["r0-v0-m0"].status, cells["r1-v0-m0"].status) == (NOT_RUN, REFUSED)
    store.runs.record_many([kept_run("run1", ANSWER)], "test", "lab", "ana")
    store.labs.set_runs("lab1", {"r0-v0-m0": "run1"})
    cell = {c.key: c for c in store.labs.cells("lab1")}["r0-v0-m0"]
    assert (cell.status, cell.output_text, cell.prompt_tokens) == (
        "completed",
        "A kitchen.",
        1_000_000,
    )
    assert [lab.id for lab in store.labs.labs(owner="ana")] == ["lab1"]
    assert store.labs.labs(owner="ben") == []
    assert GridSpec.from_record(store.labs.get("lab1").spec) == SPEC


def test_a_run_answered_by_a_batch_job_costs_the_batch_price(store):
    store.runs.record_many(
        [kept_run("online", ANSWER), kept_run("batch", ANSWER, tier="batch")], "t", "lab", "ana"
    )
    online = store.runs.get("online").cost_usd
    batch = store.runs.get("batch").cost_usd
    price = _price()
    assert online == pytest.approx(price.input_usd_per_mtok)
    assert batch == pytest.approx(price.batch_input_usd_per_mtok)


def test_a_job_is_recorded_before_it_is_named_and_read_in_once(store):
    store.labs.create("lab1", owner="ana", name="n", how="batch", spec=SPEC.to_record(),
                      cells=[("r0-v0-m0", None), ("r1-v0-m0", None)])  # fmt: skip
    store.labs.add_job("job1", lab_id="lab1", owner="ana", model_id="gemini-3.5-flash",
                       display_name="reelscope-lab-job1", requests_uri="gs://b/r.jsonl",
                       output_prefix="gs://b/out/", cells=["r0-v0-m0", "r1-v0-m0"])  # fmt: skip
    job = store.labs.job("job1")
    assert (job.name, job.state) == (None, "SUBMITTING")
    assert {c.status for c in store.labs.cells("lab1")} == {IN_BATCH}
    store.labs.job_submitted(
        "job1", "projects/p/locations/l/batchPredictionJobs/7", "JOB_STATE_QUEUED"
    )
    store.labs.job_state("job1", "JOB_STATE_SUCCEEDED", {"succeeded": 2})
    assert [j.id for j in store.labs.jobs(open_only=True)] == ["job1"]
    assert store.labs.claim_ingest("job1") is True
    assert store.labs.claim_ingest("job1") is False  # another instance (or a second poll)
    assert store.labs.jobs(open_only=True) == []
    store.labs.release_ingest("job1")  # reading failed: the next poll may try again
    assert store.labs.claim_ingest("job1") is True
    assert store.labs.job("job1").info == {"succeeded": 2}


def test_only_its_owner_deletes_a_lab_and_its_runs_stay(store):
    store.labs.create("lab1", owner="ana", name="n", how="online", spec=SPEC.to_record(),
                      cells=[("r0-v0-m0", None)])  # fmt: skip
    failed = [Failed(0.5, RunError(ErrorKind.QUOTA, "429"))]
    store.runs.record_many([kept_run("run1", failed)], "t", "lab", "ana")
    store.labs.set_runs("lab1", {"r0-v0-m0": "run1"})
    assert store.labs.cells("lab1")[0].status == "failed"
    with pytest.raises(NotYours):
        store.labs.delete("lab1", owner="ben")
    assert store.labs.delete("lab1", owner="ana") is True
    assert store.labs.get("lab1") is None and store.runs.get("run1") is not None
