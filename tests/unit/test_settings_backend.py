"""Which backend answers (Vertex AI or the Gemini Developer API), decided in one place."""

from pathlib import Path

import pytest

from reelscope.settings import BackendSettingError, choose_backend, load_settings
from reelscope.vertex import NotConnected, describe_connection, make_genai_client

KEY = "AIza-not-a-real-key-0123456789"


def settings_of(tmp_path: Path, secrets: dict | None = None, **environ: str):
    """Settings on a machine with no gcloud login, key file or metadata server."""
    environ = {"HOME": str(tmp_path), **environ}
    return load_settings(environ, secrets, product_name_file=tmp_path / "no-dmi")


@pytest.mark.parametrize(
    ("environ", "backend", "reason"),
    [
        ({"GEMINI_API_KEY": KEY}, "gemini-api", "only GEMINI_API_KEY is set"),
        ({"GOOGLE_CLOUD_PROJECT": "p"}, "vertex", "GOOGLE_CLOUD_PROJECT is set"),
        (
            {"GOOGLE_CLOUD_PROJECT": "p", "GEMINI_API_KEY": KEY},
            "vertex",
            "REELSCOPE_BACKEND is not (set it to gemini-api to use the API key)",
        ),
        (
            {"GOOGLE_CLOUD_PROJECT": "p", "GEMINI_API_KEY": KEY, "REELSCOPE_BACKEND": "Gemini-API"},
            "gemini-api",
            "REELSCOPE_BACKEND=gemini-api",
        ),
        (
            {"GEMINI_API_KEY": KEY, "REELSCOPE_BACKEND": "vertex"},
            "vertex",
            "REELSCOPE_BACKEND=vertex",
        ),
        ({}, "vertex", "neither GOOGLE_CLOUD_PROJECT nor GEMINI_API_KEY is set"),
    ],
)
def test_the_backend_and_why(tmp_path, environ, backend, reason):
    choice = choose_backend(settings_of(tmp_path, **environ))
    assert choice.backend == backend
    assert reason in choice.reason
    connection = describe_connection(settings_of(tmp_path, **environ))
    assert (connection.backend, connection.backend_reason) == (backend, choice.reason)


def test_only_a_key_is_a_ready_gemini_api_connection_that_never_shows_the_key(tmp_path):
    settings = settings_of(tmp_path, {"GEMINI_API_KEY": KEY})  # from st.secrets
    assert settings.gemini_api_key == KEY
    assert KEY not in repr(settings)
    connection = describe_connection(settings)
    assert connection.ready
    assert connection.backend_name == "Gemini Developer API"
    assert connection.credentials_source == "API key from GEMINI_API_KEY"
    assert connection.endpoint == "https://generativelanguage.googleapis.com"
    assert not connection.endpoint_overridden
    assert KEY not in repr(connection)


def test_the_developer_api_endpoint_can_be_overridden_as_google_genai_names_it(tmp_path):
    settings = settings_of(
        tmp_path, GEMINI_API_KEY=KEY, GOOGLE_GEMINI_BASE_URL="http://127.0.0.1:9/"
    )
    connection = describe_connection(settings)
    assert (connection.endpoint, connection.endpoint_overridden) == ("http://127.0.0.1:9", True)


def test_an_unknown_backend_stops_with_what_to_set(tmp_path):
    settings = settings_of(tmp_path, GEMINI_API_KEY=KEY, REELSCOPE_BACKEND="openai")
    with pytest.raises(BackendSettingError) as refused:
        choose_backend(settings)
    message = str(refused.value)
    assert "REELSCOPE_BACKEND='openai'" in message
    assert "'vertex'" in message and "'gemini-api'" in message
    connection = describe_connection(settings)
    assert not connection.ready and connection.problems == (message,)
    assert connection.fixes == ("unset REELSCOPE_BACKEND",)
    with pytest.raises(NotConnected):
        make_genai_client(settings)


def test_choosing_the_developer_api_without_a_key_says_to_set_one(tmp_path):
    settings = settings_of(tmp_path, GOOGLE_CLOUD_PROJECT="p", REELSCOPE_BACKEND="gemini-api")
    connection = describe_connection(settings)
    assert not connection.ready
    assert connection.problems == ("REELSCOPE_BACKEND=gemini-api but GEMINI_API_KEY is not set.",)
    assert connection.fixes == ("export GEMINI_API_KEY=your-api-key-from-ai-studio",)
    with pytest.raises(NotConnected) as refused:
        make_genai_client(settings)
    assert "GEMINI_API_KEY is not set" in str(refused.value)
