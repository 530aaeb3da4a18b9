"""The one settings object, read from environment variables and Streamlit secrets.

Only this module knows the names of the settings; everything else receives a `Settings`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

DEFAULT_LOCATION = "global"  # several current Gemini models are served only there
DEFAULT_DATA_DIR = "data"

ENV_PROJECT = "GOOGLE_CLOUD_PROJECT"
ENV_LOCATION = "GOOGLE_CLOUD_LOCATION"
ENV_BASE_URL = "GOOGLE_VERTEX_BASE_URL"
# The Gemini Developer API (ai.google.dev): an API key instead of a project and ADC. The base
# URL override is google-genai's own name for it, so a test's emulator and the SDK agree.
ENV_GEMINI_API_KEY = "GEMINI_API_KEY"
ENV_GEMINI_BASE_URL = "GOOGLE_GEMINI_BASE_URL"
ENV_BACKEND = "REELSCOPE_BACKEND"
BACKEND_VERTEX = "vertex"
BACKEND_GEMINI_API = "gemini-api"
BACKENDS = (BACKEND_VERTEX, BACKEND_GEMINI_API)
BACKEND_NAMES = {BACKEND_VERTEX: "Vertex AI", BACKEND_GEMINI_API: "Gemini Developer API"}
ENV_CREDENTIALS = "GOOGLE_APPLICATION_CREDENTIALS"
ENV_DATA_DIR = "REELSCOPE_DATA_DIR"
# The run history in a shared PostgreSQL (postgresql+psycopg://…); unset: SQLite in the data folder.
ENV_DATABASE_URL = "REELSCOPE_DATABASE_URL"
ENV_STORAGE_EMULATOR = "STORAGE_EMULATOR_HOST"
ENV_BUCKET = "REELSCOPE_BUCKET"  # keeps uploads and collections' files; stages large ones
ENV_TIMEOUT = "REELSCOPE_REQUEST_TIMEOUT"
ENV_CLOUD_RUN_SERVICE = "K_SERVICE"  # set by Cloud Run: credentials come from its metadata server
# google-auth's own names (google.auth.environment_vars): where gcloud keeps its configuration,
# an explicit metadata server, and the switch that tells google-auth not to look for one.
ENV_GCLOUD_CONFIG = "CLOUDSDK_CONFIG"
ENV_METADATA_HOST = "GCE_METADATA_HOST"
ENV_NO_GCE_CHECK = "NO_GCE_CHECK"
# Compute Engine's documented residency check: the DMI product name is "Google Compute Engine".
DMI_PRODUCT_NAME = Path("/sys/class/dmi/id/product_name")
GCLOUD_ADC_FILE_NAME = "application_default_credentials.json"
DEFAULT_TIMEOUT_S = 300.0  # a long video can take minutes before the first token
ENV_EMBEDDING_MODEL = "REELSCOPE_EMBEDDING_MODEL"
ENV_WARM_UP_UMAP = "REELSCOPE_WARM_UP_UMAP"  # "false": no umap warm-up at server start
ENV_LIBRARY_MAX_GB = "REELSCOPE_LIBRARY_MAX_GB"  # uploads kept before the least used go
DEFAULT_LIBRARY_MAX_GB = 20.0
# The largest file the browser may send straight to the bucket (components/media/direct_upload):
# the server then copies it into the media library, on an instance whose files count as memory.
ENV_UPLOAD_MAX_GB = "REELSCOPE_UPLOAD_MAX_GB"
DEFAULT_UPLOAD_MAX_GB = 2.0
ENV_BATCH_POLL_S = "REELSCOPE_BATCH_POLL_S"
DEFAULT_BATCH_POLL_S = 30.0  # a batch job takes minutes to hours: its state is looked at this often
DEFAULT_EMBEDDING_MODEL = "gemini-embedding-2"  # the model Google's newest API reference lists
# Who the user is (reelscope/identity.py): "local", one user on this machine; "iap", each
# request's user verified from Identity-Aware Proxy's signed assertion; or "oidc", a user
# signed in with st.login at an OpenID Connect provider set in secrets ([auth]).
ENV_AUTH = "REELSCOPE_AUTH"
ENV_IAP_AUDIENCE = "REELSCOPE_IAP_AUDIENCE"  # /projects/NUMBER/locations/REGION/services/NAME
ENV_IAP_CERTS_URL = "REELSCOPE_IAP_CERTS_URL"  # IAP's public keys; the tests serve their own
AUTH_LOCAL = "local"
AUTH_IAP = "iap"
AUTH_OIDC = "oidc"
# IAP's keys as {key id: PEM}: the form google-auth verifies by itself (the JWK form at
# .../public_key-jwk needs PyJWT besides, and google-auth ignores the clock skew there).
DEFAULT_IAP_CERTS_URL = "https://www.gstatic.com/iap/verify/public_key"


@dataclass(frozen=True)
class Settings:
    """Where Reelscope talks to and where it keeps its files. Hashable, so it can key caches."""

    project: str | None = None
    location: str = DEFAULT_LOCATION
    vertex_base_url: str | None = None
    credentials_file: str | None = None
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    database_url: str | None = field(default=None, repr=False)  # may hold a password
    storage_emulator_host: str | None = None
    request_timeout_s: float = DEFAULT_TIMEOUT_S
    gcloud_config_dir: Path | None = None  # where `gcloud auth application-default login` writes
    metadata_server: bool = False  # on Google Cloud (Cloud Run, Compute Engine, GKE)
    bucket: str | None = None  # a bare name: "gs://" and slashes are stripped on load
    embedding_model: str = DEFAULT_EMBEDDING_MODEL  # new embedding collections use it
    warm_up_umap: bool = True  # ~45 s of CPU at server start, so the first UMAP map is quick
    library_max_bytes: int = int(DEFAULT_LIBRARY_MAX_GB * 1e9)  # the media library's cap
    upload_max_bytes: int = int(DEFAULT_UPLOAD_MAX_GB * 1e9)  # one direct upload to the bucket
    batch_poll_s: float = DEFAULT_BATCH_POLL_S  # how often the lab looks at its batch jobs
    # Kept as written (lower-cased): an unknown mode must stop the server, not fall back to
    # "local" and let everyone in as its one user (identity.check_auth_settings says so).
    auth: str = AUTH_LOCAL
    iap_audience: str | None = None
    iap_certs_url: str = DEFAULT_IAP_CERTS_URL
    gemini_api_key: str | None = field(default=None, repr=False)  # a secret: never shown
    gemini_base_url: str | None = None
    # Kept as written (lower-cased), None when unset: `choose_backend` decides and refuses an
    # unknown value rather than guess which service the user meant to pay.
    backend_setting: str | None = None

    @property
    def endpoint(self) -> str:
        """The Vertex AI endpoint requests go to, as a person would want to read it."""
        if self.vertex_base_url:
            return self.vertex_base_url
        if self.location == "global":
            return "https://aiplatform.googleapis.com"
        return f"https://{self.location}-aiplatform.googleapis.com"

    @property
    def endpoint_overridden(self) -> bool:
        return bool(self.vertex_base_url)

    @property
    def gcloud_adc_file(self) -> Path | None:
        """The file `gcloud auth application-default login` writes, whether or not it exists."""
        return self.gcloud_config_dir / GCLOUD_ADC_FILE_NAME if self.gcloud_config_dir else None


def load_settings(
    environ: Mapping[str, str],
    secrets: Mapping[str, object] | None = None,
    *,
    product_name_file: Path = DMI_PRODUCT_NAME,
) -> Settings:
    """Build settings from the environment, falling back to Streamlit secrets of the same names.

    The environment wins: it is how a deployment (Cloud Run, CI) overrides a checked-in file.
    Facts about the machine come only from `environ` and `product_name_file`, so the caller
    (a test, too) decides which machine Reelscope believes it runs on.
    """
    secrets = secrets or {}

    def read(name: str) -> str | None:
        value = environ.get(name)
        if value is None or not value.strip():
            secret = secrets.get(name)
            value = str(secret) if secret is not None else None
        return value.strip() if value and value.strip() else None

    return Settings(
        project=read(ENV_PROJECT),
        location=read(ENV_LOCATION) or DEFAULT_LOCATION,
        vertex_base_url=(read(ENV_BASE_URL) or "").rstrip("/") or None,
        credentials_file=read(ENV_CREDENTIALS),
        data_dir=Path(read(ENV_DATA_DIR) or DEFAULT_DATA_DIR).expanduser(),
        database_url=read(ENV_DATABASE_URL),
        storage_emulator_host=read(ENV_STORAGE_EMULATOR),
        request_timeout_s=_positive_float(read(ENV_TIMEOUT), DEFAULT_TIMEOUT_S),
        gcloud_config_dir=_gcloud_config_dir(environ),
        metadata_server=_metadata_server(environ, product_name_file),
        bucket=(read(ENV_BUCKET) or "").removeprefix("gs://").strip("/") or None,
        embedding_model=read(ENV_EMBEDDING_MODEL) or DEFAULT_EMBEDDING_MODEL,
        warm_up_umap=(read(ENV_WARM_UP_UMAP) or "true").lower() not in ("false", "0", "no", "off"),
        library_max_bytes=int(
            _positive_float(read(ENV_LIBRARY_MAX_GB), DEFAULT_LIBRARY_MAX_GB) * 1e9
        ),
        upload_max_bytes=int(_positive_float(read(ENV_UPLOAD_MAX_GB), DEFAULT_UPLOAD_MAX_GB) * 1e9),
        batch_poll_s=_positive_float(read(ENV_BATCH_POLL_S), DEFAULT_BATCH_POLL_S),
        auth=(read(ENV_AUTH) or AUTH_LOCAL).lower(),
        iap_audience=read(ENV_IAP_AUDIENCE),
        iap_certs_url=read(ENV_IAP_CERTS_URL) or DEFAULT_IAP_CERTS_URL,
        gemini_api_key=read(ENV_GEMINI_API_KEY),
        gemini_base_url=(read(ENV_GEMINI_BASE_URL) or "").rstrip("/") or None,
        backend_setting=(read(ENV_BACKEND) or "").lower() or None,
    )


class BackendSettingError(ValueError):
    """REELSCOPE_BACKEND names no backend Reelscope knows; the message says what to set."""


@dataclass(frozen=True)
class BackendChoice:
    """Which service answers (`BACKENDS`), and why, in words the sidebar shows."""

    backend: str
    reason: str

    @property
    def name(self) -> str:
        return BACKEND_NAMES[self.backend]


def choose_backend(settings: Settings) -> BackendChoice:
    """The one place the backend is decided: REELSCOPE_BACKEND when set; otherwise the Gemini
    Developer API when only GEMINI_API_KEY is set, else Vertex AI. Raises BackendSettingError
    on a value that is not one of `BACKENDS`."""
    chosen = settings.backend_setting
    if chosen is not None:
        if chosen not in BACKENDS:
            raise BackendSettingError(
                f"{ENV_BACKEND}={chosen!r} is not a backend Reelscope knows: use "
                f"{BACKEND_VERTEX!r} (Vertex AI with a Google Cloud project) or "
                f"{BACKEND_GEMINI_API!r} (the Gemini Developer API with {ENV_GEMINI_API_KEY})."
            )
        return BackendChoice(chosen, f"{ENV_BACKEND}={chosen}")
    if settings.gemini_api_key and not settings.project:
        return BackendChoice(BACKEND_GEMINI_API, f"only {ENV_GEMINI_API_KEY} is set")
    if settings.gemini_api_key:
        return BackendChoice(
            BACKEND_VERTEX,
            f"both {ENV_PROJECT} and {ENV_GEMINI_API_KEY} are set and {ENV_BACKEND} is not "
            f"(set it to {BACKEND_GEMINI_API} to use the API key)",
        )
    if settings.project:
        return BackendChoice(BACKEND_VERTEX, f"{ENV_PROJECT} is set")
    return BackendChoice(BACKEND_VERTEX, f"neither {ENV_PROJECT} nor {ENV_GEMINI_API_KEY} is set")


def _gcloud_config_dir(environ: Mapping[str, str]) -> Path | None:
    """gcloud's configuration folder as gcloud documents it: $CLOUDSDK_CONFIG, else
    ~/.config/gcloud, or %APPDATA%\\gcloud on Windows. None when the environment has no home."""
    if environ.get(ENV_GCLOUD_CONFIG):
        return Path(environ[ENV_GCLOUD_CONFIG]).expanduser()
    if os.name == "nt":
        appdata = environ.get("APPDATA")
        return Path(PureWindowsPath(appdata) / "gcloud") if appdata else None
    home = environ.get("HOME")
    return Path(home) / ".config" / "gcloud" if home else None


def _metadata_server(environ: Mapping[str, str], product_name_file: Path) -> bool:
    """Whether google-auth would take credentials from a metadata server on this machine."""
    if environ.get(ENV_NO_GCE_CHECK, "").strip().lower() == "true":
        return False  # google-auth skips the metadata server then, and so must we
    if environ.get(ENV_CLOUD_RUN_SERVICE) or environ.get(ENV_METADATA_HOST):
        return True
    try:
        return product_name_file.read_text().strip().startswith("Google")
    except OSError:  # not Linux, or no DMI: not a Compute Engine machine we can recognise
        return False


def _positive_float(text: str | None, fallback: float) -> float:
    try:
        value = float(text) if text else fallback
    except ValueError:
        return fallback
    return value if value > 0 else fallback
