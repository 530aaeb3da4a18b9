"""The one place that builds Google clients, from a `Settings` object.

Two backends answer Gemini requests (`settings.choose_backend` decides which): Vertex AI, with
Application Default Credentials, and the Gemini Developer API, with an API key. On Vertex,
credentials come from Application Default Credentials alone. Before asking google-auth, we look
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

from reelscope.settings import (
    BACKEND_GEMINI_API,
    BACKEND_NAMES,
    BACKEND_VERTEX,
    ENV_BACKEND,
    ENV_GEMINI_API_KEY,
    BackendChoice,
    BackendSettingError,
    Settings,
    choose_backend,
)

if TYPE_CHECKING:
    from google.cloud.aiplatform_v1 import PredictionServiceClient

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
LOGIN_COMMAND = "gcloud auth application-default login"
GEMINI_API_ENDPOINT = "https://generativelanguage.googleapis.com"  # google-genai's own default
GenaiClient = Client  # re-exported so the UI layer can name the type without importing google.*


class NotConnected(RuntimeError):
    """Reelscope cannot call its backend yet; `fixes` are the commands that would change that."""

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
    backend: str = BACKEND_VERTEX
    backend_reason: str = ""  # why this backend answers, e.g. "only GEMINI_API_KEY is set"

    @property
    def ready(self) -> bool:
        return not self.problems

    @property
    def backend_name(self) -> str:
        return BACKEND_NAMES[self.backend]


# Where credentials come from, as the sidebar names them: never a file path (the page may be
# seen by others, and the path of a key file tells them where to look).
FROM_CREDENTIALS_FILE = "GOOGLE_APPLICATION_CREDENTIALS file"
FROM_GCLOUD_LOGIN = "gcloud application-default login"
FROM_METADATA_SERVER = "Google Cloud metadata server (attached service account)"
FROM_GEMINI_API_KEY = f"API key from {ENV_GEMINI_API_KEY}"  # the name, never the value
_VERTEX_ONLY = BackendChoice(BACKEND_VERTEX, "this part of Reelscope needs Vertex AI")


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
    try:
        choice = choose_backend(settings)
    except BackendSettingError as exc:
        return Connection(
            project=settings.project,
            location=settings.location,
            endpoint=settings.endpoint,
            endpoint_overridden=settings.endpoint_overridden,
            credentials_source=None,
            problems=(str(exc),),
            fixes=(f"unset {ENV_BACKEND}",),
            backend_reason=f"{ENV_BACKEND} is not a known backend",
        )
    if choice.backend == BACKEND_GEMINI_API:
        return _describe_gemini_api(settings, choice)
    return _describe_vertex(settings, choice)


def _describe_gemini_api(settings: Settings, choice: BackendChoice) -> Connection:
    problems: tuple[str, ...] = ()
    fixes: tuple[str, ...] = ()
    if not settings.gemini_api_key:
        problems = (f"{choice.reason} but {ENV_GEMINI_API_KEY} is not set.",)
        fixes = (f"export {ENV_GEMINI_API_KEY}=your-api-key-from-ai-studio",)
    return Connection(
        project=None,
        location="",  # the Developer API has no locations to choose
        endpoint=settings.gemini_base_url or GEMINI_API_ENDPOINT,
        endpoint_overridden=bool(settings.gemini_base_url),
        credentials_source=FROM_GEMINI_API_KEY if settings.gemini_api_key else None,
        problems=problems,
        fixes=fixes,
        backend=choice.backend,
        backend_reason=choice.reason,
    )


def _describe_vertex(settings: Settings, choice: BackendChoice) -> Connection:
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
        backend=choice.backend,
        backend_reason=choice.reason,
    )


def connected_credentials(settings: Settings) -> google.auth.credentials.Credentials:
    """Application Default Credentials for a ready Vertex connection; NotConnected with the fix.

    Whatever the backend: Cloud Storage and the prediction client exist only on Google Cloud.
    """
    connection = _describe_vertex(settings, _VERTEX_ONLY)
    if not connection.ready:
        raise NotConnected(" ".join(connection.problems), connection.fixes)
    try:
        return _load_credentials(settings)
    except google.auth.exceptions.GoogleAuthError as exc:
        raise NotConnected(
            f"Application Default Credentials could not be loaded: {exc}", (LOGIN_COMMAND,)
        ) from exc


def make_genai_client(settings: Settings) -> Client:
    """A google-genai client for the chosen backend. Raises NotConnected with the fix when it
    cannot be built."""
    connection = describe_connection(settings)
    if not connection.ready:
        raise NotConnected(" ".join(connection.problems), connection.fixes)
    if connection.backend == BACKEND_GEMINI_API:
        # vertexai=False as an argument: the SDK would otherwise read GOOGLE_GENAI_USE_VERTEXAI.
        return Client(
            vertexai=False,
            api_key=settings.gemini_api_key,
            http_options=types.HttpOptions(
                base_url=settings.gemini_base_url,
                timeout=int(settings.request_timeout_s * 1000),
            ),
        )
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


def backend_of(client: Client) -> str:
    """Which backend a client built here answers from (settings.BACKENDS): what its errors mean
    and what a run records."""
    return BACKEND_VERTEX if client.vertexai else BACKEND_GEMINI_API


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
