"""Turning what the SDKs raise into a RunError a person can act on.

google-genai raises typed APIErrors for HTTP statuses but lets httpx errors through as they are
(a cut stream, a timeout): SDK-NOTES.md lists what arrives for each fault. Whether a failure is
worth another try is decided in reelscope/retries.py, for generation and embeddings alike.

One table (`ADVICE`) says what each failure means and what to do about it. Its rows are keyed by
the fault (an HTTP status or a transport fault), the backend and Google's reason; a row whose
backend is ANY serves both, so a backend has its own row only where the same status means
something else there. The Gemini Developer API's rows follow its troubleshooting page
(https://ai.google.dev/gemini-api/docs/troubleshooting) and Google's answers to a wrong key
(400 INVALID_ARGUMENT, reason API_KEY_INVALID) and a missing one (403), as the emulator gives them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import google.auth.exceptions
import httpx
from google.genai import errors as genai_errors

from reelscope.generation.events import ErrorKind, RunError
from reelscope.retries import retryable
from reelscope.settings import (
    BACKEND_GEMINI_API,
    BACKEND_NAMES,
    BACKEND_VERTEX,
    ENV_BACKEND,
    ENV_BASE_URL,
    ENV_GEMINI_API_KEY,
    ENV_GEMINI_BASE_URL,
    ENV_PROJECT,
)
from reelscope.vertex import LOGIN_COMMAND

ANY = None  # a row for every backend, or for every reason
API_KEY_PAGE = "https://aistudio.google.com/apikey"
RATE_LIMITS_PAGE = "https://ai.google.dev/gemini-api/docs/rate-limits"
# Transport faults and the catch-alls, beside the HTTP statuses in the table's first column.
SERVER_FAULT, OTHER_STATUS = "server", "other status"
CREDENTIALS_FAULT, TIMEOUT_FAULT = "credentials", "timeout"
CONNECT_FAULT, CUT_FAULT, UNEXPECTED = "connect", "cut", "unexpected"


@dataclasses.dataclass(frozen=True)
class Advice:
    """What a failure means and what to do. Both are str.format templates over: service (the
    backend's name), server (Google's message or the exception's text), code, error_type,
    model_id, project, location, where_else."""

    kind: ErrorKind
    message: str
    hint: str


ADVICE: dict[tuple[int | str, str | None, str | None], Advice] = {
    (401, BACKEND_VERTEX, ANY): Advice(
        ErrorKind.CREDENTIALS,
        "{service} did not accept your credentials: {server}",
        f"Run `{LOGIN_COMMAND}` and try again.",
    ),
    (401, BACKEND_GEMINI_API, ANY): Advice(
        ErrorKind.CREDENTIALS,
        "The Gemini Developer API did not accept the key: {server}",
        f"Check the key in {ENV_GEMINI_API_KEY}, or make a new one at {API_KEY_PAGE}.",
    ),
    (400, BACKEND_GEMINI_API, "API_KEY_INVALID"): Advice(
        ErrorKind.CREDENTIALS,
        f"The key in {ENV_GEMINI_API_KEY} is not valid: {{server}}",
        f"Make a key at {API_KEY_PAGE}, put it in {ENV_GEMINI_API_KEY} and restart Reelscope.",
    ),
    (400, BACKEND_GEMINI_API, "FAILED_PRECONDITION"): Advice(
        ErrorKind.PERMISSION,
        "The Gemini Developer API will not serve this key from where you are: {server}",
        "Its free tier is not offered in every country: enable billing for the key's project in "
        f"Google AI Studio, or use Vertex AI ({ENV_PROJECT} and {ENV_BACKEND}={BACKEND_VERTEX}).",
    ),
    (400, ANY, ANY): Advice(
        ErrorKind.INVALID_ARGUMENT,
        "{service} refused the request: {server}",
        "Change the input or the parameters it names, then run again.",
    ),
    (403, BACKEND_VERTEX, ANY): Advice(
        ErrorKind.PERMISSION,
        "Permission denied on project {project}: {server}",
        "Enable the Vertex AI API (`gcloud services enable aiplatform.googleapis.com`) and "
        "ask for the Vertex AI User role (roles/aiplatform.user) on the project.",
    ),
    (403, BACKEND_GEMINI_API, ANY): Advice(
        ErrorKind.PERMISSION,
        "The Gemini Developer API refused the key: {server}",
        f"Check that {ENV_GEMINI_API_KEY} is set, that the key's API restrictions allow the "
        "Generative Language API, and that Google AI Studio shows its project as available "
        f"(not restricted). A new key: {API_KEY_PAGE}.",
    ),
    (404, BACKEND_VERTEX, ANY): Advice(
        ErrorKind.NOT_FOUND,
        "Model {model_id} was not found in location {location}: {server}",
        "{where_else}",
    ),
    (404, BACKEND_GEMINI_API, ANY): Advice(
        ErrorKind.NOT_FOUND,
        "Model {model_id} was not found on the Gemini Developer API: {server}",
        "It may be served only on Vertex AI, retired there, or misspelled: pick a model the "
        "Models page lists for this backend.",
    ),
    (429, BACKEND_VERTEX, ANY): Advice(
        ErrorKind.QUOTA,
        "Quota exhausted (429): {server}",
        "Wait a minute and try again, or ask for a higher quota for this model.",
    ),
    (429, BACKEND_GEMINI_API, ANY): Advice(
        ErrorKind.QUOTA,
        "Rate limit reached (429): {server}",
        "Wait a minute and try again. The key's limits depend on its project's tier "
        f"({RATE_LIMITS_PAGE}); enabling billing in Google AI Studio raises them.",
    ),
    (SERVER_FAULT, ANY, ANY): Advice(
        ErrorKind.SERVER,
        "{service} had a server error ({code}): {server}",
        "This is usually temporary: try again in a moment.",
    ),
    (OTHER_STATUS, BACKEND_VERTEX, ANY): Advice(
        ErrorKind.UNKNOWN,
        "{service} answered {code}: {server}",
        "Try again; if it keeps happening, check the Vertex AI status page.",
    ),
    (OTHER_STATUS, BACKEND_GEMINI_API, ANY): Advice(
        ErrorKind.UNKNOWN,
        "{service} answered {code}: {server}",
        "Try again; if it keeps happening, check https://aistudio.google.com/status.",
    ),
    (CREDENTIALS_FAULT, ANY, ANY): Advice(
        ErrorKind.CREDENTIALS,
        "Your Google Cloud credentials could not be used: {server}",
        f"Run `{LOGIN_COMMAND}` and try again.",
    ),
    (TIMEOUT_FAULT, ANY, ANY): Advice(
        ErrorKind.TIMEOUT,
        "{service} did not answer in time.",
        "Try again, use a shorter clip, or raise REELSCOPE_REQUEST_TIMEOUT (seconds).",
    ),
    (CONNECT_FAULT, BACKEND_VERTEX, ANY): Advice(
        ErrorKind.NETWORK,
        "Could not reach {service}: {server}",
        f"Check your network connection and {ENV_BASE_URL}, if you set one.",
    ),
    (CONNECT_FAULT, BACKEND_GEMINI_API, ANY): Advice(
        ErrorKind.NETWORK,
        "Could not reach {service}: {server}",
        f"Check your network connection and {ENV_GEMINI_BASE_URL}, if you set one.",
    ),
    (CUT_FAULT, ANY, ANY): Advice(
        ErrorKind.STREAM_CUT,
        "The connection to {service} closed before the answer was complete.",
        "Run it again for the full answer.",
    ),
    (UNEXPECTED, ANY, ANY): Advice(
        ErrorKind.UNKNOWN,
        "Unexpected error ({error_type}): {server}",
        "Try again; if it keeps happening, please report it with this message.",
    ),
}


def classify(
    exc: BaseException,
    *,
    model_id: str,
    project: str | None,
    location: str,
    backend: str = BACKEND_VERTEX,
) -> RunError:
    """A RunError for `exc` on `backend`, with a message that says what happened and a hint of
    what to do."""
    fault, reason, server = _fault(exc)
    advice = advice_for(fault, backend, reason)
    fields = {
        "service": BACKEND_NAMES[backend],
        "server": server,
        "code": getattr(exc, "code", ""),
        "error_type": type(exc).__name__,
        "model_id": model_id,
        "project": project,
        "location": location,
        "where_else": _not_found_hint(location),
    }
    return RunError(
        advice.kind,
        advice.message.format(**fields),
        advice.hint.format(**fields),
        retryable=retryable(exc),
    )


def advice_for(fault: int | str, backend: str, reason: str | None) -> Advice:
    """The table's most specific row: this backend and reason, then either one as ANY."""
    for key in ((fault, backend, reason), (fault, backend, ANY), (fault, ANY, reason)):
        if key in ADVICE:
            return ADVICE[key]
    return ADVICE[(fault, ANY, ANY)]


def _fault(exc: BaseException) -> tuple[int | str, str | None, str]:
    """The table's fault for `exc`, Google's reason where it gives one, and its own words."""
    if isinstance(exc, genai_errors.APIError):
        server = (exc.message or exc.status or "").strip()
        code = exc.code
        if code == 408 or code >= 500:
            return SERVER_FAULT, None, server
        if code in (400, 401, 403, 404, 429):
            return code, _reason(exc), server
        return OTHER_STATUS, None, server
    if isinstance(exc, google.auth.exceptions.GoogleAuthError):
        return CREDENTIALS_FAULT, None, str(exc)
    if isinstance(exc, httpx.TimeoutException):
        return TIMEOUT_FAULT, None, str(exc)
    if isinstance(exc, httpx.ConnectError):
        return CONNECT_FAULT, None, str(exc)
    if isinstance(exc, httpx.TransportError):
        return CUT_FAULT, None, str(exc)
    return UNEXPECTED, None, str(exc)


def _reason(exc: genai_errors.APIError) -> str | None:
    """Google's ErrorInfo reason (API_KEY_INVALID), else the status when it says more than the
    HTTP code (FAILED_PRECONDITION is a 400 too)."""
    body: Any = exc.details.get("error") if isinstance(exc.details, dict) else None
    details = body.get("details") if isinstance(body, dict) else None
    for detail in details if isinstance(details, list) else ():
        if isinstance(detail, dict) and detail.get("reason"):
            return str(detail["reason"])
    return exc.status or None


def _not_found_hint(location: str) -> str:
    if location == "global":  # advising "set it to global" would send the user in a circle
        return (
            "It may be retired, not yet available to your project, or misspelled. Pick another "
            "model on the Models page, or check the model's Vertex AI page for where it is served."
        )
    return (
        "It may be retired or not served in this location. Pick another model, or set "
        "GOOGLE_CLOUD_LOCATION=global (several current models are served only there)."
    )
