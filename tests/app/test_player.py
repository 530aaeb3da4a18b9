"""The player's Python side under AppTest: what reaches the browser, and what comes back.

The JavaScript runs only in a browser (tests/e2e/test_player.py); here the component's data is
read from the element AppTest records, and the browser's report is given as widget state.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components.media import media_preview
from reelscope import media_server


def player_page() -> None:
    import streamlit as st

    from components.media import player

    chapters = [(0, 12.5, "<img src=x onerror=alert(1)>Intro"), (12.5, 3725.0, "Past an hour")]
    items = [
        player.ListItem(0, "0:00", "<img src=x onerror=alert(1)>Intro", summary="<b>Hi</b>"),
        player.ListItem(3725.0, "1:02:05", "Past an hour", value="3", speech="Said: bye"),
    ]
    st.button("Intro", key="go-intro", on_click=player.seek, args=("ch.player", 0.0))
    st.button("Later", key="go-later", on_click=player.seek, args=("ch.player", 3700.0))
    state = player.show(
        "ch.player",
        "/app/static/reelscope/token",
        mime_type="video/mp4",
        chapters=chapters,
        clip=(1.0, 20.0),
        cuts=[4.0, 8.0],
        captions="WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n",
        items=items,
        report_duration=True,
    )
    st.write(f"time={state.time_s} playing={state.playing}")
    st.write(f"length={player.reported_length('ch.player', '/app/static/reelscope/token')}")


def data_sent(app: AppTest) -> dict:
    (element,) = app.get("bidi_component")
    assert element.proto.component_name == "reelscope.player"
    return json.loads(element.proto.json)


def test_chapters_clip_cuts_and_captions_reach_the_browser_as_data():
    app = AppTest.from_function(player_page).run()
    assert not app.exception
    data = data_sent(app)
    assert data["chapters"] == [
        [0.0, 12.5, "<img src=x onerror=alert(1)>Intro"],  # plain data: the JS sets textContent
        [12.5, 3725.0, "Past an hour"],
    ]
    assert data["clip"] == [1.0, 20.0]
    assert data["cuts"] == [4.0, 8.0]
    assert data["captions"].startswith("WEBVTT")
    assert data["seek"] is None
    assert data["media_id"] == data["url"] == "/app/static/reelscope/token"
    assert "textContent" in app.get("bidi_component")[0].proto.js_content
    assert "innerHTML" not in app.get("bidi_component")[0].proto.js_content


def test_the_list_under_the_video_reaches_the_browser_as_plain_data():
    app = AppTest.from_function(player_page).run()
    data = data_sent(app)
    assert data["items"] == [
        {"start_s": 0.0, "time": "0:00", "title": "<img src=x onerror=alert(1)>Intro",
         "value": "", "details": "", "summary": "<b>Hi</b>", "speech": ""},
        {"start_s": 3725.0, "time": "1:02:05", "title": "Past an hour", "value": "3",
         "details": "", "summary": "", "speech": "Said: bye"},
    ]  # fmt: skip
    assert data["report_duration"] is True


def test_the_length_the_browser_read_is_kept_for_its_own_video_only():
    app = AppTest.from_function(player_page).run()
    assert "length=None" in app.markdown[1].value
    report = {"media": "/app/static/reelscope/token", "seconds": 12.04}
    app.session_state["ch.player"] = {"status": None, "duration": report}
    app.run()
    assert not app.exception
    assert "length=12.04" in app.markdown[1].value
    for odd in ({**report, "media": "another video"}, {**report, "seconds": "12"},
                {**report, "seconds": True}, {**report, "seconds": -1}, "12"):  # fmt: skip
        app.session_state["ch.player"] = {"status": None, "duration": odd}
        app.run()
        assert not app.exception
        assert "length=None" in app.markdown[1].value, odd


def test_each_seek_request_gets_a_new_nonce_even_to_the_same_time():
    app = AppTest.from_function(player_page).run()
    app.button(key="go-later").click().run()
    first = data_sent(app)["seek"]
    assert first["to"] == 3700.0
    app.run()  # a rerun for another reason sends the same request: the browser applies it once
    assert data_sent(app)["seek"] == first
    app.button(key="go-later").click().run()
    second = data_sent(app)["seek"]
    assert second["to"] == 3700.0 and second["nonce"] != first["nonce"]
    app.button(key="go-intro").click().run()
    assert data_sent(app)["seek"]["to"] == 0.0


def test_the_browser_report_comes_back_as_player_state():
    app = AppTest.from_function(player_page).run()
    assert "time=None playing=False" in app.markdown[0].value
    app.session_state["ch.player"] = {"status": {"time": 734.25, "playing": True}}
    app.run()
    assert not app.exception
    assert "time=734.25 playing=True" in app.markdown[0].value


def preview_page(path: str, size: int) -> None:
    import dataclasses
    from pathlib import Path

    from components.common import resources
    from components.media import media_preview
    from reelscope.catalog import load_catalog as catalog

    kept = resources.library().add_upload("scenes.mp4", Path(path).read_bytes(), catalog().media)
    source = dataclasses.replace(kept.source, size=size)
    media_preview.show(source, key="preview")


@pytest.fixture(autouse=True)
def data_dir(monkeypatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("REELSCOPE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_preview_without_the_media_route_falls_back_to_st_video(video_file: Path):
    app = AppTest.from_function(preview_page, args=(str(video_file), video_file.stat().st_size))
    app.run()
    assert not app.exception
    assert len(app.get("video")) == 1
    assert not app.get("bidi_component")


def test_preview_of_a_large_upload_without_the_route_says_how_to_get_one(video_file: Path):
    app = AppTest.from_function(preview_page, args=(str(video_file), 10**9)).run()
    assert not app.get("video")
    assert "make run" in app.caption[0].value


def test_preview_with_the_media_route_plays_a_signed_link_in_the_player(
    video_file: Path, data_dir: Path
):
    app = AppTest.from_function(preview_page, args=(str(video_file), video_file.stat().st_size))
    app.secrets[media_preview.ROUTE_FLAG] = True
    app.run()
    assert not app.exception
    assert not app.get("video")
    data = data_sent(app)
    assert data["url"].startswith(media_server.MEDIA_PATH)
    assert data["report_every_s"] is None  # a preview never reruns the page
    token = data["url"].removeprefix(media_server.MEDIA_PATH)
    # The key is this process's: the same one serve.py gives the route.
    media = media_server.verify(token, media_preview.link_key())
    assert media.source.startswith(media_server.MEDIA_SCHEME)
    kept = data_dir / "media" / media.source.removeprefix(media_server.MEDIA_SCHEME)
    assert kept.read_bytes() == video_file.read_bytes()
    assert media.mime_type == "video/mp4"
