"""The one place that builds Google clients, from a `Settings` object.

Credentials come from Application Default Credentials alone. Before asking google-auth, we look
for an ADC source ourselves: on a laptop without one, google-auth would probe the metadata
server for seconds before failing, and the app must say at once what to set up.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import google.auth
import google.auth.credentials
import google.auth.exceptions
from google.auth import _cloud_sdk
from google.auth.compute_engine import _metadata
from google.genai import Client, types

from reelscope.settings import Settings

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


def credentials_source(settings: Settings) -> str | None:
    """Where Application Default Credentials would come from, found without any network call."""
    if settings.credentials_file:
        path = Path(settings.credentials_file).expanduser()
        return f"GOOGLE_APPLICATION_CREDENTIALS ({path})" if path.is_file() else None
    gcloud_file = Path(_cloud_sdk.get_application_default_credentials_path())
    if gcloud_file.is_file():
        return f"gcloud application-default login ({gcloud_file})"
    if settings.on_cloud_run or _metadata.detect_gce_residency_linux():
        return "the Google Cloud metadata server (attached service account)"
    return None


def describe_connection(settings: Settings) -> Connection:
    """The connection as configured; cheap and offline, so it can run on every page load."""
    source = credentials_source(settings)
    problems: list[str] = []
    fixes: list[str] = []
    if settings.credentials_file and source is None:
        problems.append(
            f"GOOGLE_APPLICATION_CREDENTIALS names {settings.credentials_file}, "
            "which does not exist."
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


def make_genai_client(settings: Settings) -> Client:
    """A google-genai client for Vertex AI. Raises NotConnected with the fix when it cannot be."""
    connection = describe_connection(settings)
    if not connection.ready:
        raise NotConnected(" ".join(connection.problems), connection.fixes)
    try:
        credentials = _load_credentials(settings)
    except google.auth.exceptions.GoogleAuthError as exc:
        raise NotConnected(
            f"Application Default Credentials could not be loaded: {exc}", (LOGIN_COMMAND,)
        ) from exc
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
    # The file may come from st.secrets rather than the environment google-auth reads itself.
    if settings.credentials_file:
        path = str(Path(settings.credentials_file).expanduser())
        with warnings.catch_warnings():
            # google-auth warns about files of unknown origin; this is the user's own ADC file,
            # the very one google.auth.default() would load from GOOGLE_APPLICATION_CREDENTIALS.
            warnings.simplefilter("ignore", DeprecationWarning)
            credentials, _ = google.auth.load_credentials_from_file(
                path, scopes=[CLOUD_PLATFORM_SCOPE]
            )
    else:
        credentials, _ = google.auth.default(scopes=[CLOUD_PLATFORM_SCOPE])
    return credentials


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
    connection = describe_connection(settings)
    if not connection.ready:
        raise NotConnected(" ".join(connection.problems), connection.fixes)
    try:
        credentials = _load_credentials(settings)
    except google.auth.exceptions.GoogleAuthError as exc:
        raise NotConnected(
            f"Application Default Credentials could not be loaded: {exc}", (LOGIN_COMMAND,)
        ) from exc
    return storage.Client(project=settings.project, credentials=credentials)
