from pathlib import Path

import pytest

from reelscope.settings import DEFAULT_TIMEOUT_S, load_settings
from reelscope.vertex import describe_connection


def test_defaults_when_nothing_is_set():
    settings = load_settings({})
    assert settings.project is None
    assert settings.location == "global"
    assert settings.endpoint == "https://aiplatform.googleapis.com"
    assert settings.data_dir == Path("data")
    assert settings.request_timeout_s == DEFAULT_TIMEOUT_S


def test_environment_wins_over_secrets_and_secrets_fill_the_gaps():
    settings = load_settings(
        {"GOOGLE_CLOUD_PROJECT": "from-env", "GOOGLE_CLOUD_LOCATION": "  "},
        {"GOOGLE_CLOUD_PROJECT": "from-secrets", "GOOGLE_CLOUD_LOCATION": "us-central1"},
    )
    assert settings.project == "from-env"
    assert settings.location == "us-central1"
    assert settings.endpoint == "https://us-central1-aiplatform.googleapis.com"


def test_base_url_override_is_the_endpoint():
    settings = load_settings({"GOOGLE_VERTEX_BASE_URL": "http://127.0.0.1:9999/"})
    assert settings.endpoint == "http://127.0.0.1:9999"
    assert settings.endpoint_overridden


@pytest.mark.parametrize(
    ("text", "seconds"), [("12.5", 12.5), ("zero", DEFAULT_TIMEOUT_S), ("-1", DEFAULT_TIMEOUT_S)]
)
def test_request_timeout_falls_back_on_nonsense(text, seconds):
    assert load_settings({"REELSCOPE_REQUEST_TIMEOUT": text}).request_timeout_s == seconds


def test_connection_lists_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))  # no gcloud login on this "machine"
    connection = describe_connection(load_settings({}))
    assert not connection.ready
    assert connection.credentials_source is None
    assert connection.fixes == (
        "gcloud auth application-default login",
        "export GOOGLE_CLOUD_PROJECT=your-project-id",
    )


def test_gcloud_login_file_is_found(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))
    (tmp_path / "application_default_credentials.json").write_text("{}")
    connection = describe_connection(load_settings({"GOOGLE_CLOUD_PROJECT": "p"}))
    assert connection.ready
    assert "gcloud application-default login" in connection.credentials_source


def test_a_credentials_file_that_does_not_exist_is_named(tmp_path):
    missing = tmp_path / "gone.json"
    connection = describe_connection(
        load_settings({"GOOGLE_CLOUD_PROJECT": "p", "GOOGLE_APPLICATION_CREDENTIALS": str(missing)})
    )
    assert not connection.ready
    assert str(missing) in connection.problems[0]
    assert connection.fixes[0] == "unset GOOGLE_APPLICATION_CREDENTIALS"
