"""Vertex AI batch prediction: the requests file, the job, and its results read back per row.

One JSONL of GenerateContentRequests per model goes to the bucket; `client.batches.create`
(the google-genai client of reelscope/vertex.py) starts a job that writes
`prediction-model-<time>/predictions.jsonl` under the destination prefix, one line per request
with the request echoed and either a `response` or a non-empty `status`. Vertex AI does not
promise to keep the input order, so each request carries its row's key as a label
(`reelscope_row`) and results are matched by that label, never by position.

Every failure becomes a BatchError whose message says what to do; a results line that cannot be
read becomes that row's error and costs no other row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pydantic
from google.cloud import storage
from google.genai import Client, types
from google.genai import errors as genai_errors

from reelscope.generation.events import Usage
from reelscope.generation.request import GenerationRequest
from reelscope.generation.runner import usage_event
from reelscope.storage import StagingError, explained, parse_gs_uri

ROW_LABEL = "reelscope_row"
PREDICTIONS_FILE = "predictions.jsonl"
BATCH_PREFIX = "reelscope/batches"
MALFORMED = "MALFORMED"  # the status of a results line that cannot be read
MISSING = "MISSING"  # the status of a row the results do not mention

# A label value: lowercase letters, digits, "_" and "-", at most 63 characters.
_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{1,63}$")
# GenerateContentConfig fields that sit beside `contents` in the REST request; every other
# field the config has set goes inside `generationConfig`.
_REQUEST_FIELDS = {
    "system_instruction": "systemInstruction",
    "safety_settings": "safetySettings",
    "tools": "tools",
    "tool_config": "toolConfig",
    "labels": "labels",
    "cached_content": "cachedContent",
}
# Fields of the SDK's own behaviour that never go on the wire.
_CLIENT_ONLY_FIELDS = frozenset(
    {"http_options", "automatic_function_calling", "should_return_http_response"}
)
ENDED_STATES = frozenset(
    {
        "JOB_STATE_SUCCEEDED",
        "JOB_STATE_PARTIALLY_SUCCEEDED",
        "JOB_STATE_FAILED",
        "JOB_STATE_CANCELLED",
        "JOB_STATE_EXPIRED",
    }
)


class BatchError(RuntimeError):
    """A batch step failed; the message says what happened and what to do."""


@dataclass(frozen=True)
class BatchRow:
    """One request of a job, and the key its result comes back under (a label value)."""

    key: str
    request: GenerationRequest


@dataclass(frozen=True)
class BatchPaths:
    """Where one batch's requests go and where its job writes, in the bucket."""

    requests_uri: str
    output_prefix: str


@dataclass(frozen=True)
class BatchJobInfo:
    """What the Jobs view shows of a job: its state, counts, times, output and error."""

    name: str
    state: str  # Vertex AI's name: JOB_STATE_QUEUED, …_RUNNING, …_SUCCEEDED, …
    model_id: str
    display_name: str | None = None
    succeeded: int | None = None
    failed: int | None = None
    incomplete: int | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    output_dir: str | None = None
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.state in ENDED_STATES

    @property
    def state_word(self) -> str:
        """ "running", "partially succeeded", …: the state as a person says it."""
        return self.state.removeprefix("JOB_STATE_").replace("_", " ").lower()

    def elapsed_s(self, now: datetime) -> float | None:
        """Seconds since the job was created, up to its end (or `now`, while it runs)."""
        if self.created_at is None:
            return None
        return ((self.ended_at or now) - self.created_at).total_seconds()


@dataclass(frozen=True)
class RowResult:
    """A row the model answered: its text, why it finished, and the usage billed."""

    key: str
    text: str
    finish_reason: str | None
    usage: Usage | None
    blocked: str | None = None  # the prompt's block reason, when the prompt was blocked


@dataclass(frozen=True)
class RowError:
    """A row without an answer: its status (as Vertex AI wrote it, or MALFORMED / MISSING)."""

    key: str | None  # None: the line could not be matched to any row
    status: str
    message: str
    line: int | None = None  # 1-based line of predictions.jsonl, None when there was none


@dataclass(frozen=True)
class BatchResults:
    results: dict[str, RowResult] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)


# --------------------------------------------------------------------------- the requests


def batch_paths(bucket: str, batch_id: str) -> BatchPaths:
    """gs://BUCKET/reelscope/batches/<batch_id>/requests.jsonl and …/output/ for one job."""
    if not _LABEL_VALUE.match(batch_id):
        raise BatchError(f"{batch_id!r} cannot name a batch: use a-z, 0-9, _ and - only.")
    folder = f"gs://{bucket}/{BATCH_PREFIX}/{batch_id}"
    return BatchPaths(f"{folder}/requests.jsonl", f"{folder}/output/")


def request_json(
    request: GenerationRequest, labels: dict[str, str] | None = None
) -> dict[str, Any]:
    """The REST GenerateContentRequest an online run of `request` sends, plus `labels`."""
    body: dict[str, Any] = {"contents": [_wire(content) for content in request.contents]}
    generation: dict[str, Any] = {}
    for name in type(request.config).model_fields:
        value = getattr(request.config, name)
        if value is None or name in _CLIENT_ONLY_FIELDS:
            continue
        wired = _wire(value)
        if name in _REQUEST_FIELDS:
            body[_REQUEST_FIELDS[name]] = wired
        else:
            generation[_camel(name)] = wired
    if generation:
        body["generationConfig"] = generation
    if labels:
        body["labels"] = {**body.get("labels", {}), **labels}
    return body


def requests_jsonl(rows: Sequence[BatchRow]) -> bytes:
    """One `{"request": …}` line per row, each labelled with its row's key."""
    seen: set[str] = set()
    lines = []
    for row in rows:
        if not _LABEL_VALUE.match(row.key):
            raise BatchError(f"Row key {row.key!r} is not a label value (a-z, 0-9, _ and -).")
        if row.key in seen:
            raise BatchError(f"Row key {row.key!r} appears twice; each row needs its own key.")
        seen.add(row.key)
        request = request_json(row.request, {ROW_LABEL: row.key})
        lines.append(json.dumps({"request": request}, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode()


def write_requests(client: storage.Client, uri: str, rows: Sequence[BatchRow]) -> int:
    """Upload the requests file to `uri`; returns how many rows it holds."""
    if not rows:
        raise BatchError("There is nothing to send: the batch has no rows.")
    data = requests_jsonl(rows)
    bucket, name = _gs(uri)
    with _storage_errors(client, bucket, uri, writing=True):
        # JSON Lines has no registered type; Vertex AI reads the file whatever its type says
        client.bucket(bucket).blob(name).upload_from_string(data, content_type="text/plain")
    return len(rows)


# --------------------------------------------------------------------------- the job


def submit(
    client: Client, model_id: str, requests_uri: str, output_prefix: str, display_name: str
) -> BatchJobInfo:
    """Create the job: `requests_uri` in, predictions under `output_prefix`."""
    config = types.CreateBatchJobConfig(dest=output_prefix, display_name=display_name)
    with _vertex_errors(f"Starting the batch job for {model_id}"):
        job = client.batches.create(model=model_id, src=requests_uri, config=config)
    return job_info(job)


def job_status(client: Client, name: str) -> BatchJobInfo:
    """The job's state now (name: projects/…/batchPredictionJobs/ID, or the ID alone)."""
    with _vertex_errors(f"Reading batch job {name}"):
        return job_info(client.batches.get(name=name))


def cancel(client: Client, name: str) -> None:
    """Ask Vertex AI to stop the job; it goes CANCELLING, then CANCELLED (rows done are kept)."""
    with _vertex_errors(f"Cancelling batch job {name}"):
        client.batches.cancel(name=name)


def list_jobs(client: Client, limit: int = 50) -> list[BatchJobInfo]:
    """The project's batch jobs in this location, at most `limit`, in the order Vertex AI lists."""
    with _vertex_errors("Listing batch jobs"):
        pager = client.batches.list(config=types.ListBatchJobsConfig(page_size=min(limit, 100)))
        jobs = []
        for job in pager:
            jobs.append(job_info(job))
            if len(jobs) >= limit:
                break
    return jobs


def job_info(job: types.BatchJob) -> BatchJobInfo:
    stats = job.completion_stats
    output = job.output_info
    return BatchJobInfo(
        name=job.name or "",
        state=job.state.value if job.state is not None else "JOB_STATE_UNSPECIFIED",
        model_id=(job.model or "").rsplit("/", 1)[-1],
        display_name=job.display_name,
        succeeded=stats.successful_count if stats else None,
        failed=stats.failed_count if stats else None,
        incomplete=stats.incomplete_count if stats else None,
        created_at=job.create_time,
        started_at=job.start_time,
        ended_at=job.end_time,
        output_dir=output.gcs_output_directory if output else None,
        error=(job.error.message or f"error {job.error.code}") if job.error else None,
    )


# --------------------------------------------------------------------------- the results


def read_results(
    client: storage.Client, job: BatchJobInfo, expected: Iterable[str] = ()
) -> BatchResults:
    """The job's predictions.jsonl, row by row; `expected` keys it does not mention are
    listed as MISSING (a cancelled job, or a line that could not be read)."""
    if job.output_dir is None:
        raise BatchError(
            f"Batch job {job.name} has no results yet ({job.state_word}); "
            "read them once it has ended."
        )
    uri = f"{job.output_dir.rstrip('/')}/{PREDICTIONS_FILE}"
    bucket, name = _gs(uri)
    blob = client.bucket(bucket).blob(name)
    # open() streams the file in chunks: a 10,000-line result is never held whole
    with (
        _storage_errors(client, bucket, uri, writing=False),
        blob.open("rt", encoding="utf-8") as lines,
    ):
        return parse_predictions(lines, expected)


def parse_predictions(lines: Iterable[str], expected: Iterable[str] = ()) -> BatchResults:
    """Results and per-row errors from predictions.jsonl lines (blank lines are skipped)."""
    results: dict[str, RowResult] = {}
    errors: list[RowError] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        outcome = _parse_line(line, number)
        if isinstance(outcome, RowResult):
            results[outcome.key] = outcome
        else:
            errors.append(outcome)
    mentioned = set(results) | {error.key for error in errors if error.key is not None}
    errors.extend(
        RowError(key, MISSING, f"The results have no line for row {key}; run it again.")
        for key in expected
        if key not in mentioned
    )
    return BatchResults(results, errors)


def _parse_line(line: str, number: int) -> RowResult | RowError:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return _malformed(None, number, f"is not JSON ({exc.msg})")
    if not isinstance(record, dict):
        return _malformed(None, number, "is not a JSON object")
    key = _row_key(record.get("request"))
    if key is None:
        return _malformed(None, number, f"names no row (its request has no {ROW_LABEL} label)")
    status = record.get("status")
    if status:
        name, message = _status_parts(status)
        return RowError(key, name, message, number)
    response = record.get("response")
    if not isinstance(response, dict):
        return _malformed(key, number, "has neither a response nor a status")
    try:
        parsed = types.GenerateContentResponse.model_validate(response)
    except pydantic.ValidationError as exc:
        problems = exc.error_count()
        count = f"{problems} problem" + ("s" if problems != 1 else "")
        return _malformed(key, number, f"has a response that cannot be read ({count})")
    return _row_result(key, parsed)


def _row_result(key: str, response: types.GenerateContentResponse) -> RowResult:
    candidate = response.candidates[0] if response.candidates else None
    parts = candidate.content.parts if candidate and candidate.content else None
    text = "".join(p.text for p in parts or [] if p.text and not p.thought)
    feedback = response.prompt_feedback
    return RowResult(
        key=key,
        text=text,
        finish_reason=_name(candidate.finish_reason) if candidate else None,
        usage=usage_event(response.usage_metadata, 0.0) if response.usage_metadata else None,
        blocked=_name(feedback.block_reason) if feedback else None,
    )


def _status_parts(status: object) -> tuple[str, str]:
    """(status name, message) of a failed row. Vertex AI's pages say only that the error is in
    `status`; its form is not documented, so a Google error JSON inside it is read when there
    is one and the text is kept whole when there is not."""
    error: object = status
    if isinstance(status, str) and "{" in status:
        try:
            error = json.loads(status[status.index("{") :])
        except json.JSONDecodeError:
            error = status
    if isinstance(error, dict):
        inner = error.get("error", error)
        if isinstance(inner, dict):
            name = str(inner.get("status") or inner.get("code") or "FAILED")
            return name, str(inner.get("message") or status)
    return "FAILED", str(status)


def _row_key(request: object) -> str | None:
    labels = request.get("labels") if isinstance(request, dict) else None
    key = labels.get(ROW_LABEL) if isinstance(labels, dict) else None
    return key if isinstance(key, str) and key else None


def _malformed(key: str | None, number: int, what: str) -> RowError:
    message = f"Line {number} of {PREDICTIONS_FILE} {what}; its row has no answer."
    return RowError(key, MALFORMED, message, number)


# --------------------------------------------------------------------------- helpers


def _wire(value: Any) -> Any:
    """An SDK value as REST JSON: camelCase names, bytes as base64, unset fields left out."""
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, list):
        return [_wire(item) for item in value]
    return value.value if hasattr(value, "value") else value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _name(value: object) -> str | None:
    if value is None:
        return None
    return getattr(value, "value", None) or str(value)


def _gs(uri: str) -> tuple[str, str]:
    try:
        return parse_gs_uri(uri)
    except StagingError as exc:
        raise BatchError(str(exc)) from exc


@contextmanager
def _storage_errors(
    client: storage.Client, bucket: str, uri: str, *, writing: bool
) -> Iterator[None]:
    try:
        with explained(client, bucket, uri, writing=writing):
            yield
    except StagingError as exc:
        raise BatchError(str(exc)) from exc


@contextmanager
def _vertex_errors(doing: str) -> Iterator[None]:
    """SDK and transport errors as a BatchError that says what to do."""
    try:
        yield
    except genai_errors.APIError as exc:
        raise BatchError(f"{doing} failed: {_api_advice(exc)}") from exc
    except httpx.TimeoutException as exc:
        raise BatchError(f"{doing} failed: Vertex AI did not answer in time; try again.") from exc
    except httpx.TransportError as exc:
        raise BatchError(
            f"{doing} failed: could not reach Vertex AI ({exc}). Check the network connection "
            "and GOOGLE_VERTEX_BASE_URL, if you set one."
        ) from exc
    except ValueError as exc:  # the SDK's own checks (a job name it cannot use, a bad URI)
        raise BatchError(f"{doing} failed: {exc}") from exc


def _api_advice(exc: genai_errors.APIError) -> str:
    message = (exc.message or exc.status or "").strip()
    advice = {
        400: "Vertex AI refused it; change what the message names and submit again.",
        401: "sign in again: gcloud auth application-default login.",
        403: "ask for the Vertex AI User role (roles/aiplatform.user), and give Vertex AI's "
        "service agent read and write access to the bucket.",
        404: "not found in this project and location; check the model or job name and "
        "GOOGLE_CLOUD_LOCATION.",
        429: "the project has too many batch jobs or requests running; wait and try again.",
    }.get(exc.code, "try again; if it keeps happening, check the request and the bucket.")
    return f"{message} ({exc.code}): {advice}"
