"""A lab grid as Vertex AI batch jobs, end to end through the real SDKs: the requests written to
gcp-storage-emulator, the jobs created at the Vertex emulator, followed, and their results read
into the run history; a server that stops mid-job resumes without submitting anything again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from reelscope.catalog import load_catalog
from reelscope.costs import batch_price
from reelscope.generation.request import build_request
from reelscope.lab import batch, batch_jobs
from reelscope.lab.batch import BatchWatch, Clients
from reelscope.lab.grid import GridSpec, ModelColumn, VideoRow
from reelscope.lab.launch import new_lab
from reelscope.lab.plan import BATCH, RowSource, plan_grid
from reelscope.media import source_from_link
from reelscope.parameters import defaults_for
from reelscope.settings import Settings
from reelscope.store import Store
from reelscope.tasks import TaskRegistry, TaskState
from reelscope.vertex import make_genai_client, make_storage_client
from tests.vertex_emulator import BatchPace, VertexEmulator

CATALOG = load_catalog()
FLASH = CATALOG.get("gemini-3.5-flash")
LITE = CATALOG.get("gemini-3.1-flash-lite")
POLL_S = 0.05


@pytest.fixture
def settings(storage_settings: Settings) -> Settings:
    return storage_settings


@pytest.fixture
def clients(settings: Settings, batch_vertex: VertexEmulator) -> Iterator[Clients]:
    genai, files = make_genai_client(settings), make_storage_client(settings)
    yield Clients(genai, files)
    genai.close()
    files.close()


@pytest.fixture
def bucket(clients: Clients) -> str:
    return clients.storage.create_bucket(f"lab-{uuid.uuid4().hex[:12]}").name


@pytest.fixture
def store(store_opener) -> Store:
    return store_opener("main", price_of=lambda i, b: CATALOG.get(i).price_on(b))


def grid(rows: int = 3) -> GridSpec:
    videos = tuple(VideoRow(f"gs://library/v{i}.mp4", f"v{i}.mp4") for i in range(rows))
    columns = (ModelColumn(FLASH.id, defaults_for(FLASH)), ModelColumn(LITE.id, defaults_for(LITE)))
    return GridSpec(("Describe {video}.", "List the objects in {video}."), columns, videos)


def launched(store: Store, clients: Clients, bucket: str, spec: GridSpec):
    rows = [RowSource(source_from_link(r.key)) for r in spec.rows]
    plan = plan_grid(spec, rows, CATALOG, how=BATCH)
    lab_id = new_lab(store, spec, plan, rows, owner="ana")
    jobs = batch.launch(store, clients, bucket=bucket, lab_id=lab_id, owner="ana",
                        cells=plan.runnable)  # fmt: skip
    return lab_id, jobs


def follow(store, clients, jobs, registry) -> list[BatchWatch]:
    watches = [batch.watch(store, clients, j, registry, poll_s=POLL_S, app_version="t")
               for j in jobs]  # fmt: skip
    for watch in watches:
        assert watch.wait(20), watch.progress().text
    return watches


def creates(vertex: VertexEmulator) -> int:
    return sum(r.rpc == "batchPredictionJobs.create" for r in vertex.requests)


def test_a_grid_goes_as_one_job_per_model_and_its_results_fill_every_cell(
    store, clients, bucket, batch_vertex
):
    lab_id, jobs = launched(store, clients, bucket, grid())
    assert len(jobs) == 2 and all(j.name for j in jobs)
    assert creates(batch_vertex) == 2
    watches = follow(store, clients, jobs, TaskRegistry())
    assert [w.status for w in watches] == [TaskState.DONE, TaskState.DONE]
    cells = store.labs.cells(lab_id)
    assert len(cells) == 12 and {c.status for c in cells} == {"completed"}
    run = store.runs.get(cells[0].run_id)
    assert run.spec.extra["tier"] == "batch" and run.spec.prompt == "Describe v0.mp4."
    assert run.spec.sources[0].uri == "gs://library/v0.mp4"
    assert run.state().text  # the emulator's answer, as the job wrote it
    usage = run.state().usage
    price = batch_price(CATALOG.get(run.spec.model_id).price)
    expected = (usage.prompt_tokens * price.input_usd_per_mtok
                + usage.output_tokens * price.output_usd_per_mtok) / 1e6  # fmt: skip
    assert cells[0].cost_usd == pytest.approx(expected)
    assert {j.state for j in store.labs.jobs(lab_id)} == {"JOB_STATE_SUCCEEDED"}


def test_a_failed_row_fails_its_cell_only_with_its_status(store, clients, bucket, batch_vertex):
    batch_vertex.fail_batch_row(1, status=400, message="The video could not be read.",
                                model=FLASH.id)  # fmt: skip
    lab_id, jobs = launched(store, clients, bucket, grid(rows=1))
    follow(store, clients, jobs, TaskRegistry())
    cells = {c.key: c for c in store.labs.cells(lab_id)}
    failed = [c for c in cells.values() if c.status == "failed"]
    assert len(failed) == 1
    assert "could not be read" in failed[0].error
    assert sum(c.status == "completed" for c in cells.values()) == 3


def test_a_restart_mid_job_resumes_polling_and_submits_nothing_again(
    store_opener, clients, bucket, batch_vertex
):
    batch_vertex.set_batch_pace(BatchPace(queued_s=0.3, running_s=0.6))
    first = store_opener("main", price_of=lambda i, b: CATALOG.get(i).price_on(b))
    lab_id, _jobs = launched(first, clients, bucket, grid(rows=2))
    assert creates(batch_vertex) == 2
    first.close()  # the server stops before any poll

    again = store_opener("main", price_of=lambda i, b: CATALOG.get(i).price_on(b))
    registry = TaskRegistry()
    watches = batch.resume(again, lambda: clients, registry, poll_s=POLL_S, app_version="t")
    assert len(watches) == 2
    for watch in watches:
        assert watch.wait(20)
    assert creates(batch_vertex) == 2  # nothing submitted twice
    assert {c.status for c in again.labs.cells(lab_id)} == {"completed"}
    assert batch.resume(again, lambda: clients, TaskRegistry(), poll_s=POLL_S,
                        app_version="t") == []  # fmt: skip


def test_a_job_recorded_but_not_named_is_found_by_its_display_name(
    store, clients, bucket, batch_vertex
):
    """The server stopped between Vertex AI creating the job and the store naming it."""
    spec = grid(rows=1)
    rows = [RowSource(source_from_link(r.key)) for r in spec.rows]
    plan = plan_grid(spec, rows, CATALOG, how=BATCH)
    lab_id = new_lab(store, spec, plan, rows, owner="ana")
    cells = [c for c in plan.runnable if c.model.id == FLASH.id]
    paths = batch_jobs.batch_paths(bucket, "crashed")
    batch_jobs.write_requests(clients.storage, paths.requests_uri, [
        batch_jobs.BatchRow(c.cell.key, build_request(c.model, c.checked, c.prompt, c.params))
        for c in cells
    ])  # fmt: skip
    store.labs.add_job("crashed", lab_id=lab_id, owner="ana", model_id=FLASH.id,
                       display_name=f"{batch.DISPLAY_PREFIX}crashed",
                       requests_uri=paths.requests_uri, output_prefix=paths.output_prefix,
                       cells=[c.cell.key for c in cells])  # fmt: skip
    created = batch_jobs.submit(clients.genai, FLASH.id, paths.requests_uri,
                                paths.output_prefix, f"{batch.DISPLAY_PREFIX}crashed")  # fmt: skip
    assert store.labs.job("crashed").name is None
    follow(store, clients, [store.labs.job("crashed")], TaskRegistry())
    assert creates(batch_vertex) == 1
    assert store.labs.job("crashed").name == created.name
    assert {c.status for c in store.labs.cells(lab_id) if c.job_id == "crashed"} == {"completed"}


def test_results_another_instance_read_are_not_read_twice(store, clients, bucket, batch_vertex):
    _lab_id, jobs = launched(store, clients, bucket, grid(rows=1))
    follow(store, clients, jobs, TaskRegistry())
    before = store.runs.count()
    info = batch.batch_jobs.job_status(clients.genai, jobs[0].name)
    assert batch.ingest(store, clients.storage, jobs[0], info, app_version="t") is None
    assert store.runs.count() == before


def test_cancel_stops_the_job_and_the_rows_it_finished_are_read_in(
    store, clients, bucket, batch_vertex
):
    batch_vertex.set_batch_pace(BatchPace(running_s=3.0, cancelling_s=0.1))
    lab_id, jobs = launched(store, clients, bucket, grid(rows=4))
    watch = batch.watch(store, clients, jobs[0], TaskRegistry(), poll_s=POLL_S, app_version="t")
    while watch.info is None or watch.info.state != "JOB_STATE_RUNNING":
        assert not watch.wait(0.05)
    assert watch.cancel()
    assert watch.wait(20)
    assert watch.info.state == "JOB_STATE_CANCELLED"
    statuses = [c.status for c in store.labs.cells(lab_id) if c.job_id == jobs[0].id]
    assert len(statuses) == 8 and set(statuses) <= {"completed", "failed"}
    assert "failed" in statuses  # the rows it had not reached
