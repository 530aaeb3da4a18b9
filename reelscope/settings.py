"""The one settings object, read from environment variables and Streamlit secrets.

Only this module knows the names of the settings; everything else receives a `Settings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_LOCATION = "global"  # several current Gemini models are served only there
DEFAULT_DATA_DIR = "data"

ENV_PROJECT = "GOOGLE_CLOUD_PROJECT"
ENV_LOCATION = "GOOGLE_CLOUD_LOCATION"
ENV_BASE_URL = "GOOGLE_VERTEX_BASE_URL"
ENV_CREDENTIALS = "GOOGLE_APPLICATION_CREDENTIALS"
ENV_DATA_DIR = "REELSCOPE_DATA_DIR"
ENV_STORAGE_EMULATOR = "STORAGE_EMULATOR_HOST"
ENV_BUCKET = "REELSCOPE_BUCKET"  # staging bucket for uploads above the inline limit
ENV_TIMEOUT = "REELSCOPE_REQUEST_TIMEOUT"
ENV_CLOUD_RUN_SERVICE = "K_SERVICE"  # set by Cloud Run: credentials come from its metadata server
DEFAULT_TIMEOUT_S = 300.0  # a long video can take minutes before the first token


@dataclass(frozen=True)
class Settings:
    """Where Reelscope talks to and where it keeps its files. Hashable, so it can key caches."""

    project: str | None = None
    location: str = DEFAULT_LOCATION
    vertex_base_url: str | None = None
    credentials_file: str | None = None
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    storage_emulator_host: str | None = None
    request_timeout_s: float = DEFAULT_TIMEOUT_S
    on_cloud_run: bool = False
    bucket: str | None = None  # a bare name: "gs://" and slashes are stripped on load

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


def load_settings(
    environ: Mapping[str, str], secrets: Mapping[str, object] | None = None
) -> Settings:
    """Build settings from the environment, falling back to Streamlit secrets of the same names.

    The environment wins: it is how a deployment (Cloud Run, CI) overrides a checked-in file.
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
        storage_emulator_host=read(ENV_STORAGE_EMULATOR),
        request_timeout_s=_positive_float(read(ENV_TIMEOUT), DEFAULT_TIMEOUT_S),
        on_cloud_run=read(ENV_CLOUD_RUN_SERVICE) is not None,
        bucket=(read(ENV_BUCKET) or "").removeprefix("gs://").strip("/") or None,
    )


def _positive_float(text: str | None, fallback: float) -> float:
    try:
        value = float(text) if text else fallback
    except ValueError:
        return fallback
    return value if value > 0 else fallback
