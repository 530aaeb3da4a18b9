"""Real local HTTPS servers behind public-looking names, for the guarded link fetch.

`Network` plays DNS (names -> addresses, every lookup counted) and routing (a checked address ->
one of the local servers, every connection counted): what `LinkFetcher` takes as its resolver and
connector. `LinkServer` is a threaded HTTPS server on 127.0.0.1 with a certificate from a test CA
(trustme) for the names it serves; it records each request and the name the client sent in SNI.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import trustme

Respond = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    sni: str | None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a test's drip handler must not hold the test's teardown

    def __init__(self, link_server: LinkServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.link_server = link_server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        # The TLS handshake happens here, in the request's own thread.
        link_server = self.server.link_server
        self.request = link_server.tls.wrap_socket(self.request, server_side=True)
        with link_server.lock:
            self.sni = link_server.snis.pop(id(self.request), None)
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        link_server = self.server.link_server
        seen = Seen(self.command, self.path, dict(self.headers.items()), self.sni)
        with link_server.lock:
            link_server.requests.append(seen)
        link_server.respond(self)

    do_GET = do_HEAD = _answer


class LinkServer:
    """One HTTPS server: `respond(handler)` writes each answer."""

    def __init__(self, ca: trustme.CA, names: list[str], respond: Respond) -> None:
        self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*names).configure_cert(self.tls)
        self.tls.sni_callback = self._remember_sni
        self.respond = respond
        self.requests: list[Seen] = []
        self.snis: dict[int, str | None] = {}  # TLS socket -> the name it asked for in SNI
        self.lock = threading.Lock()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _remember_sni(self, sock: ssl.SSLSocket, name: str | None, _context: Any) -> None:
        with self.lock:
            self.snis[id(sock)] = name


@dataclass
class Network:
    """DNS and routing for the fetcher: names -> addresses, addresses -> local servers."""

    names: dict[str, Callable[[], list[str]]] = field(default_factory=dict)
    routes: dict[str, LinkServer] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)
    connections: list[str] = field(default_factory=list)

    def name(self, host: str, *addresses: str) -> None:
        self.names[host] = lambda: list(addresses)

    def route(self, address: str, server: LinkServer) -> None:
        self.routes[address] = server

    def resolve(self, host: str) -> list[str]:
        self.lookups.append(host)
        if host not in self.names:
            raise OSError(f"no DNS answer for {host}")
        return self.names[host]()

    def connect(self, address: str, port: int, timeout_s: float) -> socket.socket:
        self.connections.append(address)
        server = self.routes.get(address)
        if server is None:
            raise ConnectionRefusedError(f"nothing listens at {address}")
        return socket.create_connection(("127.0.0.1", server.port), timeout=timeout_s)


def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    """A client context like the default one (certificates and names checked), trusting `ca`."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def serve_bytes(payload: bytes, mime_type: str, *, ranges: bool = True) -> Respond:
    """Answer with `payload`: a Range header gets a 206 for that span when `ranges`."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        start, end, status = 0, len(payload) - 1, 200
        asked = handler.headers.get("Range")
        if ranges and asked and asked.startswith("bytes="):
            first, _, last = asked.removeprefix("bytes=").partition("-")
            start = int(first)
            end = min(int(last), len(payload) - 1) if last else len(payload) - 1
            status = 206
        body = payload[start : end + 1]
        handler.send_response(status)
        handler.send_header("Content-Type", mime_type)
        handler.send_header("Content-Length", str(len(body)))
        if ranges:
            handler.send_header("Accept-Ranges", "bytes")
        if status == 206:
            handler.send_header("Content-Range", f"bytes {start}-{end}/{len(payload)}")
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)

    return respond


def redirect(location: str, status: int = 302) -> Respond:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return respond
