"""Fetching a linked video or image for its preview, in a way no answer can redirect inward.

The browser must never load a pasted link itself: a public URL answering `302 Location:
http://10.0.0.1/…` (or a name that resolves to a public address when checked and to a private one
when loaded: DNS rebinding) would make it reach into the user's network. So the media route
(`reelscope/media_server.py`) fetches the link here and passes the bytes on, and each hop is
checked as the first one was:

- https only; the host resolved once per fetch (`netguard.destination`): every address public,
  or the fetch is refused before any connection;
- the TCP connection goes to a checked address itself (no second lookup), then TLS with SNI and
  certificate checks against the host name, as a browser does;
- redirects are followed by hand, each hop checked the same way, at most `max_redirects`;
- only a `video/*` or `image/*` answer is passed on; at most `max_bytes` of it, and the whole
  fetch (every hop's connection, headers and body) ends at `timeout_s`, whatever the server does.

The resolver and the connector are injectable, so tests run real local HTTPS servers behind
public-looking names.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from reelscope.netguard import Destination, LinkRefused, Resolver, destination, system_resolve

Connector = Callable[[str, int, float], socket.socket]
"""(checked IP address, port, timeout in seconds) -> a connected TCP socket."""

REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MEDIA_TYPE = re.compile(r"^(video|image)/[a-z0-9.+-]{1,60}$")
_CHUNK = 64 * 1024


def open_socket(address: str, port: int, timeout_s: float) -> socket.socket:
    """A TCP connection to exactly this address (an IP, so no name lookup happens here)."""
    return socket.create_connection((address, port), timeout=timeout_s)


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 2 * 1024 * 1024  # the most body bytes one fetch passes on
    timeout_s: float = 20.0  # the whole fetch, from the first connection to the last byte
    max_redirects: int = 3


class LinkFetchError(Exception):
    """A link that was not fetched: `status` is what the media route answers, the message why."""

    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class LinkResponse:
    """A checked answer (200, 206 or 416, of a media type): its headers, and its body once."""

    status: int
    mime_type: str
    url: str  # the last hop's
    content_length: int | None
    content_range: str | None
    accepts_ranges: bool
    _body: http.client.HTTPResponse = field(repr=False)
    _finish: Callable[[], None] = field(repr=False)
    _left: int = field(repr=False, default=0)

    def chunks(self, limit: int | None = None) -> Iterator[bytes]:
        """The body: at most the fetch's `max_bytes` (and `limit`), until its deadline; then
        the connection is closed."""
        if limit is not None:
            self._left = min(self._left, limit)
        try:
            while self._left > 0:
                try:
                    data = self._body.read(min(_CHUNK, self._left))
                except (OSError, ValueError, http.client.HTTPException):
                    return  # the deadline closed the connection, or the server did
                if not data:
                    return
                self._left -= len(data)
                yield data
        finally:
            self.close()

    def close(self) -> None:
        self._finish()


class LinkFetcher:
    """Fetches https links for previews: every hop checked and pinned, with caps."""

    def __init__(
        self,
        resolve: Resolver = system_resolve,
        connect: Connector = open_socket,
        tls: ssl.SSLContext | None = None,
        limits: Limits = Limits(),
    ) -> None:
        self.resolve = resolve
        self.connect = connect
        self.tls = tls or ssl.create_default_context()
        self.limits = limits

    def open(self, url: str, *, byte_range: str | None = None, head: bool = False) -> LinkResponse:
        """The answer to GET (or HEAD) `url`, after redirects; LinkFetchError when refused.

        `byte_range` is sent as the Range header on every hop. The caller must read
        `chunks()` to the end or `close()` the answer.
        """
        fetch = _Fetch(self, time.monotonic() + self.limits.timeout_s)
        try:
            return fetch.run(url, byte_range, head)
        except BaseException:
            fetch.finish()
            raise


class _Fetch:
    """One fetch: its hops, the names it resolved (each once), its deadline and connection."""

    def __init__(self, fetcher: LinkFetcher, deadline: float) -> None:
        self._fetcher = fetcher
        self._deadline = deadline
        self._resolved: dict[str, tuple[str, ...]] = {}
        self._connection: http.client.HTTPSConnection | None = None
        self._lock = threading.Lock()
        self._expired = False
        self._timer = threading.Timer(max(deadline - time.monotonic(), 0.0), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def run(self, url: str, byte_range: str | None, head: bool) -> LinkResponse:
        limits = self._fetcher.limits
        for _hop in range(limits.max_redirects + 1):
            response = self._request(url, byte_range, head)
            if response.status not in REDIRECTS:
                return self._checked(url, response, head)
            location = response.getheader("location")
            self._hang_up()
            if not location:
                raise LinkFetchError(f"{_host(url)} redirected without saying where to.")
            url = urljoin(url, location.strip())
        raise LinkFetchError(f"The link redirected more than {limits.max_redirects} times.")

    def finish(self) -> None:
        self._timer.cancel()
        self._hang_up()

    def _request(self, url: str, byte_range: str | None, head: bool) -> http.client.HTTPResponse:
        try:
            target = destination(url, self._pinned)
        except LinkRefused as refused:
            raise LinkFetchError(f"Not previewed: {refused}", 403) from refused
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {"Accept": "video/*, image/*", "Accept-Encoding": "identity"}
        headers["User-Agent"] = "Reelscope link preview"
        if byte_range:
            headers["Range"] = byte_range
        last_problem: Exception | None = None
        for address in target.addresses:
            try:
                connection = self._open(target, address)
                connection.request("HEAD" if head else "GET", path, headers=headers)
                response = connection.getresponse()
                if self._expired:  # cut mid-headers: what was read is not the answer
                    raise TimeoutError("the fetch ran out of time")
                return response
            except (OSError, http.client.HTTPException) as problem:
                self._hang_up()
                last_problem = problem
                if self._expired:
                    break
        raise self._failure(target, last_problem)

    def _pinned(self, host: str) -> tuple[str, ...]:
        """The resolver, once per name in this fetch: a later hop to the same host connects to
        the addresses checked the first time, whatever the name resolves to by then."""
        if host not in self._resolved:
            self._resolved[host] = tuple(self._fetcher.resolve(host))
        return self._resolved[host]

    def _open(self, target: Destination, address: str) -> http.client.HTTPSConnection:
        fetcher = self._fetcher
        connection = _PinnedConnection(
            target, address, fetcher.connect, fetcher.tls, self._remaining()
        )
        with self._lock:
            if self._expired:
                raise TimeoutError("the fetch ran out of time")
            self._connection = connection
        return connection

    def _checked(self, url: str, response: http.client.HTTPResponse, head: bool) -> LinkResponse:
        status = response.status
        if status not in (200, 206, 416):
            raise LinkFetchError(f"{_host(url)} answered {status} {response.reason}: no preview.")
        mime_type = (response.getheader("content-type") or "").split(";")[0].strip().lower()
        if status != 416 and not _MEDIA_TYPE.match(mime_type):
            shown = mime_type or "no content type"
            raise LinkFetchError(
                f"{_host(url)} answered {shown}, not a video or an image: no preview.", 415
            )
        length = response.getheader("content-length")
        return LinkResponse(
            status=status,
            mime_type=mime_type or "application/octet-stream",
            url=url,
            content_length=int(length) if length and length.isdigit() else None,
            content_range=response.getheader("content-range"),
            accepts_ranges=status == 206 or response.getheader("accept-ranges") == "bytes",
            _body=response,
            _finish=self.finish,
            _left=0 if head or status == 416 else self._fetcher.limits.max_bytes,
        )

    def _failure(self, target: Destination, problem: Exception | None) -> LinkFetchError:
        if self._expired or isinstance(problem, TimeoutError):
            seconds = self._fetcher.limits.timeout_s
            return LinkFetchError(f"{target.host} did not answer within {seconds:g} s.", 504)
        if isinstance(problem, ssl.SSLError | ssl.CertificateError):
            return LinkFetchError(f"{target.host} has no valid certificate for its name: {problem}")
        return LinkFetchError(f"{target.host} could not be reached: {problem}")

    def _remaining(self) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the fetch ran out of time")
        return left

    def _expire(self) -> None:
        """At the deadline: cut the connection, whatever it is waiting for."""
        with self._lock:
            self._expired = True
            connection = self._connection
        if connection is not None and connection.sock is not None:
            with contextlib.suppress(OSError):  # already closed
                connection.sock.shutdown(socket.SHUT_RDWR)

    def _hang_up(self) -> None:
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


class _PinnedConnection(http.client.HTTPSConnection):
    """HTTPS to the checked host, over a TCP connection to one of its checked addresses."""

    def __init__(
        self,
        target: Destination,
        address: str,
        connect: Connector,
        tls: ssl.SSLContext,
        timeout: float,
    ) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=tls)
        self._address = address
        self._connect_to = connect
        self._tls = tls

    def connect(self) -> None:
        raw = self._connect_to(self._address, self.port, self.timeout)
        try:
            # SNI and the certificate check are against the host name, as in a browser.
            self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise


def _host(url: str) -> str:
    return urlsplit(url).hostname or url
