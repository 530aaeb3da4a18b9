import google.auth.exceptions
import httpx
import pytest
from google.genai import errors

from reelscope.generation.errors import classify
from reelscope.generation.events import ErrorKind

REQUEST = httpx.Request("POST", "http://127.0.0.1/v1beta1/x")


def _build(code: int, body: dict) -> errors.APIError:
    """The error google-genai raises for this status and body."""
    cls = errors.ClientError if code < 500 else errors.ServerError
    return cls(code, body)


@pytest.mark.parametrize(
    ("exc", "kind", "retryable", "says"),
    [
        (
            _build(
                429,
                {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "slow down"}},
            ),
            ErrorKind.QUOTA,
            True,
            "slow down",
        ),
        (
            _build(500, {"error": {"code": 500, "status": "INTERNAL", "message": "oops"}}),
            ErrorKind.SERVER,
            True,
            "(500)",
        ),
        (
            _build(503, {"error": {"code": 503, "status": "UNAVAILABLE", "message": "busy"}}),
            ErrorKind.SERVER,
            True,
            "busy",
        ),
        (
            _build(
                400, {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "bad fps"}}
            ),
            ErrorKind.INVALID_ARGUMENT,
            False,
            "bad fps",
        ),
        (
            _build(401, {"error": {"code": 401, "status": "UNAUTHENTICATED", "message": "who?"}}),
            ErrorKind.CREDENTIALS,
            False,
            "gcloud auth",
        ),
        (
            _build(403, {"error": {"code": 403, "status": "PERMISSION_DENIED", "message": "no"}}),
            ErrorKind.PERMISSION,
            False,
            "roles/aiplatform.user",
        ),
        (
            _build(404, {"error": {"code": 404, "status": "NOT_FOUND", "message": "gone"}}),
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
            False,
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
