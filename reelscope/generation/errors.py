"""Turning what the SDKs raise into a RunError a person can act on.

google-genai raises typed APIErrors for HTTP statuses but lets httpx errors through as they are
(a cut stream, a timeout): SDK-NOTES.md lists what arrives for each fault. Whether a failure is
worth another try is decided in reelscope/retries.py, for generation and embeddings alike.
"""

from __future__ import annotations

import dataclasses

import google.auth.exceptions
import httpx
from google.genai import errors as genai_errors

from reelscope.generation.events import ErrorKind, RunError
from reelscope.retries import retryable
from reelscope.vertex import LOGIN_COMMAND


def classify(exc: BaseException, *, model_id: str, project: str | None, location: str) -> RunError:
    """A RunError for `exc`, with a message that says what happened and a hint of what to do."""
    error = _described(exc, model_id=model_id, project=project, location=location)
    return dataclasses.replace(error, retryable=retryable(exc))


def _described(
    exc: BaseException, *, model_id: str, project: str | None, location: str
) -> RunError:
    if isinstance(exc, genai_errors.APIError):
        return _from_api_error(exc, model_id=model_id, project=project, location=location)
    if isinstance(exc, google.auth.exceptions.GoogleAuthError):
        return RunError(
            ErrorKind.CREDENTIALS,
            f"Your Google Cloud credentials could not be used: {exc}",
            f"Run `{LOGIN_COMMAND}` and try again.",
        )
    if isinstance(exc, httpx.TimeoutException):
        return RunError(
            ErrorKind.TIMEOUT,
            "Vertex AI did not answer in time.",
            "Try again, use a shorter clip, or raise REELSCOPE_REQUEST_TIMEOUT (seconds).",
        )
    if isinstance(exc, httpx.ConnectError):
        return RunError(
            ErrorKind.NETWORK,
            f"Could not reach Vertex AI: {exc}",
            "Check your network connection and GOOGLE_VERTEX_BASE_URL, if you set one.",
        )
    if isinstance(exc, httpx.TransportError):
        return RunError(
            ErrorKind.STREAM_CUT,
            "The connection to Vertex AI closed before the answer was complete.",
            "Run it again for the full answer.",
        )
    return RunError(
        ErrorKind.UNKNOWN,
        f"Unexpected error ({type(exc).__name__}): {exc}",
        "Try again; if it keeps happening, please report it with this message.",
    )


def _from_api_error(
    exc: genai_errors.APIError, *, model_id: str, project: str | None, location: str
) -> RunError:
    server_message = (exc.message or exc.status or "").strip()
    code = exc.code
    if code == 401:
        return RunError(
            ErrorKind.CREDENTIALS,
            f"Vertex AI did not accept your credentials: {server_message}",
            f"Run `{LOGIN_COMMAND}` and try again.",
        )
    if code == 403:
        return RunError(
            ErrorKind.PERMISSION,
            f"Permission denied on project {project}: {server_message}",
            "Enable the Vertex AI API (`gcloud services enable aiplatform.googleapis.com`) and "
            "ask for the Vertex AI User role (roles/aiplatform.user) on the project.",
        )
    if code == 404:
        return RunError(
            ErrorKind.NOT_FOUND,
            f"Model {model_id} was not found in location {location}: {server_message}",
            _not_found_hint(location),
        )
    if code == 429:
        return RunError(
            ErrorKind.QUOTA,
            f"Quota exhausted (429): {server_message}",
            "Wait a minute and try again, or ask for a higher quota for this model.",
        )
    if code == 408 or code >= 500:
        return RunError(
            ErrorKind.SERVER,
            f"Vertex AI had a server error ({code}): {server_message}",
            "This is usually temporary: try again in a moment.",
        )
    if code == 400:
        return RunError(
            ErrorKind.INVALID_ARGUMENT,
            f"Vertex AI refused the request: {server_message}",
            "Change the input or the parameters it names, then run again.",
        )
    return RunError(
        ErrorKind.UNKNOWN,
        f"Vertex AI answered {code}: {server_message}",
        "Try again; if it keeps happening, check the Vertex AI status page.",
    )


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
