from tests.app.conftest import start_app, texts


def test_without_settings_the_sidebar_says_what_to_run(no_settings):
    app = start_app()
    sidebar = texts(app.sidebar.markdown)
    assert "Not connected" in sidebar
    assert "Project: `not set`" in sidebar
    assert "Location: `global`" in sidebar
    commands = texts(app.sidebar.code)
    assert "gcloud auth application-default login" in commands
    assert "export GOOGLE_CLOUD_PROJECT=your-project-id" in commands


def test_connected_sidebar_shows_project_endpoint_and_credentials(connected):
    app = start_app()
    sidebar = texts(app.sidebar.markdown)
    assert "Ready" in sidebar
    assert f"Project: `{connected.project}`" in sidebar
    assert f"`{connected.vertex_base_url}` (override)" in sidebar
    assert "Credentials: GOOGLE_APPLICATION_CREDENTIALS file" in sidebar
    assert connected.credentials_file not in sidebar, "a key file's path is not for the page"
    assert not app.sidebar.code


def test_every_page_opens_without_settings(no_settings):
    app = start_app()
    app.switch_page("pages/models.py").run()
    assert not app.exception
    assert app.title[0].value == "Models"
    assert "Not connected" in texts(app.sidebar.markdown), "every run goes through app.py"
    # the page's two tables; after them, app.py's hidden prefetch draws one more
    parameters, availability = (frame.value for frame in app.dataframe[:2])
    assert "gemini-3.8-flash" in set(parameters["ID"])
    vision = parameters.set_index("ID").loc["gemini-1.0-pro-vision"]
    assert (vision["Status"], vision["Video length"]) == ("retired", "ignored / 2 min")
    flash = parameters.set_index("ID").loc["gemini-3.5-flash"]
    assert (flash["Temperature"], flash["Top-K"]) == ("0–2 (1)", "fixed 64")
    assert availability.set_index("ID").loc["gemini-3.5-flash", "Locations"] == "global, us, eu"


def test_with_only_an_api_key_the_sidebar_names_the_developer_api_and_never_the_key(
    api_key_only,
):
    vertex = api_key_only
    app = start_app()
    sidebar = texts(app.sidebar.markdown)
    assert "Ready" in sidebar
    assert "Backend: Gemini Developer API (only GEMINI_API_KEY is set)" in sidebar
    assert "Credentials: API key from GEMINI_API_KEY" in sidebar
    assert f"`{vertex.base_url}` (override)" in sidebar
    assert "Project:" not in sidebar and "Location:" not in sidebar
    assert vertex.api_key not in sidebar + texts(app.sidebar.code)


def test_an_unknown_backend_setting_is_shown_with_its_fix(no_settings, monkeypatch):
    monkeypatch.setenv("REELSCOPE_BACKEND", "bedrock")
    app = start_app()
    assert not app.exception
    assert "Not connected" in texts(app.sidebar.markdown)
    assert "REELSCOPE_BACKEND='bedrock' is not a backend" in texts(app.sidebar.warning)
    assert "unset REELSCOPE_BACKEND" in texts(app.sidebar.code)
