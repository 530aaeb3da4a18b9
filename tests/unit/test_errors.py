import google.auth.exceptions
import httpx
import pytest
from google.genai import errors

from reelscope.generation.errors import classify
from reelscope.generation.events import ErrorKind

REQUEST = httpx.Request("POST", "http://127.0.0.1/v1beta1/x")


def api_error(code: int, status: str, message: str) -> errors.APIError:
    """The error google-genai raises for a Google error body with this status."""
    cls = errors.ClientError if code < 500 else errors.ServerError
    return cls(code, {"error": {"code": code, "status": status, "message": message}})


@pytest.mark.parametrize(
    ("exc", "kind", "retryable", "says"),
    [
        (
            api_error(429, "RESOURCE_EXHAUSTED", "slow down"),
            ErrorKind.QUOTA,
            True,
            "slow down",
        ),
        (
            api_error(500, "INTERNAL", "oops"),
            ErrorKind.SERVER,
            True,
            "(500)",
        ),
        (
            api_error(503, "UNAVAILABLE", "busy"),
            ErrorKind.SERVER,
            True,
            "busy",
        ),
        (
            api_error(408, "DEADLINE_EXCEEDED", "took too long"),
            ErrorKind.SERVER,
            True,
            "took too long",
        ),
        (
            api_error(400, "INVALID_ARGUMENT", "bad fps"),
            ErrorKind.INVALID_ARGUMENT,
            False,
            "bad fps",
        ),
        (
            api_error(401, "UNAUTHENTICATED", "who?"),
            ErrorKind.CREDENTIALS,
            False,
            "gcloud auth",
        ),
        (
            api_error(403, "PERMISSION_DENIED", "no"),
            ErrorKind.PERMISSION,
            False,
            "roles/aiplatform.user",
        ),
        (
            api_error(404, "NOT_FOUND", "gone"),
            ErrorKind.NOT_FOUND,
            False,
            "retired",
        ),
        (
            google.auth.exceptions.RefreshError("token expired"),
            ErrorKind.CREDENTIALS,
            False,
            "gcloud auth application-default login",
        ),
        (
            httpx.ReadTimeout("slow", request=REQUEST),
            ErrorKind.TIMEOUT,
            True,
            "REELSCOPE_REQUEST_TIMEOUT",
        ),
        (
            httpx.ConnectError("refused", request=REQUEST),
            ErrorKind.NETWORK,
            True,
            "GOOGLE_VERTEX_BASE_URL",
        ),
        (
            httpx.RemoteProtocolError("peer closed", request=REQUEST),
            ErrorKind.STREAM_CUT,
            True,
            "closed before the answer was complete",
        ),
        (ValueError("surprise"), ErrorKind.UNKNOWN, False, "(ValueError): surprise"),
    ],
)
def test_each_failure_maps_to_a_kind_a_message_and_a_hint(exc, kind, retryable, says):
    error = classify(exc, model_id="gemini-3.5-flash", project="p", location="global")
    assert (error.kind, error.retryable) == (kind, retryable)
    assert says in f"{error.message} {error.hint}"
    assert error.hint, "every message says what to do"


@pytest.mark.parametrize(("location", "advises_global"), [("global", False), ("us-central1", True)])
def test_not_found_advises_the_global_location_only_when_elsewhere(location, advises_global):
    error = classify(
        api_error(404, "NOT_FOUND", "gone"), model_id="m", project="p", location=location
    )
    assert error.kind is ErrorKind.NOT_FOUND
    assert f"location {location}" in error.message
    assert ("GOOGLE_CLOUD_LOCATION=global" in error.hint) is advises_global
    assert "retired" in error.hint
