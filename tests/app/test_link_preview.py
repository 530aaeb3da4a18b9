"""An https link's preview under AppTest: the browser is given the media route, never the link.

The route fetches the link through the guarded fetch (tests/unit/test_media_server_links.py);
here, what the page hands the browser: a signed `link:` token for a checked link, and without
the route (or for an unchecked host) no preview and a caption that says why.
"""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from components.media import media_preview
from reelscope import media_server

LINK = "https://media.example/talks/intro.mp4"


def link_page(link: str, mime_type: str, previewable: bool) -> None:
    from components.media import media_preview
    from reelscope.media import MediaSource, SourceKind

    source = MediaSource(SourceKind.HTTPS, mime_type, "intro", uri=link, previewable=previewable)
    media_preview.show(source, key="preview")


@pytest.fixture(autouse=True)
def data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("REELSCOPE_DATA_DIR", str(tmp_path / "data"))


def start(mime_type: str, *, previewable: bool = True, route: bool = True) -> AppTest:
    app = AppTest.from_function(link_page, args=(LINK, mime_type, previewable))
    if route:
        app.secrets[media_preview.ROUTE_FLAG] = True
    app.run()
    assert not app.exception
    return app


def signed_source(url: str) -> str:
    token = url.removeprefix(media_server.MEDIA_PATH)
    return media_server.verify(token, media_preview.link_key()).source


def test_a_checked_video_link_plays_from_the_media_route():
    app = start("video/mp4")
    (element,) = app.get("bidi_component")
    url = json.loads(element.proto.json)["url"]
    assert url.startswith(media_server.MEDIA_PATH)
    assert signed_source(url) == media_server.LINK_SCHEME + LINK
    assert not app.get("video")


def test_a_checked_image_link_is_shown_from_the_media_route():
    app = start("image/png")
    (image,) = app.get("image")
    url = image.proto.imgs[0].url
    assert url.startswith(media_server.MEDIA_PATH), url
    assert signed_source(url) == media_server.LINK_SCHEME + LINK


@pytest.mark.parametrize("mime_type", ["video/mp4", "image/png"])
def test_without_the_route_a_link_is_not_previewed_and_the_caption_says_why(mime_type):
    app = start(mime_type, route=False)
    assert not app.get("bidi_component") and not app.get("image") and not app.get("video")
    assert "to preview it here, start Reelscope with `make run`" in app.caption[0].value


@pytest.mark.parametrize("mime_type", ["video/mp4", "image/png"])
def test_an_unchecked_host_is_not_previewed(mime_type):
    app = start(mime_type, previewable=False)
    assert not app.get("bidi_component") and not app.get("image") and not app.get("video")
    assert "no preview of an unchecked host" in app.caption[0].value
