"""The guarded link fetch against real local HTTPS servers behind public-looking names.

DNS and routing are the test's (tests/link_servers.py): a name answers with the addresses the
test gives it, and a connection to an address reaches the local server the test routes it to.
So a "public" name can redirect to a name that resolves to a private address, and the test sees
that the inner server is never reached.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
import trustme

from reelscope.linkfetch import Limits, LinkFetcher, LinkFetchError
from tests.link_servers import LinkServer, Network, client_tls, redirect, serve_bytes

PUBLIC_A = "93.184.215.14"
PUBLIC_B = "151.101.1.69"
PRIVATE = "10.0.0.5"
PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def network() -> Network:
    return Network()


@pytest.fixture
def servers(ca) -> Iterator:
    started: list[LinkServer] = []

    def start(respond, names=("public.test", "inner.test", "cdn.test", "flip.test")):
        server = LinkServer(ca, list(names), respond)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def fetcher(network: Network, ca: trustme.CA, **limits) -> LinkFetcher:
    return LinkFetcher(network.resolve, network.connect, client_tls(ca), Limits(**limits))


def body(response) -> bytes:
    return b"".join(response.chunks())


def test_a_public_link_is_fetched_from_the_checked_address_with_sni_and_a_range(
    network, servers, ca
):
    server = servers(serve_bytes(PAYLOAD, "video/mp4"))
    network.name("public.test", PUBLIC_A)
    network.route(PUBLIC_A, server)

    answer = fetcher(network, ca).open("https://public.test/v.mp4?x=1", byte_range="bytes=100-199")

    assert (answer.status, answer.mime_type) == (206, "video/mp4")
    assert answer.content_range == f"bytes 100-199/{len(PAYLOAD)}"
    assert body(answer) == PAYLOAD[100:200]
    seen = server.requests[0]
    assert (seen.path, seen.sni, seen.headers["Host"]) == (
        "/v.mp4?x=1",
        "public.test",
        "public.test",
    )
    assert seen.headers["Range"] == "bytes=100-199"
    assert network.lookups == ["public.test"] and network.connections == [PUBLIC_A]


@pytest.mark.parametrize(
    ("location", "why"),
    [
        ("https://inner.test/secret", "inner.test resolves to 10.0.0.5, a private-network address"),
        ("https://127.0.0.1:{inner_port}/secret", "127.0.0.1 is a loopback address"),
        ("https://localhost:{inner_port}/secret", "localhost names this machine"),
        ("http://cdn.test/v.mp4", "is not an https:// link"),
        ("https://[::ffff:10.0.0.5]/secret", "a private-network address"),
    ],
)
def test_a_redirect_inward_is_refused_at_that_hop_and_the_inner_server_gets_nothing(
    network, servers, ca, location, why
):
    inner = servers(serve_bytes(b"secret", "image/png"))
    outer = servers(redirect(location.format(inner_port=inner.port)))
    network.name("public.test", PUBLIC_A)
    network.name("inner.test", PRIVATE)
    network.name("cdn.test", PUBLIC_B)
    network.route(PUBLIC_A, outer)
    network.route(PRIVATE, inner)
    network.route(PUBLIC_B, inner)

    with pytest.raises(LinkFetchError, match=why) as refused:
        fetcher(network, ca).open("https://public.test/v.mp4")

    assert refused.value.status == 403
    assert len(outer.requests) == 1
    assert inner.requests == []
    assert network.connections == [PUBLIC_A]


def test_a_redirect_to_another_public_host_is_followed_and_checked(network, servers, ca):
    cdn = servers(serve_bytes(PAYLOAD, "video/webm"))
    origin = servers(redirect("//cdn.test/path/v.webm", 307))
    network.name("public.test", PUBLIC_A)
    network.name("cdn.test", PUBLIC_B)
    network.route(PUBLIC_A, origin)
    network.route(PUBLIC_B, cdn)

    answer = fetcher(network, ca).open("https://public.test/v", byte_range="bytes=0-9")

    assert (answer.status, answer.url, body(answer)) == (
        206,
        "https://cdn.test/path/v.webm",
        PAYLOAD[:10],
    )
    assert cdn.requests[0].sni == "cdn.test" and cdn.requests[0].headers["Range"] == "bytes=0-9"
    assert network.lookups == ["public.test", "cdn.test"]
    assert network.connections == [PUBLIC_A, PUBLIC_B]


def test_a_name_is_resolved_once_per_fetch_so_it_cannot_rebind(network, servers, ca):
    """flip.test answers a public address, then (to a second lookup) a private one."""
    inner = servers(serve_bytes(b"secret", "image/png"))

    def respond(handler: BaseHTTPRequestHandler) -> None:
        if handler.path == "/first":
            redirect("/again")(handler)
        else:
            serve_bytes(b"public image", "image/png", ranges=False)(handler)

    flip = servers(respond)
    answers = iter([[PUBLIC_A], [PRIVATE]])
    network.names["flip.test"] = lambda: next(answers)
    network.route(PUBLIC_A, flip)
    network.route(PRIVATE, inner)

    answer = fetcher(network, ca).open("https://flip.test/first")

    assert body(answer) == b"public image"
    assert network.lookups == ["flip.test"]
    assert network.connections == [PUBLIC_A, PUBLIC_A]
    assert inner.requests == []
    assert network.resolve("flip.test") == [PRIVATE]  # a second lookup would have rebound


def test_redirects_are_followed_a_few_times_only(network, servers, ca):
    loop = servers(redirect("/again"))
    network.name("public.test", PUBLIC_A)
    network.route(PUBLIC_A, loop)

    with pytest.raises(LinkFetchError, match="more than 2 times"):
        fetcher(network, ca, max_redirects=2).open("https://public.test/start")
    assert len(loop.requests) == 3


def test_the_body_passed_on_is_capped(network, servers, ca):
    server = servers(serve_bytes(PAYLOAD * 4, "video/mp4", ranges=False))
    network.name("public.test", PUBLIC_A)
    network.route(PUBLIC_A, server)

    answer = fetcher(network, ca, max_bytes=300_000).open("https://public.test/v.mp4")

    assert answer.status == 200 and answer.content_length == 4 * len(PAYLOAD)
    assert body(answer) == (PAYLOAD * 4)[:300_000]


def drip_headers(handler: BaseHTTPRequestHandler) -> None:
    """Headers that never end: one byte every 50 ms, until the client hangs up."""
    handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nX-Slow: ")
    try:
        for _ in range(400):
            handler.wfile.write(b"a")
            handler.wfile.flush()
            time.sleep(0.05)
    except OSError:
        return


def drip_body(handler: BaseHTTPRequestHandler) -> None:
    """A 1 MiB body sent 1 KiB every 50 ms."""
    handler.send_response(200)
    handler.send_header("Content-Type", "video/mp4")
    handler.send_header("Content-Length", str(len(PAYLOAD)))
    handler.end_headers()
    try:
        for start in range(0, len(PAYLOAD), 1024):
            handler.wfile.write(PAYLOAD[start : start + 1024])
            handler.wfile.flush()
            time.sleep(0.05)
    except OSError:
        return


def test_a_server_that_never_finishes_its_headers_is_cut_at_the_deadline(network, servers, ca):
    server = servers(drip_headers)
    network.name("public.test", PUBLIC_A)
    network.route(PUBLIC_A, server)

    started = time.monotonic()
    with pytest.raises(LinkFetchError, match="did not answer within 1 s") as late:
        fetcher(network, ca, timeout_s=1.0).open("https://public.test/v.mp4")
    assert late.value.status == 504
    assert time.monotonic() - started < 1.8


def test_a_body_that_trickles_in_is_cut_at_the_deadline(network, servers, ca):
    server = servers(drip_body)
    network.name("public.test", PUBLIC_A)
    network.route(PUBLIC_A, server)

    started = time.monotonic()
    answer = fetcher(network, ca, timeout_s=1.0).open("https://public.test/v.mp4")
    received = body(answer)
    assert time.monotonic() - started < 1.8
    assert 0 < len(received) < len(PAYLOAD) // 4


@pytest.mark.parametrize("mime_type", ["text/html; charset=utf-8", "application/octet-stream", ""])
def test_only_a_video_or_an_image_is_passed_on(network, servers, ca, mime_type):
    server = servers(serve_bytes(b"<html>", mime_type))
    network.name("public.test", PUBLIC_A)
    network.route(PUBLIC_A, server)

    with pytest.raises(LinkFetchError, match="not a video or an image") as refused:
        fetcher(network, ca).open("https://public.test/v.mp4")
    assert refused.value.status == 415


def test_a_certificate_for_another_name_is_refused(network, servers, ca):
    server = servers(serve_bytes(PAYLOAD, "video/mp4"), names=("other.test",))
    network.name("public.test", PUBLIC_A)
    network.route(PUBLIC_A, server)

    with pytest.raises(LinkFetchError, match="no valid certificate"):
        fetcher(network, ca).open("https://public.test/v.mp4")
    assert server.requests == []


def test_a_link_to_a_private_name_is_refused_before_any_connection(network, ca):
    network.name("inner.test", PUBLIC_A, PRIVATE)  # one private address is enough
    with pytest.raises(LinkFetchError, match=r"resolves to 10\.0\.0\.5") as refused:
        fetcher(network, ca).open("https://inner.test/v.mp4")
    assert refused.value.status == 403 and network.connections == []


def test_a_name_that_does_not_resolve_is_not_fetched(network, ca):
    with pytest.raises(LinkFetchError, match="could not be resolved here"):
        fetcher(network, ca).open("https://nowhere.test/v.mp4")
    assert network.connections == []


def test_each_fetch_lets_go_of_its_connection_and_timer(network, servers, ca):
    server = servers(serve_bytes(PAYLOAD, "video/mp4"))
    network.name("public.test", PUBLIC_A)
    network.route(PUBLIC_A, server)
    links = fetcher(network, ca)
    baseline = threading.active_count()

    for _ in range(5):
        body(links.open("https://public.test/v.mp4", byte_range="bytes=0-99"))
        links.open("https://public.test/v.mp4").close()  # closed without reading the body

    deadline = time.monotonic() + 2
    while threading.active_count() > baseline and time.monotonic() < deadline:
        time.sleep(0.02)  # the server's request threads end as the connections close
    assert threading.active_count() <= baseline
