"""The one place that builds Google clients, from a `Settings` object.

Credentials come from Application Default Credentials alone. Before asking google-auth, we look
for an ADC source ourselves: on a laptop without one, google-auth would probe the metadata
server for seconds before failing, and the app must say at once what to set up.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import google.auth
import google.auth.credentials
import google.auth.exceptions
from google.genai import Client, types

from reelscope.settings import Settings

if TYPE_CHECKING:
    from google.cloud.aiplatform_v1 import PredictionServiceClient

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
LOGIN_COMMAND = "gcloud auth application-default login"
GenaiClient = Client  # re-exported so the UI layer can name the type without importing google.*


class NotConnected(RuntimeError):
    """Reelscope cannot call Vertex AI yet; `fixes` are the commands that would change that."""

    def __init__(self, message: str, fixes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.fixes = fixes


@dataclass(frozen=True)
class Connection:
    """What the sidebar shows: where requests go and with which credentials, or what is missing."""

    project: str | None
    location: str
    endpoint: str
    endpoint_overridden: bool
    credentials_source: str | None
    problems: tuple[str, ...] = ()
    fixes: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        return not self.problems


# Where credentials come from, as the sidebar names them: never a file path (the page may be
# seen by others, and the path of a key file tells them where to look).
FROM_CREDENTIALS_FILE = "GOOGLE_APPLICATION_CREDENTIALS file"
FROM_GCLOUD_LOGIN = "gcloud application-default login"
FROM_METADATA_SERVER = "Google Cloud metadata server (attached service account)"


def credentials_source(settings: Settings) -> str | None:
    """Where Application Default Credentials would come from, found without any network call.

    Follows google-auth's order: the named file, gcloud's login file, the metadata server.
    """
    if settings.credentials_file:
        return FROM_CREDENTIALS_FILE if _credentials_file(settings).is_file() else None
    if settings.gcloud_adc_file is not None and settings.gcloud_adc_file.is_file():
        return FROM_GCLOUD_LOGIN
    if settings.metadata_server:
        return FROM_METADATA_SERVER
    return None


def describe_connection(settings: Settings) -> Connection:
    """The connection as configured; cheap and offline, so it can run on every page load."""
    source = credentials_source(settings)
    problems: list[str] = []
    fixes: list[str] = []
    if settings.credentials_file and source is None:
        problems.append(
            "GOOGLE_APPLICATION_CREDENTIALS names a file that does not exist "
            "(check its value where you start Reelscope)."
        )
        fixes.append("unset GOOGLE_APPLICATION_CREDENTIALS")
        fixes.append(LOGIN_COMMAND)
    elif source is None:
        problems.append("No Application Default Credentials found.")
        fixes.append(LOGIN_COMMAND)
    if not settings.project:
        problems.append("No Google Cloud project set.")
        fixes.append("export GOOGLE_CLOUD_PROJECT=your-project-id")
    return Connection(
        project=settings.project,
        location=settings.location,
        endpoint=settings.endpoint,
        endpoint_overridden=settings.endpoint_overridden,
        credentials_source=source,
        problems=tuple(problems),
        fixes=tuple(fixes),
    )


def connected_credentials(settings: Settings) -> google.auth.credentials.Credentials:
    """Application Default Credentials for a ready connection; NotConnected with the fix."""
    connection = describe_connection(settings)
    if not connection.ready:
        raise NotConnected(" ".join(connection.problems), connection.fixes)
    try:
        return _load_credentials(settings)
    except google.auth.exceptions.GoogleAuthError as exc:
        raise NotConnected(
            f"Application Default Credentials could not be loaded: {exc}", (LOGIN_COMMAND,)
        ) from exc


def make_genai_client(settings: Settings) -> Client:
    """A google-genai client for Vertex AI. Raises NotConnected with the fix when it cannot be."""
    credentials = connected_credentials(settings)
    # vertexai, project and location must be arguments: only then does the SDK honour a base URL
    # override and build the full /projects/P/locations/L path (SDK-NOTES.md).
    return Client(
        vertexai=True,
        project=settings.project,
        location=settings.location,
        credentials=credentials,
        http_options=types.HttpOptions(
            base_url=settings.vertex_base_url,
            timeout=int(settings.request_timeout_s * 1000),
        ),
    )


def _load_credentials(settings: Settings) -> google.auth.credentials.Credentials:
    # The file may come from st.secrets rather than the environment google-auth reads itself,
    # and gcloud's login file from the Settings' view of the machine: load the one we named.
    key_file = _credentials_file(settings) if settings.credentials_file else None
    if key_file is None and settings.gcloud_adc_file and settings.gcloud_adc_file.is_file():
        key_file = settings.gcloud_adc_file
    if key_file is None:
        credentials, _ = google.auth.default(scopes=[CLOUD_PLATFORM_SCOPE])
        return credentials
    try:
        with warnings.catch_warnings():
            # google-auth warns about files of unknown origin; this is the user's own ADC file,
            # the very one google.auth.default() would load.
            warnings.simplefilter("ignore", DeprecationWarning)
            credentials, _ = google.auth.load_credentials_from_file(
                str(key_file), scopes=[CLOUD_PLATFORM_SCOPE]
            )
    except google.auth.exceptions.GoogleAuthError as exc:
        # google-auth names the file in its message; the page must not show key file paths.
        message = str(exc).replace(str(key_file), "the credentials file")
        raise google.auth.exceptions.DefaultCredentialsError(message) from exc
    return credentials


def _credentials_file(settings: Settings) -> Path:
    return Path(settings.credentials_file or "").expanduser()


def make_storage_client(settings: Settings) -> google.cloud.storage.Client:
    """A Cloud Storage client: the storage emulator when one is set, else ADC and the project.

    The emulator is passed as an explicit endpoint (not left to the library's own read of
    STORAGE_EMULATOR_HOST) so a value from st.secrets works too; it takes no credentials.
    """
    # Imported here: google.cloud.storage costs import time that pages without staging skip.
    from google.cloud import storage

    if settings.storage_emulator_host:
        host = settings.storage_emulator_host.rstrip("/")
        endpoint = host if "://" in host else f"http://{host}"  # a bare host:port means http
        return storage.Client(
            project=settings.project or "local-emulator",
            credentials=google.auth.credentials.AnonymousCredentials(),
            client_options={"api_endpoint": endpoint},
        )
    credentials = connected_credentials(settings)
    return storage.Client(project=settings.project, credentials=credentials)


# multimodalembedding@001 is served from regional hosts (`LOCATION-aiplatform.googleapis.com`);
# "global" has no such host, so with the default location it goes where the seed's sample sends
# it. Gemini models keep using the global endpoint through make_genai_client.
PREDICTION_FALLBACK_LOCATION = "us-central1"


def prediction_location(settings: Settings) -> str:
    """The location prediction requests (multimodalembedding@001) name in their path."""
    if settings.location == "global":
        return PREDICTION_FALLBACK_LOCATION
    return settings.location


def make_prediction_client(settings: Settings) -> PredictionServiceClient:
    """An aiplatform PredictionServiceClient over REST, with the same ADC as the genai client.

    GOOGLE_VERTEX_BASE_URL wins (it must carry its scheme: a bare host:port would mean https,
    SDK-NOTES.md); otherwise the regional endpoint of `prediction_location(settings)`.
    """
    # Imported here: aiplatform costs ~1 s of import time that pages without embeddings skip.
    from google.api_core.client_options import ClientOptions
    from google.cloud.aiplatform_v1.services.prediction_service import (
        PredictionServiceClient,
    )

    credentials = connected_credentials(settings)
    if settings.vertex_base_url:
        base = settings.vertex_base_url
        endpoint = base if "://" in base else f"https://{base}"
    else:
        endpoint = f"https://{prediction_location(settings)}-aiplatform.googleapis.com"
    return PredictionServiceClient(
        credentials=credentials,
        transport="rest",
        client_options=ClientOptions(api_endpoint=endpoint),
    )
