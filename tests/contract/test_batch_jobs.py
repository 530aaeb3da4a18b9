"""Batch prediction jobs through the real google-genai SDK (`client.batches`) over real HTTP to
the Vertex AI emulator, with the requests and predictions files in gcp-storage-emulator through
the real google-cloud-storage client."""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Iterator

import google.oauth2.credentials
import pytest
from google import genai
from google.cloud import storage
from google.genai import types

from reelscope.catalog import load_catalog
from reelscope.generation.request import GenerationRequest, build_request
from reelscope.lab.batch_jobs import (
    MALFORMED,
    MISSING,
    ROW_LABEL,
    BatchError,
    BatchJobInfo,
    BatchRow,
    batch_paths,
    cancel,
    job_status,
    list_jobs,
    read_results,
    request_json,
    submit,
    write_requests,
)
from reelscope.media import Clip, source_from_link
from reelscope.parameters import defaults_for
from reelscope.settings import Settings
from reelscope.vertex import make_genai_client, make_storage_client
from tests.contract.conftest import BRISK
from tests.requests import checked
from tests.vertex_emulator import (
    DEFAULT_REPLY,
    MEDIA_PART_TOKENS,
    BatchPace,
    Fault,
    FaultKind,
    JobState,
    VertexEmulator,
    camelize,
)

CATALOG = load_catalog()
G35 = CATALOG.get("gemini-3.5-flash")
G25 = CATALOG.get("gemini-2.5-flash")
PROMPT = "Describe the video scene by scene, with timestamps."
PROMPT_TOKENS = len(PROMPT) // 4 + MEDIA_PART_TOKENS  # the emulator's documented rule


@pytest.fixture
def settings(storage_settings: Settings) -> Settings:
    return storage_settings


@pytest.fixture
def client(settings: Settings, batch_vertex: VertexEmulator) -> genai.Client:
    return make_genai_client(settings)


@pytest.fixture
def gcs(settings: Settings) -> Iterator[storage.Client]:
    client = make_storage_client(settings)
    yield client
    client.close()


@pytest.fixture
def bucket(gcs: storage.Client) -> str:
    return gcs.create_bucket(f"lab-{uuid.uuid4().hex[:12]}").name


def video_request(model=G35, video: str = "gs://library/v0.mp4", **changes) -> GenerationRequest:
    source = source_from_link(video)
    params = dataclasses.replace(defaults_for(model), **changes)
    return build_request(model, checked(model, [source]), PROMPT, params)


def rows_for(count: int, model=G35) -> list[BatchRow]:
    return [
        BatchRow(f"row{i}", video_request(model, f"gs://library/v{i}.mp4")) for i in range(count)
    ]


def start(client, gcs, bucket, rows, batch_id="grid1", model=G35) -> tuple[BatchJobInfo, str]:
    paths = batch_paths(bucket, batch_id)
    write_requests(gcs, paths.requests_uri, rows)
    job = submit(client, model.id, paths.requests_uri, paths.output_prefix, f"lab {batch_id}")
    return job, paths.requests_uri


def wait_for(client, name: str, states: set[str], timeout: float = 20) -> tuple[BatchJobInfo, list]:
    """Poll the job as the Jobs view does until it reaches one of `states`; the states seen."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        job = job_status(client, name)
        if not seen or seen[-1] != job.state:
            seen.append(job.state)
        if job.state in states:
            return job, seen
        assert time.monotonic() < deadline, f"the job went through {seen} only"
        time.sleep(0.03)


@pytest.fixture
def v1_client(settings: Settings) -> Iterator[genai.Client]:
    """A client on the v1 API, which the SDK lets a caller choose (http_options.api_version)."""
    client = genai.Client(
        vertexai=True,
        project=settings.project,
        location=settings.location,
        credentials=google.oauth2.credentials.Credentials(token="test-token"),
        http_options=types.HttpOptions(base_url=settings.vertex_base_url, api_version="v1"),
    )
    yield client
    client.close()


@pytest.mark.parametrize("version", ["v1beta1", "v1"])
def test_a_job_runs_to_succeeded_and_its_rows_come_back(
    client, v1_client, gcs, bucket, batch_vertex, version
):
    batch_vertex.batch_output_reversed = True  # results are matched by label, not position
    client = client if version == "v1beta1" else v1_client
    rows = rows_for(3)
    job, requests_uri = start(client, gcs, bucket, rows)
    assert job.state == "JOB_STATE_QUEUED" and job.display_name == "lab grid1"

    ended, seen = wait_for(client, job.name, {"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED"})
    assert seen[0] == "JOB_STATE_QUEUED" and seen[-1] == "JOB_STATE_SUCCEEDED"
    assert "JOB_STATE_RUNNING" in seen
    assert (ended.succeeded, ended.failed, ended.incomplete) == (3, 0, 0)
    assert ended.model_id == "gemini-3.5-flash" and ended.done
    assert ended.started_at is not None and ended.ended_at >= ended.started_at
    assert ended.output_dir.startswith(batch_paths(bucket, "grid1").output_prefix)

    read = read_results(gcs, ended, expected=[row.key for row in rows])
    assert read.errors == []
    assert sorted(read.results) == ["row0", "row1", "row2"]
    for result in read.results.values():
        assert result.text == DEFAULT_REPLY and result.finish_reason == "STOP"
        assert result.usage.prompt_tokens == PROMPT_TOKENS
        assert result.usage.output_tokens == len(DEFAULT_REPLY) // 4

    create = batch_vertex.last_request("batchPredictionJobs.create")
    assert create.version == version
    assert create.body["model"] == "publishers/google/models/gemini-3.5-flash"
    assert create.body["inputConfig"] == {
        "instancesFormat": "jsonl",
        "gcsSource": {"uris": [requests_uri]},
    }
    assert create.body["outputConfig"] == {
        "predictionsFormat": "jsonl",
        "gcsDestination": {"outputUriPrefix": batch_paths(bucket, "grid1").output_prefix},
    }
    calls = [r for r in batch_vertex.requests if r.rpc and r.rpc.startswith("batchPrediction")]
    assert {r.version for r in calls} == {version}


def test_each_line_is_the_request_an_online_run_sends_labelled_with_its_row(
    client, gcs, bucket, batch_vertex
):
    source = dataclasses.replace(
        source_from_link("gs://library/talk.mp4"), clip=Clip(12.5, 75, 2.0, "HIGH")
    )
    params = dataclasses.replace(
        defaults_for(G35),
        stop_sequences=("END",),
        system_instruction="Answer in English.",
        safety={"HARM_CATEGORY_HARASSMENT": "BLOCK_ONLY_HIGH"},
    )
    schema = types.Schema(
        type="OBJECT", properties={"scenes": types.Schema(type="ARRAY", items={"type": "STRING"})}
    )
    request = build_request(
        G35,
        checked(G35, [source]),
        PROMPT,
        params,
        media_resolution="LOW",
        response_schema=schema,
    )
    client.models.generate_content(
        model=request.model_id, contents=request.contents, config=request.config
    )
    # The SDK writes some nested names in snake_case (SDK-NOTES.md); Vertex AI reads both
    # spellings, and the lines use camelCase throughout, as Google's JSONL samples do.
    online = camelize(batch_vertex.last_request("generateContent").body)
    assert request_json(request) == online

    paths = batch_paths(bucket, "parity")
    write_requests(gcs, paths.requests_uri, [BatchRow("cell-7", request)])
    _, name = paths.requests_uri.removeprefix("gs://").split("/", 1)
    (line,) = gcs.bucket(bucket).blob(name).download_as_text().splitlines()
    sent = json.loads(line)["request"]
    assert sent.pop("labels") == {ROW_LABEL: "cell-7"}
    assert sent == online


# Vertex AI's pages do not say which of the two a job with failed rows ends in: both are read.
@pytest.mark.parametrize("end_state", [JobState.SUCCEEDED, JobState.PARTIALLY_SUCCEEDED])
def test_a_row_that_fails_is_reported_with_its_status_and_costs_no_other(
    client, gcs, bucket, batch_vertex, end_state
):
    batch_vertex.set_batch_pace(dataclasses.replace(BRISK, with_failed_rows=end_state))
    batch_vertex.fail_batch_row(1, 400, "The video at gs://library/v1.mp4 could not be read.")
    job, _ = start(client, gcs, bucket, rows_for(3))
    ended, _ = wait_for(client, job.name, {end_state.value, "JOB_STATE_FAILED"})
    assert ended.state == end_state.value and ended.done
    assert (ended.succeeded, ended.failed) == (2, 1)

    read = read_results(gcs, ended, expected=["row0", "row1", "row2"])
    assert sorted(read.results) == ["row0", "row2"]
    (error,) = read.errors
    assert (error.key, error.status) == ("row1", "INVALID_ARGUMENT")
    assert error.message == "The video at gs://library/v1.mp4 could not be read."


def test_a_row_cut_short_keeps_its_finish_reason(client, gcs, bucket, batch_vertex):
    batch_vertex.max_tokens(after_chunks=1)  # the online queue: must not touch a batch row
    batch_vertex.fault_batch_row(0, Fault(FaultKind.MAX_TOKENS, after_chunks=2))
    job, _ = start(client, gcs, bucket, rows_for(2))
    ended, _ = wait_for(client, job.name, {"JOB_STATE_SUCCEEDED"})
    read = read_results(gcs, ended)
    assert read.results["row0"].finish_reason == "MAX_TOKENS"
    assert read.results["row0"].text and read.results["row0"].text != DEFAULT_REPLY
    assert read.results["row1"].finish_reason == "STOP"
    assert len(batch_vertex.pending_faults) == 1  # the online fault is still waiting


def test_cancel_while_running_ends_cancelled_with_the_rows_done(client, gcs, bucket, batch_vertex):
    batch_vertex.set_batch_pace(BatchPace(running_s=8.0, cancelling_s=0.3))
    rows = rows_for(8)  # one a second
    job, _ = start(client, gcs, bucket, rows)
    wait_for(client, job.name, {"JOB_STATE_RUNNING"})
    time.sleep(1.5)  # some rows answered, most not
    cancel(client, job.name)

    ended, seen = wait_for(client, job.name, {"JOB_STATE_CANCELLED"})
    assert seen[0] == "JOB_STATE_CANCELLING"
    assert ended.error == "CANCELED"
    assert 0 < ended.succeeded < len(rows)
    assert ended.succeeded + ended.incomplete == len(rows)

    read = read_results(gcs, ended, expected=[row.key for row in rows])
    assert len(read.results) == ended.succeeded
    missing = sorted(error.key for error in read.errors)
    assert {error.status for error in read.errors} == {MISSING}
    assert sorted(read.results) + missing == sorted(row.key for row in rows)

    with pytest.raises(BatchError, match="cannot be cancelled"):
        cancel(client, job.name)


def test_list_shows_the_jobs_newest_first(client, gcs, bucket, batch_vertex):
    first, _ = start(client, gcs, bucket, rows_for(1), batch_id="grid-a")
    second, _ = start(client, gcs, bucket, rows_for(1, G25), batch_id="grid-b", model=G25)
    listed = list_jobs(client)
    assert [job.name for job in listed] == [second.name, first.name]
    assert [job.display_name for job in listed] == ["lab grid-b", "lab grid-a"]
    assert [job.model_id for job in listed] == ["gemini-2.5-flash", "gemini-3.5-flash"]
    assert batch_vertex.last_request("batchPredictionJobs.list").method == "GET"


def test_a_malformed_results_line_costs_only_its_row(client, gcs, bucket, batch_vertex):
    job, _ = start(client, gcs, bucket, rows_for(3))
    ended, _ = wait_for(client, job.name, {"JOB_STATE_SUCCEEDED"})
    _, folder = ended.output_dir.removeprefix("gs://").split("/", 1)
    blob = gcs.bucket(bucket).blob(f"{folder}/predictions.jsonl")
    lines = blob.download_as_text().splitlines()
    broken_key = json.loads(lines[1])["request"]["labels"][ROW_LABEL]
    lines[1] = lines[1][: len(lines[1]) // 2]  # a line cut in half
    blob.upload_from_string("\n".join(lines) + "\n")

    read = read_results(gcs, ended, expected=["row0", "row1", "row2"])
    assert sorted(read.results) == sorted({"row0", "row1", "row2"} - {broken_key})
    malformed, missing = read.errors
    assert (malformed.key, malformed.status, malformed.line) == (None, MALFORMED, 2)
    assert "Line 2 of predictions.jsonl is not JSON" in malformed.message
    assert (missing.key, missing.status) == (broken_key, MISSING)


def test_a_job_whose_requests_cannot_be_read_fails_with_the_reason(
    client, gcs, bucket, batch_vertex
):
    paths = batch_paths(bucket, "nothing-written")
    job = submit(client, G35.id, paths.requests_uri, paths.output_prefix, "lab empty")
    ended, _ = wait_for(client, job.name, {"JOB_STATE_FAILED"})
    assert paths.requests_uri in ended.error
    with pytest.raises(BatchError, match="has no results yet"):
        read_results(gcs, ended)


def test_results_of_a_running_job_and_an_unknown_job_are_clear_errors(
    client, gcs, bucket, batch_vertex
):
    batch_vertex.set_batch_pace(BatchPace(running_s=30))
    job, _ = start(client, gcs, bucket, rows_for(1))
    running, _ = wait_for(client, job.name, {"JOB_STATE_RUNNING"})
    with pytest.raises(BatchError, match=r"no results yet \(running\)"):
        read_results(gcs, running)
    cancel(client, job.name)  # nothing is left running for the next test

    with pytest.raises(BatchError, match=r"does not exist.*\(404\)"):
        job_status(client, "1234567890")
    with pytest.raises(BatchError, match="Invalid batch job name"):
        job_status(client, "not a job")


def test_bad_rows_are_refused_before_anything_is_written(gcs, bucket):
    request = video_request()
    paths = batch_paths(bucket, "refused")
    with pytest.raises(BatchError, match="appears twice"):
        write_requests(gcs, paths.requests_uri, [BatchRow("a", request), BatchRow("a", request)])
    with pytest.raises(BatchError, match="not a label value"):
        write_requests(gcs, paths.requests_uri, [BatchRow("Row 1", request)])
    with pytest.raises(BatchError, match="no rows"):
        write_requests(gcs, paths.requests_uri, [])
    assert list(gcs.list_blobs(bucket)) == []
    with pytest.raises(BatchError, match="does not exist"):
        write_requests(gcs, "gs://no-such-bucket-here/r.jsonl", [BatchRow("a", request)])


def test_a_poll_that_fails_says_so_and_the_next_one_reads_the_job(
    client, gcs, bucket, batch_vertex
):
    job, _ = start(client, gcs, bucket, rows_for(1))
    batch_vertex.fail(503, rpc="batchPredictionJobs.get")
    with pytest.raises(BatchError, match=rf"Reading batch job {job.name} failed: .*\(503\)"):
        job_status(client, job.name)
    assert batch_vertex.pending_faults == []
    ended, _ = wait_for(client, job.name, {"JOB_STATE_SUCCEEDED"})
    assert ended.succeeded == 1
