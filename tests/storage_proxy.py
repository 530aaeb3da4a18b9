"""A small HTTP proxy in front of gcp-storage-emulator: the CORS the emulator lacks, and a
network drop on demand. Test harness only; the product talks to it as to Cloud Storage.

What gcp-storage-emulator 2026.7.19 does with resumable sessions (read in its source,
handlers/objects.py and server.py, and tried: tests/contract/test_direct_upload.py):
- `POST /upload/storage/v1/b/B/o?uploadType=resumable` opens a session; its Location is built
  from the request's Host header, so a session opened through this proxy points back at it.
- chunked `PUT`s with `Content-Range: bytes A-B/T` answer 308 with `Range: bytes=0-N`, the last
  one 200 with the object; the status query (`Content-Range: bytes */T`, empty body) answers
  308 with the persisted range. A chunk whose start is not the persisted offset is refused
  (400), so a client must resume exactly where the server says.
- It does not enforce the size announced when the session was opened (X-Upload-Content-Length):
  an upload that ends with another total is stored. Real Cloud Storage refuses it; the
  product checks the size itself (reelscope/direct_upload.finish_upload).
- Before any byte has arrived the status query says `Range: bytes=0-0` (Cloud Storage sends no
  Range then); the tests drop a chunk only after the first one has arrived.
- No CORS at all: no OPTIONS handler (a preflight gets 501) and no Access-Control-* header on
  any answer, whatever the bucket's `cors` field says. A browser cannot use it from a page.
- `DELETE` on a session URL (Cloud Storage's cancel) answers 501.
- Reads ignore `ifGenerationMatch` (a replaced object is read as it is now).

So this proxy answers CORS preflights and adds the CORS headers to every answer as a bucket
with `make deploy`'s CORS configuration would (the same methods and exposed headers), and
forwards everything else unchanged. `drop_next_chunk()` makes it pass the first half of the
next data chunk on to the emulator (Cloud Storage may keep part of an interrupted request) and
then close the client's connection without an answer: what a network drop mid-chunk looks like
to the browser. `hold_chunk()` keeps a chunk waiting (an upload in flight, to cancel).
"""

from __future__ import annotations

import http.client
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# As scripts/deploy.sh configures the bucket's CORS.
CORS_METHODS = "GET, HEAD, PUT, POST"
CORS_EXPOSED = "Content-Type, Content-Range, Range, Location, X-Goog-Resumable"
_CHUNK = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}


@dataclass
class Hold:
    """A data chunk kept waiting: `reached` once it arrived, sent on after `release`,
    `passed` once the emulator answered it."""

    number: int
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    passed: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class Seen:
    """One request as the proxy saw it, and how it ended."""

    method: str
    content_range: str | None
    status: int | None  # None: dropped on purpose


class StorageProxy:
    """Forwards to the emulator at `upstream`; `base_url` is where to point clients."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._lock = threading.Lock()
        self._drops = 0
        self._drop_at: int | None = None  # drop the data chunk with this number (from 0)
        self._chunks_seen = 0
        self._hold: Hold | None = None
        self.seen: list[Seen] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}"

    def __enter__(self) -> StorageProxy:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def drop_next_chunk(self) -> None:
        with self._lock:
            self._drops += 1

    def drop_chunk(self, number: int) -> None:
        """Drop the data chunk with this number (0: the first) among those still to come."""
        with self._lock:
            self._drop_at = self._chunks_seen + number

    def chunks(self) -> list[Seen]:
        """The data chunks and status queries sent to upload sessions, in order."""
        with self._lock:
            return [seen for seen in self.seen if seen.method == "PUT" and seen.content_range]

    def hold_chunk(self, number: int) -> Hold:
        """Keep the data chunk with this number (0: the next) waiting until released."""
        with self._lock:
            self._hold = Hold(self._chunks_seen + number)
            return self._hold

    def _take_drop(self) -> tuple[bool, Hold | None]:
        """Whether to drop the data chunk being sent now, or hold it."""
        with self._lock:
            number = self._chunks_seen
            self._chunks_seen += 1
            hold = self._hold if self._hold and self._hold.number == number else None
            if hold is not None:
                self._hold = None
                return False, hold
            if self._drops:
                self._drops -= 1
                return True, None
            if self._drop_at == number:
                self._drop_at = None
                return True, None
            return False, None

    def _record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:  # quiet
                return

            def do_OPTIONS(self) -> None:
                proxy._record(Seen(self.command, None, 200))
                self.send_response(200)
                self._cors()
                asked = self.headers.get("Access-Control-Request-Headers")
                if asked:
                    self.send_header("Access-Control-Allow-Headers", asked)
                self.send_header("Access-Control-Allow-Methods", CORS_METHODS)
                self.send_header("Access-Control-Max-Age", "3600")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                self._forward()

            def do_HEAD(self) -> None:
                self._forward()

            def do_POST(self) -> None:
                self._forward()

            def do_PUT(self) -> None:
                self._forward()

            def do_PATCH(self) -> None:
                self._forward()

            def do_DELETE(self) -> None:
                self._forward()

            def _cors(self) -> None:
                origin = self.headers.get("Origin")
                if origin:
                    self.send_header("Access-Control-Allow-Origin", origin)
                    self.send_header("Access-Control-Expose-Headers", CORS_EXPOSED)
                    self.send_header("Vary", "Origin")

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                content_range = self.headers.get("Content-Range")
                chunk = _CHUNK.fullmatch(content_range or "")
                drop, hold = False, None
                if self.command == "PUT" and chunk and body:
                    drop, hold = proxy._take_drop()
                if drop:
                    self._drop(body, int(chunk.group(1)), chunk.group(3))
                    proxy._record(Seen(self.command, content_range, None))
                    return
                if hold is not None:
                    hold.reached.set()
                    hold.release.wait(60)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "content-length"}
                status, reply_headers, reply = self._upstream(self.command, body, headers)
                proxy._record(Seen(self.command, content_range, status))
                if hold is not None:
                    hold.passed.set()
                self.send_response(status)
                for name, value in reply_headers:
                    if name.lower() not in _HOP_BY_HOP:
                        self.send_header(name, value)
                self._cors()
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply)

            def _drop(self, body: bytes, start: int, total: str) -> None:
                """Pass half the chunk on, then hang up without an answer."""
                half = body[: len(body) // 2]
                if half:
                    headers = {
                        "Content-Range": f"bytes {start}-{start + len(half) - 1}/{total}",
                        "Host": self.headers.get("Host", ""),
                    }
                    self._upstream("PUT", half, headers)
                self.close_connection = True
                self.connection.shutdown(2)  # socket.SHUT_RDWR: the client sees a reset

            def _upstream(
                self, method: str, body: bytes, headers: dict[str, str]
            ) -> tuple[int, list[tuple[str, str]], bytes]:
                connection = http.client.HTTPConnection(*proxy._upstream, timeout=60)
                try:
                    # Host is passed as the client sent it: the emulator builds session URLs
                    # from it, so they lead back through this proxy.
                    connection.putrequest(method, self.path, skip_host=True)
                    for name, value in headers.items():
                        connection.putheader(name, value)
                    connection.putheader("Content-Length", str(len(body)))
                    connection.endheaders(body)
                    reply = connection.getresponse()
                    return reply.status, reply.getheaders(), reply.read()
                finally:
                    connection.close()

        return Handler
