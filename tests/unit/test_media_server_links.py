"""The media route serving a pasted https link through the guarded fetch (Starlette's TestClient
against real local HTTPS servers behind public-looking names, tests/link_servers.py).

The browser asks the route, never the link: ranges are passed on and each answer is capped like
a local file's, and a link that redirects inward gets a refusal, not the inner server's bytes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from starlette.applications import Starlette
from starlette.testclient import TestClient

from reelscope import media_server
from reelscope.linkfetch import Limits, LinkFetcher
from reelscope.media_server import MediaLinkError, link_source, sign
from reelscope.settings import Settings
from reelscope.tasks import LOCAL_OWNER
from tests.link_servers import LinkServer, Network, client_tls, redirect, serve_bytes

KEY = media_server.link_key("test secret")
CAP = 1000
PUBLIC = "93.184.215.14"
PRIVATE = "192.168.1.20"
PAYLOAD = os.urandom(5000)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def network() -> Network:
    return Network()


@pytest.fixture
def serve(ca, network) -> Iterator:
    """Start a server for public.test (at a public address) answering with `respond`."""
    started: list[LinkServer] = []

    def start(respond, name="public.test", address=PUBLIC):
        server = LinkServer(ca, [name], respond)
        started.append(server)
        network.name(name, address)
        network.route(address, server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture
def client(tmp_path: Path, network: Network, ca: trustme.CA) -> TestClient:
    settings = Settings(project="test-project", data_dir=tmp_path / "data")
    links = LinkFetcher(network.resolve, network.connect, client_tls(ca), Limits(max_bytes=CAP))
    routes = media_server.routes(KEY, lambda: settings, "rs", max_range_bytes=CAP, links=links)
    return TestClient(Starlette(routes=routes))


def url(link: str, mime_type: str = "video/mp4") -> str:
    return media_server.url_path(sign(link_source(link), mime_type, KEY, user=LOCAL_OWNER), "rs")


def test_a_link_is_served_in_capped_ranges_fetched_by_the_server(client, serve):
    server = serve(serve_bytes(PAYLOAD, "video/mp4"))

    answer = client.get(url("https://public.test/v.mp4"), headers={"Range": "bytes=100-"})

    assert answer.status_code == 206
    assert answer.headers["content-range"] == f"bytes 100-1099/{len(PAYLOAD)}"
    assert answer.headers["content-type"] == "video/mp4"
    assert answer.headers["accept-ranges"] == "bytes"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.content == PAYLOAD[100:1100]
    assert server.requests[0].headers["Range"] == "bytes=100-1099"  # never more than the cap
    short = client.get(url("https://public.test/v.mp4"), headers={"Range": "bytes=10-19"})
    assert (short.status_code, short.content) == (206, PAYLOAD[10:20])
    assert short.headers["content-range"] == f"bytes 10-19/{len(PAYLOAD)}"


def test_a_small_image_without_a_range_is_served_whole(client, serve):
    serve(serve_bytes(PAYLOAD[:800], "image/png"))
    answer = client.get(url("https://public.test/i.png", "image/png"))
    assert (answer.status_code, answer.content) == (200, PAYLOAD[:800])
    assert answer.headers["content-type"] == "image/png"


def test_a_file_larger_than_one_answer_is_not_sent_whole(client, serve):
    serve(serve_bytes(PAYLOAD, "image/png"))
    answer = client.get(url("https://public.test/i.png", "image/png"))
    assert answer.status_code == 502
    assert "larger than the" in answer.text and "a preview loads" in answer.text


def test_a_server_without_ranges_is_previewed_from_its_start_only(client, serve):
    serve(serve_bytes(PAYLOAD, "video/mp4", ranges=False))
    first = client.get(url("https://public.test/v.mp4"), headers={"Range": "bytes=0-"})
    assert first.status_code == 206
    assert first.headers["content-range"] == f"bytes 0-999/{len(PAYLOAD)}"
    assert first.content == PAYLOAD[:1000]
    later = client.get(url("https://public.test/v.mp4"), headers={"Range": "bytes=3000-"})
    assert later.status_code == 502 and "does not serve byte ranges" in later.text


def test_a_link_redirected_inward_is_refused_and_the_inner_server_gets_nothing(
    client, serve, network
):
    inner = serve(serve_bytes(b"router admin page", "image/png"), "router.test", PRIVATE)
    serve(redirect("https://router.test/admin.png"))

    answer = client.get(url("https://public.test/v.mp4"), headers={"Range": "bytes=0-"})

    assert answer.status_code == 403
    assert "router.test resolves to 192.168.1.20, a private-network address" in answer.text
    assert inner.requests == [] and PRIVATE not in network.connections


def test_a_page_is_not_passed_on_as_media(client, serve):
    serve(serve_bytes(b"<html><img src=x></html>", "text/html"))
    answer = client.get(url("https://public.test/v.mp4"), headers={"Range": "bytes=0-"})
    assert answer.status_code == 415 and "not a video or an image" in answer.text


def test_head_gives_the_headers_without_a_body(client, serve):
    server = serve(serve_bytes(PAYLOAD, "video/mp4"))
    answer = client.head(url("https://public.test/v.mp4"), headers={"Range": "bytes=0-"})
    assert answer.status_code == 206 and answer.content == b""
    assert answer.headers["content-length"] == "1000"
    assert server.requests[0].method == "HEAD"


def test_a_range_past_the_end_is_416(client, serve):
    def past_the_end(handler) -> None:
        handler.send_response(416)
        handler.send_header("Content-Range", f"bytes */{len(PAYLOAD)}")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    serve(past_the_end)
    answer = client.get(url("https://public.test/v.mp4"), headers={"Range": "bytes=9999-"})
    assert answer.status_code == 416
    assert answer.headers["content-range"] == f"bytes */{len(PAYLOAD)}"


def test_only_https_links_are_signed_for_the_route():
    with pytest.raises(MediaLinkError, match="Only https"):
        link_source("http://public.test/v.mp4")
