"""AppTest fixtures: the app reads its settings from the environment, as in production."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from reelscope.tasks import registry

ROOT = Path(__file__).resolve().parents[2]
SETTING_NAMES = (
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
    "GOOGLE_VERTEX_BASE_URL",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",  # google-genai's other name for a key
    "GOOGLE_GEMINI_BASE_URL",
    "REELSCOPE_BACKEND",
    "REELSCOPE_DATA_DIR",
    "K_SERVICE",
)


@pytest.fixture
def no_settings(monkeypatch, tmp_path):
    """A machine where nothing is set up: no project, no ADC file, no gcloud login."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "true")  # google-auth's switch: no metadata server here
    monkeypatch.setenv("REELSCOPE_DATA_DIR", str(tmp_path / "data"))  # never the repo's data/


@pytest.fixture
def connected(no_settings, monkeypatch, emulator_settings):
    """Settings pointing at the local Vertex AI emulator, given the way a user gives them."""
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", emulator_settings.project)
    monkeypatch.setenv("GOOGLE_VERTEX_BASE_URL", emulator_settings.vertex_base_url)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", emulator_settings.credentials_file)
    return emulator_settings


@pytest.fixture
def api_key_only(no_settings, monkeypatch, vertex):
    """Only a Gemini API key, pointed at the emulator's Developer API paths: no project."""
    monkeypatch.setenv("GEMINI_API_KEY", vertex.api_key)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", vertex.base_url)
    return vertex


def start_app() -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    return app


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


@pytest.fixture(autouse=True)
def no_task_outlives_its_test():
    """Every page follows the user's live tasks (the sidebar lists them): a run or job left
    going by one test would be followed by the next test's pages, so each test ends them."""
    yield
    for task in registry().tasks(live=True):
        task.cancel()
