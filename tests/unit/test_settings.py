from pathlib import Path

import pytest

from reelscope.settings import DEFAULT_TIMEOUT_S, Settings, load_settings
from reelscope.vertex import NotConnected, describe_connection, make_genai_client


def test_defaults_when_nothing_is_set():
    settings = load_settings({})
    assert settings.project is None
    assert settings.location == "global"
    assert settings.endpoint == "https://aiplatform.googleapis.com"
    assert settings.data_dir == Path("data")
    assert settings.request_timeout_s == DEFAULT_TIMEOUT_S
    assert settings.database_url is None  # SQLite in the data folder: `make run` needs no server


def test_a_database_url_is_read_and_never_shown_in_the_settings_repr():
    url = "postgresql+psycopg://reelscope:s3cret@/reelscope?host=/cloudsql/p:r:i"
    settings = load_settings({"REELSCOPE_DATABASE_URL": f" {url} "})
    assert settings.database_url == url
    assert "s3cret" not in repr(settings)
    assert load_settings({}, {"REELSCOPE_DATABASE_URL": url}).database_url == url


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


@pytest.mark.parametrize(
    ("text", "limit"), [(None, 2_000_000_000), ("0.5", 500_000_000), ("lots", 2_000_000_000)]
)
def test_the_direct_upload_cap_is_read_in_gigabytes(text, limit):
    environ = {"REELSCOPE_UPLOAD_MAX_GB": text} if text else {}
    assert load_settings(environ).upload_max_bytes == limit


def nothing_set_up(tmp_path: Path, **environ: str) -> Settings:
    """Settings on a machine with a home folder but no login, key file or metadata server."""
    return load_settings({"HOME": str(tmp_path), **environ}, product_name_file=tmp_path / "no-dmi")


def test_connection_lists_what_is_missing(tmp_path):
    connection = describe_connection(nothing_set_up(tmp_path))
    assert not connection.ready
    assert connection.credentials_source is None
    assert connection.fixes == (
        "gcloud auth application-default login",
        "export GOOGLE_CLOUD_PROJECT=your-project-id",
    )


@pytest.mark.parametrize(
    "config_dir", ["cloudsdk", ".config/gcloud"], ids=["CLOUDSDK_CONFIG", "home"]
)
def test_gcloud_login_file_is_found_where_gcloud_writes_it(tmp_path, config_dir):
    folder = tmp_path / config_dir
    folder.mkdir(parents=True)
    (folder / "application_default_credentials.json").write_text("{}")
    environ = {"GOOGLE_CLOUD_PROJECT": "p"}
    if config_dir == "cloudsdk":
        environ["CLOUDSDK_CONFIG"] = str(folder)
    connection = describe_connection(nothing_set_up(tmp_path, **environ))
    assert connection.ready
    assert connection.credentials_source == "gcloud application-default login"


def test_a_gcloud_login_elsewhere_is_not_this_settings_login(tmp_path):
    (tmp_path / "application_default_credentials.json").write_text("{}")
    settings = nothing_set_up(tmp_path / "home", CLOUDSDK_CONFIG=str(tmp_path / "other"))
    assert describe_connection(settings).credentials_source is None


@pytest.mark.parametrize(
    ("product_name", "environ", "metadata"),
    [
        ("Google Compute Engine\n", {}, True),
        ("Google Compute Engine\n", {"NO_GCE_CHECK": "True"}, False),
        ("Standard PC (Q35 + ICH9, 2009)\n", {}, False),
        (None, {"K_SERVICE": "reelscope"}, True),
        (None, {"GCE_METADATA_HOST": "127.0.0.1:8080"}, True),
        (None, {"K_SERVICE": "reelscope", "NO_GCE_CHECK": "true"}, False),
        (None, {}, False),
    ],
)
def test_the_metadata_server_is_recognised_from_the_machine_given(
    tmp_path, product_name, environ, metadata
):
    dmi = tmp_path / "product_name"
    if product_name is not None:
        dmi.write_text(product_name)
    settings = load_settings(environ, product_name_file=dmi)
    assert settings.metadata_server is metadata
    source = describe_connection(settings).credentials_source
    assert (source == "Google Cloud metadata server (attached service account)") is metadata


def test_the_credentials_source_never_shows_a_path(tmp_path):
    key = tmp_path / "secret-key.json"
    key.write_text("{}")
    connection = describe_connection(
        nothing_set_up(tmp_path, GOOGLE_CLOUD_PROJECT="p", GOOGLE_APPLICATION_CREDENTIALS=str(key))
    )
    assert connection.credentials_source == "GOOGLE_APPLICATION_CREDENTIALS file"
    assert str(tmp_path) not in repr(connection)


def test_a_credentials_file_that_does_not_exist_is_reported_without_its_path(tmp_path):
    missing = tmp_path / "gone.json"
    connection = describe_connection(
        nothing_set_up(
            tmp_path, GOOGLE_CLOUD_PROJECT="p", GOOGLE_APPLICATION_CREDENTIALS=str(missing)
        )
    )
    assert not connection.ready
    assert (
        "GOOGLE_APPLICATION_CREDENTIALS names a file that does not exist"
        in (connection.problems[0])
    )
    assert str(tmp_path) not in repr(connection)
    assert connection.fixes[0] == "unset GOOGLE_APPLICATION_CREDENTIALS"


def test_an_unreadable_key_file_is_reported_without_its_path(tmp_path):
    key = tmp_path / "secret-key.json"
    key.write_text("{not json")
    settings = nothing_set_up(
        tmp_path, GOOGLE_CLOUD_PROJECT="p", GOOGLE_APPLICATION_CREDENTIALS=str(key)
    )
    with pytest.raises(NotConnected) as raised:
        make_genai_client(settings)
    assert "could not be loaded" in str(raised.value)
    assert str(tmp_path) not in str(raised.value)


@pytest.mark.parametrize(
    ("text", "warm"), [(None, True), ("true", True), ("false", False), ("OFF", False), ("0", False)]
)
def test_the_umap_warm_up_can_be_turned_off(text, warm):
    environ = {} if text is None else {"REELSCOPE_WARM_UP_UMAP": text}
    assert load_settings(environ).warm_up_umap is warm
