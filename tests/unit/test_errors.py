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


WRONG_KEY = errors.ClientError(
    400,
    {
        "error": {
            "code": 400,
            "status": "INVALID_ARGUMENT",
            "message": "API key not valid. Please pass a valid API key.",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
            ],
        }
    },
)
LOCATION_REFUSED = api_error(
    400, "FAILED_PRECONDITION", "User location is not supported for the API use."
)


@pytest.mark.parametrize(
    ("exc", "vertex_says", "gemini_api_says", "kind_on_gemini_api"),
    [
        (
            WRONG_KEY,
            "Change the input",
            "https://aistudio.google.com/apikey",
            ErrorKind.CREDENTIALS,
        ),
        (LOCATION_REFUSED, "Change the input", "enable billing", ErrorKind.PERMISSION),
        (
            api_error(401, "UNAUTHENTICATED", "who?"),
            "gcloud auth application-default login",
            "make a new one at https://aistudio.google.com/apikey",
            ErrorKind.CREDENTIALS,
        ),
        (
            api_error(403, "PERMISSION_DENIED", "no"),
            "roles/aiplatform.user",
            "API restrictions allow the Generative Language API",
            ErrorKind.PERMISSION,
        ),
        (
            api_error(404, "NOT_FOUND", "gone"),
            "Vertex AI page",
            "served only on Vertex AI",
            ErrorKind.NOT_FOUND,
        ),
        (
            api_error(429, "RESOURCE_EXHAUSTED", "slow"),
            "higher quota",
            "https://ai.google.dev/gemini-api/docs/rate-limits",
            ErrorKind.QUOTA,
        ),
        (
            httpx.ConnectError("refused", request=REQUEST),
            "GOOGLE_VERTEX_BASE_URL",
            "GOOGLE_GEMINI_BASE_URL",
            ErrorKind.NETWORK,
        ),
        (api_error(418, "TEAPOT", "odd"), "Vertex AI status", "aistudio.google.com/status", None),
    ],
)
def test_the_same_failure_gets_each_backends_own_hint(
    exc, vertex_says, gemini_api_says, kind_on_gemini_api
):
    on_vertex = classify(exc, model_id="m", project="p", location="global", backend="vertex")
    on_key = classify(exc, model_id="m", project=None, location="global", backend="gemini-api")
    assert vertex_says in on_vertex.hint and gemini_api_says not in on_vertex.hint
    assert gemini_api_says in on_key.hint and vertex_says not in on_key.hint
    assert on_key.kind is (kind_on_gemini_api or on_vertex.kind)
    assert on_key.retryable == on_vertex.retryable
    for gcloud_word in ("gcloud", "roles/", "GOOGLE_CLOUD_LOCATION", "project None"):
        assert gcloud_word not in f"{on_key.message} {on_key.hint}"


@pytest.mark.parametrize(
    "exc",
    [
        api_error(500, "INTERNAL", "oops"),
        httpx.ReadTimeout("slow", request=REQUEST),
        httpx.RemoteProtocolError("peer closed", request=REQUEST),
    ],
)
def test_a_failure_that_means_the_same_names_the_backend_that_answered(exc):
    on_key = classify(exc, model_id="m", project=None, location="global", backend="gemini-api")
    on_vertex = classify(exc, model_id="m", project="p", location="global", backend="vertex")
    assert "Gemini Developer API" in on_key.message and "Vertex AI" not in on_key.message
    assert "Vertex AI" in on_vertex.message
    assert on_key.hint == on_vertex.hint


def test_the_wrong_key_is_told_by_googles_reason_not_by_the_status_alone():
    on_key = classify(WRONG_KEY, model_id="m", project=None, location="", backend="gemini-api")
    assert on_key.message.startswith("The key in GEMINI_API_KEY is not valid: API key not valid")
    assert not on_key.retryable
    other_400 = classify(
        api_error(400, "INVALID_ARGUMENT", "bad fps"),
        model_id="m",
        project=None,
        location="",
        backend="gemini-api",
    )
    assert other_400.kind is ErrorKind.INVALID_ARGUMENT and "bad fps" in other_400.message


def test_every_row_of_the_table_formats_with_the_fields_classify_gives():
    from reelscope.generation.errors import ADVICE

    fields = dict.fromkeys(
        ("service", "server", "code", "error_type", "model_id", "project", "location"), "x"
    )
    for advice in ADVICE.values():
        assert advice.message.format(**fields, where_else="w")
        assert advice.hint.format(**fields, where_else="w")
