"""One policy and one classifier of what is worth retrying, for generation and embeddings."""

import google.auth.exceptions
import httpx
import pytest
import requests
from google.api_core import exceptions as api_core
from google.genai import errors as genai_errors

from reelscope.embeddings import jobs
from reelscope.generation.errors import classify
from reelscope.retries import RetryPolicy, retryable

REQUEST = httpx.Request("POST", "http://127.0.0.1/v1/x")


def genai_error(code: int) -> genai_errors.APIError:
    cls = genai_errors.ClientError if code < 500 else genai_errors.ServerError
    return cls(code, {"error": {"code": code, "status": "X", "message": "m"}})


WORTH_ANOTHER_TRY = [
    genai_error(408),
    genai_error(429),
    genai_error(500),
    genai_error(503),
    api_core.TooManyRequests("quota"),
    api_core.ServiceUnavailable("busy"),
    api_core.DeadlineExceeded("late"),  # 504
    api_core.InternalServerError("oops"),
    httpx.ReadTimeout("slow", request=REQUEST),
    httpx.ConnectTimeout("slow", request=REQUEST),
    httpx.ConnectError("refused", request=REQUEST),
    httpx.RemoteProtocolError("peer closed", request=REQUEST),
    requests.ReadTimeout("slow"),
    requests.ConnectionError("refused"),
    TimeoutError("slow"),
    ConnectionResetError("reset"),
]
NOT_WORTH_IT = [
    genai_error(400),
    genai_error(401),
    genai_error(403),
    genai_error(404),
    api_core.InvalidArgument("bad"),
    api_core.PermissionDenied("no"),
    api_core.NotFound("gone"),
    google.auth.exceptions.RefreshError("expired"),
    ValueError("a bug"),
]


@pytest.mark.parametrize("exc", WORTH_ANOTHER_TRY, ids=repr)
def test_quota_timeouts_server_and_transport_errors_are_retried(exc):
    assert retryable(exc)


@pytest.mark.parametrize("exc", NOT_WORTH_IT, ids=repr)
def test_what_would_fail_again_is_not(exc):
    assert not retryable(exc)


@pytest.mark.parametrize("exc", WORTH_ANOTHER_TRY + NOT_WORTH_IT, ids=repr)
def test_generation_and_embeddings_decide_alike(exc):
    error = classify(exc, model_id="gemini-3.5-flash", project="p", location="global")
    assert error.retryable is jobs.retryable(exc) is retryable(exc)


def test_both_use_the_one_policy_type():
    from reelscope.generation import runner

    assert runner.RetryPolicy is jobs.RetryPolicy is RetryPolicy


def test_backoff_doubles_up_to_its_cap():
    policy = RetryPolicy(attempts=6, initial_delay_s=0.5, max_delay_s=3.0, jitter=0)
    assert [policy.delay(n) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_jitter_stays_within_its_share():
    policy = RetryPolicy(initial_delay_s=2.0, jitter=0.25)
    delays = [policy.delay(0) for _ in range(200)]
    assert all(1.5 <= d <= 2.5 for d in delays)
    assert len(set(delays)) > 1, "calls that failed together do not retry in step"


@pytest.mark.parametrize(
    ("exc", "says"),
    [
        (genai_error(429), "Quota exhausted (429) after several tries"),
        (genai_error(408), "Vertex AI kept failing (408)"),
        (api_core.ServiceUnavailable("busy"), "Vertex AI kept failing (503)"),
        (api_core.InvalidArgument("bad"), "Vertex AI refused it (400)"),
    ],
)
def test_an_embedding_failure_keeps_its_message(exc, says):
    assert says in jobs.failure_reason(exc)
