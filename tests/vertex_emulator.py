"""A local Vertex AI emulator for tests: real HTTP, real SDK, no network.

The product talks to Vertex AI through the google-genai SDK (and, for multimodal embeddings,
through google-cloud-aiplatform). Mocking those SDKs would test our guesses about them; this
emulator instead speaks the Vertex AI REST protocol on 127.0.0.1 so the real SDKs run end to end,
including their HTTP stack, SSE parsing, error mapping and retry logic.

Behaviour mirrors what /work/shared/SDK-NOTES.md recorded about the real service:

* ``POST /{v1|v1beta1}/projects/P/locations/L/publishers/google/models/M:RPC`` with RPC one of
  ``generateContent``, ``streamGenerateContent`` (``?alt=sse``), ``countTokens``,
  ``embedContent`` and ``predict``; anything else is a Google-style 404.
* ``/{v1|v1beta1}/projects/P/locations/L/batchPredictionJobs``: create (POST), list (GET), get
  (GET ``/ID``) and cancel (POST ``/ID:cancel``), as google-genai's ``client.batches`` sends
  them. A job reads its JSONL input from a storage emulator (``use_storage``), moves through
  QUEUED, PENDING and RUNNING at the pace ``set_batch_pace`` sets, answers each row with the
  same reply logic as generateContent, and writes ``prediction-model-<time>/predictions.jsonl``
  under the destination prefix. Rows fail on demand (``fail_batch_row``). A job's state is
  worked out from the clock whenever it is looked at (get, list, cancel, ``batch_job``), so
  its output appears at the first look after its end, as a poller sees it. The calls
  themselves take queued faults like any RPC: ``fail(503, rpc="batchPredictionJobs.get")``.
* The Gemini Developer API's paths too, as google-genai builds them with ``api_key=``:
  ``POST /v1beta/models/M:RPC`` with RPC one of ``generateContent``, ``streamGenerateContent``
  (``?alt=sse``), ``countTokens`` and ``batchEmbedContents`` (what the SDK's ``embed_content``
  sends there; ``embedContent`` is answered as well). The key must come in the
  ``x-goog-api-key`` header (or ``?key=``) and equal ``api_key``: without one the answer is
  Google's 403 PERMISSION_DENIED, with a wrong one its 400 INVALID_ARGUMENT API_KEY_INVALID.
  The same replies, faults and hooks serve both backends; ``RecordedRequest.backend`` says
  which one a request spoke to.
* The Developer API's Files API (``files`` property; its own section below): the resumable
  upload google-genai's ``client.files.upload`` sends, ``files.get`` and ``files.delete``; a
  file is PROCESSING for ``files.set_processing`` seconds, then ACTIVE (or FAILED on demand),
  and expires 48 h after its upload; generate and count refuse a fileData URI of a file that is
  gone or not ACTIVE. ``files.uploads`` lists what was uploaded, for a test to count.
* Streams are server-sent events over HTTP/1.1 chunked transfer, one ``data: {json}`` event per
  chunk, flushed one by one, so the client sees them arrive separately.
* Faults (HTTP errors, cut or truncated streams, safety blocks, MAX_TOKENS, delays) are queued
  FIFO and consumed by the next matching request(s). A quota squeeze (``throttle``) instead
  answers every n-th matching request with a fault (429) for a while: counted, not random.

Only the standard library is used so the emulator can run anywhere the tests run.

Usage::

    with VertexEmulator() as emulator:
        client = genai.Client(
            vertexai=True, project="test-project", location="global",
            credentials=google.oauth2.credentials.Credentials(token="test-token"),
            http_options=types.HttpOptions(base_url=emulator.base_url),
        )
        emulator.set_reply("Three scenes.", chunks=3)
        emulator.fail(429)  # the next generate call gets RESOURCE_EXHAUSTED
        ...
        assert emulator.last_request().parts[0]["fileData"]["fileUri"] == "gs://b/v.mp4"

For a session-scoped fixture, start one instance and call ``reset()`` before each test.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import math
import random
import re
import select
import socket
import threading
import time
import traceback
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

__all__ = [
    "BACKEND_GEMINI_API",
    "BACKEND_VERTEX",
    "BATCH_RPCS",
    "DEFAULT_API_KEY",
    "DEFAULT_REPLY",
    "FILES_URI_PREFIX",
    "GENERATION_RPCS",
    "MEDIA_PART_TOKENS",
    "BatchPace",
    "Fault",
    "FaultKind",
    "FilesApi",
    "Hook",
    "JobState",
    "RecordedRequest",
    "Throttle",
    "VertexEmulator",
    "camelize",
    "decode_inline_data",
    "fake_embedding",
    "generation_config_of",
    "parts_of",
    "prompt_token_count",
    "safety_settings_of",
    "system_parts_of",
    "write_static_adc",
]

DEFAULT_REPLY = (
    "The video shows three scenes: a red square, a green circle and a blue triangle. "
    "The red square appears first, from 0:00 to 0:04, centred on a dark background. "
    "The green circle follows from 0:04 to 0:08 and slowly grows in size. "
    "The blue triangle closes the clip from 0:08 to 0:12 while a steady tone plays."
)
"""Deterministic default answer, long enough to be split into several stream chunks."""

GENERATION_RPCS = frozenset({"generateContent", "streamGenerateContent"})
"""RPCs a fault with ``rpc=None`` applies to (countTokens and embeddings are opt-in)."""

MEDIA_PART_TOKENS = 258
"""Prompt tokens charged per fileData/inlineData part (Gemini's per-image figure)."""

DEFAULT_EMBEDDING_DIMENSION = 3072
"""gemini-embedding-* default output size when embedContentConfig has none."""

MULTIMODAL_DIMENSIONS = (128, 256, 512, 1408)
"""Dimensions multimodalembedding@001 accepts; video vectors are always 1408-d."""

HARM_CATEGORY = "HARM_CATEGORY_DANGEROUS_CONTENT"

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
"""google.rpc.Code names Vertex puts in ``error.status`` for each HTTP status."""

DEFAULT_MESSAGES = {
    400: "Request contains an invalid argument.",
    403: "Permission denied on resource project (or it may not exist).",
    404: "Requested entity was not found.",
    429: (
        "Resource exhausted. Please try again later. Please refer to "
        "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details."
    ),
    500: "Internal error encountered.",
    503: "The service is currently unavailable.",
}

_PATH_RE = re.compile(
    r"^/(?P<version>v1|v1beta1)/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
    r"/publishers/google/models/(?P<model>[^/:]+):(?P<rpc>[A-Za-z]+)$"
)

# The Gemini Developer API (google-genai with api_key=): base .../v1beta, models as models/{id}.
_DEV_PATH_RE = re.compile(
    r"^/(?P<version>v1beta|v1alpha|v1)/models/(?P<model>[^/:]+):(?P<rpc>[A-Za-z]+)$"
)

BACKEND_VERTEX = "vertex"
BACKEND_GEMINI_API = "gemini-api"
DEV_API_RPCS = frozenset(
    {
        "generateContent",
        "streamGenerateContent",
        "countTokens",
        "embedContent",
        "batchEmbedContents",
    }
)
"""The RPCs the emulator answers on the Developer API's paths (no predict, no batch jobs)."""

DEFAULT_API_KEY = "emulator-api-key"
"""The key the Developer API paths accept until a test sets ``api_key``."""

# Google's answers for a missing and a wrong key on generativelanguage.googleapis.com.
_NO_KEY_MESSAGE = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API."
)
_BAD_KEY_MESSAGE = "API key not valid. Please pass a valid API key."
_BAD_KEY_DETAILS = [
    {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "API_KEY_INVALID",
        "domain": "googleapis.com",
        "metadata": {"service": "generativelanguage.googleapis.com"},
    }
]

_BATCH_PATH_RE = re.compile(
    r"^/(?P<version>v1|v1beta1)/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
    r"/batchPredictionJobs(?:/(?P<job>[^/:]+)(?P<cancel>:cancel)?)?$"
)

BATCH_RPCS = frozenset(
    {
        "batchPredictionJobs.create",
        "batchPredictionJobs.get",
        "batchPredictionJobs.list",
        "batchPredictionJobs.cancel",
    }
)
"""How the request log names the batch job calls (``RecordedRequest.rpc``)."""

# The RPCs whose request has no JSON body to check (GETs, and a cancel the SDK may send empty).
_BODYLESS_RPCS = frozenset(
    {"batchPredictionJobs.get", "batchPredictionJobs.list", "batchPredictionJobs.cancel"}
)

# Keys whose values are user data (schemas, function arguments), not API fields: never renamed.
_OPAQUE_KEYS = frozenset(
    {"args", "response", "responseSchema", "responseJsonSchema", "parametersJsonSchema"}
)


# --------------------------------------------------------------------------- request helpers


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def camelize(value: Any) -> Any:
    """Return ``value`` with every dict key in camelCase (the SDK may send snake_case)."""
    if isinstance(value, dict):
        renamed = {}
        for key, item in value.items():
            new_key = _camel(key)
            renamed[new_key] = item if new_key in _OPAQUE_KEYS else camelize(item)
        return renamed
    if isinstance(value, list):
        return [camelize(item) for item in value]
    return value


def _contents(body: Any) -> list[dict[str, Any]]:
    """All Content objects of a request: ``contents`` (generate/count) or ``content`` (embed)."""
    if not isinstance(body, dict):
        return []
    contents = body.get("contents") or []
    single = body.get("content")
    if isinstance(contents, dict):
        contents = [contents]
    if isinstance(single, dict):
        contents = [*contents, single]
    return [c for c in contents if isinstance(c, dict)]


def parts_of(body: Any) -> list[dict[str, Any]]:
    """Every part of every content in a request body, camelCased, in order.

    System instructions are not included (see ``system_parts_of``) so that tests asserting
    "what the user turn contained" are not polluted by the prompt preamble.
    """
    return [camelize(part) for content in _contents(body) for part in content.get("parts", [])]


def system_parts_of(body: Any) -> list[dict[str, Any]]:
    """Parts of ``systemInstruction`` (either spelling), camelCased."""
    if not isinstance(body, dict):
        return []
    system = body.get("systemInstruction") or body.get("system_instruction") or {}
    return [camelize(part) for part in system.get("parts", [])]


def generation_config_of(body: Any) -> dict[str, Any]:
    """``generationConfig`` of a request with camelCase keys ({} when absent)."""
    if not isinstance(body, dict):
        return {}
    return camelize(body.get("generationConfig") or body.get("generation_config") or {})


def safety_settings_of(body: Any) -> list[dict[str, Any]]:
    """``safetySettings`` of a request with camelCase keys ([] when absent)."""
    if not isinstance(body, dict):
        return []
    return camelize(body.get("safetySettings") or body.get("safety_settings") or [])


def decode_inline_data(part: dict[str, Any]) -> bytes:
    """Bytes of an ``inlineData`` part; the SDK sends URL-safe base64, others standard."""
    data = camelize(part)["inlineData"]["data"]
    padded = data + "=" * (-len(data) % 4)
    return base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))


def prompt_token_count(body: Any) -> int:
    """Deterministic prompt size: len(text)//4 per text part + 258 per media part.

    Counts user contents and the system instruction, so tests can predict the number exactly.
    """
    total = 0
    for part in parts_of(body) + system_parts_of(body):
        if isinstance(part.get("text"), str):
            total += len(part["text"]) // 4
        if "fileData" in part or "inlineData" in part:
            total += MEDIA_PART_TOKENS
    return total


def fake_embedding(key: str, dimension: int) -> list[float]:
    """A unit vector that depends only on ``key``: same input, same embedding, every run."""
    rng = random.Random(hashlib.sha256(key.encode()).digest())
    vector = [rng.gauss(0.0, 1.0) for _ in range(dimension)]
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def _split(text: str, pieces: int) -> list[str]:
    """Split ``text`` into ``pieces`` nearly equal, non-empty slices (fewer if text is short)."""
    pieces = max(1, min(pieces, len(text))) if text else 1
    bounds = [len(text) * i // pieces for i in range(pieces + 1)]
    return [text[bounds[i] : bounds[i + 1]] for i in range(pieces)]


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as the emulator received it: what the product actually sent."""

    method: str
    path: str  # URL-decoded, without the query string
    model: str | None  # decoded model id ("multimodalembedding@001"), None for unknown paths
    rpc: str | None  # "generateContent", "streamGenerateContent", "countTokens", ...
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: Any  # parsed JSON; the raw text if it was not JSON; None if empty
    version: str | None = None  # "v1" or "v1beta1"
    project: str | None = None
    location: str | None = None
    backend: str = BACKEND_VERTEX  # which API's path it came to: BACKEND_VERTEX or _GEMINI_API
    received_at: float = 0.0  # time.time() when the request arrived
    answer: Answer = field(default_factory=lambda: Answer())

    @property
    def parts(self) -> list[dict[str, Any]]:
        return parts_of(self.body)

    @property
    def texts(self) -> list[str]:
        """Text of the text parts, in order (system instruction excluded)."""
        return [p["text"] for p in self.parts if isinstance(p.get("text"), str)]

    @property
    def system_parts(self) -> list[dict[str, Any]]:
        return system_parts_of(self.body)

    @property
    def generation_config(self) -> dict[str, Any]:
        return generation_config_of(self.body)

    @property
    def safety_settings(self) -> list[dict[str, Any]]:
        return safety_settings_of(self.body)


@dataclass
class Answer:
    """How the emulator's answer to one request went, filled in while it is written.

    ``how`` is "pending" until the answer ends: "complete" (fully written), "client_closed"
    (the client hung up first: what a Stop must cause), or "dropped" (the emulator cut it, as
    a fault asked). Times are time.time(), so they compare with a browser's Date.now().
    """

    how: str = "pending"
    ended_at: float | None = None
    chunk_times: list[float] = field(default_factory=list)
    _ended: threading.Event = field(default_factory=threading.Event, repr=False)

    def end(self, how: str) -> None:
        if self.how == "pending":
            self.how, self.ended_at = how, time.time()
            self._ended.set()

    def wait(self, timeout: float) -> bool:
        """Until the answer has ended; whether it did within ``timeout`` seconds."""
        return self._ended.wait(timeout)


# --------------------------------------------------------------------------- faults


class FaultKind(StrEnum):
    ERROR = "error"  # HTTP error with Google error JSON
    CUT_STREAM = "cut_stream"  # k chunks, then the connection drops mid-body
    END_EARLY = "end_early"  # k chunks, then a clean end with no finishReason / usage
    BLOCK_PROMPT = "block_prompt"  # no candidates, promptFeedback.blockReason SAFETY
    BLOCK_RESPONSE = "block_response"  # k chunks, then finishReason SAFETY
    MAX_TOKENS = "max_tokens"  # k chunks, then finishReason MAX_TOKENS
    DELAY = "delay"  # sleep, then the normal answer


@dataclass
class Fault:
    """What to do instead of the normal answer, for the next ``times`` matching requests.

    ``rpc=None`` matches generateContent and streamGenerateContent only, so a countTokens or
    embedding call made by the product along the way does not swallow a fault meant for
    generation. ``delay_seconds`` applies to any kind (e.g. a 503 that arrives slowly).
    """

    kind: FaultKind
    rpc: str | None = None
    times: int = 1
    status: int = 500
    message: str | None = None
    after_chunks: int = 0
    category: str = HARM_CATEGORY
    thoughts_tokens: int = 0
    delay_seconds: float = 0.0

    def matches(self, rpc: str | None) -> bool:
        if self.rpc is None:
            return rpc in GENERATION_RPCS
        return rpc == self.rpc


@dataclass
class Throttle:
    """A quota squeeze: every ``every``-th matching request gets ``fault`` until ``until``
    (time.monotonic()); the others are answered as usual. ``seen`` counts the matching
    requests that arrived while it lasted, ``hits`` those it answered with the fault."""

    fault: Fault
    every: int
    until: float
    seen: int = 0
    hits: int = 0

    def take(self, rpc: str | None, now: float) -> Fault | None:
        if now >= self.until or not self.fault.matches(rpc):
            return None
        self.seen += 1
        if self.seen % self.every:
            return None
        self.hits += 1
        return self.fault


Hook = Callable[[RecordedRequest], "Fault | dict[str, Any] | list[dict[str, Any]] | None"]
"""Per-request hook: return a Fault, a canned JSON answer (list = SSE chunks), or None."""


# --------------------------------------------------------------------------- batch jobs


class JobState(StrEnum):
    """The states of a BatchPredictionJob, as Vertex AI names them on the wire."""

    QUEUED = "JOB_STATE_QUEUED"
    PENDING = "JOB_STATE_PENDING"
    RUNNING = "JOB_STATE_RUNNING"
    SUCCEEDED = "JOB_STATE_SUCCEEDED"
    PARTIALLY_SUCCEEDED = "JOB_STATE_PARTIALLY_SUCCEEDED"
    FAILED = "JOB_STATE_FAILED"
    CANCELLING = "JOB_STATE_CANCELLING"
    CANCELLED = "JOB_STATE_CANCELLED"


_ENDED_STATES = frozenset(
    {JobState.SUCCEEDED, JobState.PARTIALLY_SUCCEEDED, JobState.FAILED, JobState.CANCELLED}
)


@dataclass(frozen=True)
class BatchPace:
    """How long a new job spends in each state, in seconds (0: it passes at the next look).

    Rows are answered evenly over ``running_s``: a job cancelled halfway has half its rows.
    ``with_failed_rows`` is the end state of a job some of whose rows failed (Vertex AI's own
    choice between SUCCEEDED and PARTIALLY_SUCCEEDED is not documented; tests pick).
    """

    queued_s: float = 0.0
    pending_s: float = 0.0
    running_s: float = 0.0
    cancelling_s: float = 0.0
    with_failed_rows: JobState = JobState.SUCCEEDED


@dataclass
class _BatchJob:
    """One job's record; its state is worked out from the clock when someone looks."""

    name: str
    body: dict[str, Any]  # the create request, camelCased: echoed back as the job's config
    model_id: str
    input_uris: list[str]
    output_prefix: str
    pace: BatchPace
    created_at: float
    row_faults: dict[int, Fault]
    state: JobState = JobState.QUEUED
    updated_at: float = 0.0
    started_at: float | None = None
    ended_at: float | None = None
    cancel_at: float | None = None
    rows: list[Any] | None = None  # the parsed input lines, read when the job starts running
    results: list[dict[str, Any]] = field(default_factory=list)  # output lines, in input order
    output_dir: str | None = None
    error: dict[str, Any] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def ended(self) -> bool:
        return self.state in _ENDED_STATES


def _rfc3339(at: float) -> str:
    """A protobuf Timestamp in JSON: UTC with microseconds and a Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at % 1 * 1e6):06d}Z"


# --------------------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    emulator: VertexEmulator


class _Handler(BaseHTTPRequestHandler):
    """Thin HTTP layer: parses nothing itself, hands every request to the emulator."""

    protocol_version = "HTTP/1.1"  # chunked streaming and keep-alive, like the real service
    server: _Server
    answer_started = False  # set once a status line went out (no second answer possible)

    def setup(self) -> None:
        # Without TCP_NODELAY, Nagle + delayed ACK add ~40 ms to every keep-alive answer and
        # can hold back SSE chunks: exactly the latency a streaming test wants to observe.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()
        self.server.emulator._track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.emulator._untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean; the request log is the emulator's record."""

    def _dispatch(self) -> None:
        self.answer_started = False  # keep-alive: one handler instance serves many requests
        self.server.emulator._serve(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    # -- response writers used by the emulator's RPC handlers --

    def send_json(self, status: int, payload: Any) -> None:
        self.answer_started = True
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def start_sse(self) -> None:
        self.answer_started = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def send_sse(self, payload: Any) -> None:
        """One SSE event in one HTTP chunk, flushed so the client sees it immediately."""
        data = b"data: " + json.dumps(payload).encode() + b"\r\n\r\n"
        self.wfile.write(b"%X\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_sse(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def client_gone(self) -> bool:
        """The client closed its end: readable with nothing to read (it sends no more)."""
        # poll, not select: select() refuses descriptors above 1024, and a long test process
        # (many servers, databases and sockets) gets there.
        poller = select.poll()
        poller.register(self.connection, select.POLLIN | select.POLLHUP)
        try:
            if not poller.poll(0):
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def drop_connection(self) -> None:
        """Close without finishing the response: the client sees a broken transfer."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


# --------------------------------------------------------------------------- the emulator


RpcHandler = Callable[[_Handler, RecordedRequest, "Fault | None"], None]
"""Writes the answer for one RPC; the fault is already filtered to the ones it must honour."""


class VertexEmulator:
    """Vertex AI REST emulator: start it, point the SDK's base_url at ``base_url``.

    Reusable across tests: ``reset()`` restores the default reply and clears the request log,
    the fault queue and the hook, so a session-scoped instance behaves like a fresh one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._requests: list[RecordedRequest] = []
        self._faults: list[Fault] = []
        self._throttle: Throttle | None = None
        self._hook: Hook | None = None
        self._response_counter = 0
        self._model_replies: dict[str, tuple[str, int, float]] = {}  # set_model_reply
        self.api_key = DEFAULT_API_KEY
        """The key the Developer API paths accept (``x-goog-api-key``)."""
        self.video_duration_sec = 12.0
        """Length assumed for videos sent to multimodalembedding (:predict) segments."""
        self._batch_jobs: dict[str, _BatchJob] = {}  # job id -> job, oldest first
        self._batch_counter = 0
        self._batch_pace = BatchPace()
        self._batch_row_faults: list[tuple[int, str | None, Fault]] = []  # fail_batch_row
        self._storage_url: str | None = None  # use_storage
        self._files = FilesApi(self)  # the Developer API's Files API (its own section below)
        self.batch_output_reversed = False
        """Write predictions.jsonl in reverse input order: Vertex AI does not promise to keep
        the input order, so a reader must match rows by what they carry, not by position."""
        self.set_reply(DEFAULT_REPLY)
        # RPC name -> handler. Add an RPC by adding a method and an entry here.
        self._rpc_handlers: dict[str, RpcHandler] = {
            "generateContent": self._generate_content,
            "streamGenerateContent": self._stream_generate_content,
            "countTokens": self._count_tokens,
            "embedContent": self._embed_content,
            "batchEmbedContents": self._batch_embed_contents,
            "predict": self._predict,
            "batchPredictionJobs.create": self._batch_create,
            "batchPredictionJobs.get": self._batch_get,
            "batchPredictionJobs.list": self._batch_list,
            "batchPredictionJobs.cancel": self._batch_cancel,
        }

    # -- lifecycle --

    def start(self) -> VertexEmulator:
        """Bind 127.0.0.1 on a free port and serve from a daemon thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.emulator = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"vertex-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake sleeping handlers and drop open keep-alive connections."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> VertexEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("VertexEmulator is not started")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        """Back to a fresh state: default reply, empty log, no faults, no hook."""
        with self._lock:
            self._requests.clear()
            self._faults.clear()
            self._throttle = None
            self._hook = None
            self._model_replies.clear()
            self._batch_jobs.clear()
            self._batch_pace = BatchPace()
            self._batch_row_faults.clear()
            self._storage_url = None
            self.batch_output_reversed = False
            self.api_key = DEFAULT_API_KEY
        self._files.reset()
        self.set_reply(DEFAULT_REPLY)

    # -- reply configuration --

    def set_reply(
        self,
        text: str,
        chunks: int = 5,
        chunk_delay: float = 0.0,
        thoughts_tokens: int = 0,
    ) -> None:
        """Set the normal answer: its text, how many stream chunks, pause between chunks,
        and the thoughtsTokenCount to report. Unspecified options return to their defaults."""
        with self._lock:
            self.reply_text = text
            self.reply_chunks = max(1, chunks)
            self.chunk_delay = chunk_delay
            self.thoughts_tokens = thoughts_tokens

    def set_model_reply(
        self, model: str, text: str, chunks: int = 5, chunk_delay: float = 0.0
    ) -> None:
        """Answer requests to ``model`` with their own text and pace instead of set_reply's
        (side-by-side tests: several models streaming at once, each recognisable). ``reset()``
        forgets them; models without one get the common reply."""
        with self._lock:
            self._model_replies[model] = (text, max(1, chunks), chunk_delay)

    def on_request(self, hook: Hook | None) -> None:
        """Install (or remove with None) a hook consulted before the fault queue.

        The hook gets the RecordedRequest and may return a Fault to apply, a dict to send as
        the JSON answer (one SSE chunk for streams), a list of dicts to send as SSE chunks,
        or None to fall through to the fault queue and normal answer.
        """
        with self._lock:
            self._hook = hook

    # -- batch prediction jobs --

    def use_storage(self, base_url: str | None) -> None:
        """Where jobs read their input and write their output: a gcp-storage-emulator's URL
        (tests/conftest.py ``storage_emulator``). Without one, a job that starts fails."""
        with self._lock:
            self._storage_url = base_url.rstrip("/") if base_url else None

    def set_batch_pace(self, pace: BatchPace) -> None:
        """The pace of jobs created from now on (jobs already created keep theirs)."""
        with self._lock:
            self._batch_pace = pace

    def fault_batch_row(self, index: int, fault: Fault, model: str | None = None) -> Fault:
        """Apply ``fault`` to input line ``index`` (0-based) of the next job created (for
        ``model`` only, if given): ERROR makes the row fail with that status, the other kinds
        shape its response as they shape a generateContent answer."""
        with self._lock:
            self._batch_row_faults.append((index, model, fault))
        return fault

    def fail_batch_row(
        self, index: int, status: int = 400, message: str | None = None, model: str | None = None
    ) -> Fault:
        """Make input line ``index`` of the next job created fail with HTTP ``status``."""
        fault = Fault(FaultKind.ERROR, status=status, message=message)
        return self.fault_batch_row(index, fault, model)

    @property
    def files(self) -> FilesApi:
        """The Developer API's Files API: its pace, its faults and what was uploaded."""
        return self._files

    def batch_job(self, job_id: str) -> dict[str, Any]:
        """A job as ``batchPredictionJobs.get`` would answer it now (KeyError if unknown)."""
        with self._lock:
            job = self._batch_jobs[job_id.rsplit("/", 1)[-1]]
        return self._job_json(self._advance(job))

    # -- request log --

    @property
    def requests(self) -> list[RecordedRequest]:
        """Snapshot of every request received, oldest first."""
        with self._lock:
            return list(self._requests)

    def last_request(self, rpc: str | None = None) -> RecordedRequest:
        """Most recent request (of ``rpc`` if given); LookupError if there is none."""
        for request in reversed(self.requests):
            if rpc is None or request.rpc == rpc:
                return request
        seen = [r.rpc for r in self.requests]
        raise LookupError(f"no {rpc or 'request'} recorded; rpcs seen: {seen}")

    def clear(self) -> None:
        """Forget recorded requests (faults and reply stay)."""
        with self._lock:
            self._requests.clear()

    def parts_of(self, request: RecordedRequest | None = None) -> list[dict[str, Any]]:
        """Normalised parts of ``request`` (default: the last generation-like request)."""
        return parts_of(self._pick(request).body)

    def generation_config_of(self, request: RecordedRequest | None = None) -> dict[str, Any]:
        return generation_config_of(self._pick(request).body)

    def safety_settings_of(self, request: RecordedRequest | None = None) -> list[dict[str, Any]]:
        return safety_settings_of(self._pick(request).body)

    def _pick(self, request: RecordedRequest | None) -> RecordedRequest:
        if request is not None:
            return request
        for candidate in reversed(self.requests):
            if candidate.rpc in GENERATION_RPCS or candidate.rpc == "countTokens":
                return candidate
        raise LookupError("no generateContent/streamGenerateContent/countTokens recorded")

    # -- fault injection --

    def queue_fault(self, fault: Fault) -> Fault:
        """Append a fault to the FIFO queue; returns it (``times`` counts down as it is used)."""
        if fault.times < 1:
            raise ValueError("Fault.times must be >= 1")
        with self._lock:
            self._faults.append(fault)
        return fault

    @property
    def pending_faults(self) -> list[Fault]:
        """Faults not yet (fully) consumed: assert this is empty to prove a fault was hit."""
        with self._lock:
            return list(self._faults)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._throttle = None

    def fail(
        self, status: int, message: str | None = None, times: int = 1, rpc: str | None = None
    ) -> Fault:
        """Answer with HTTP ``status`` and a Google error body (before any SSE data)."""
        return self.queue_fault(
            Fault(FaultKind.ERROR, rpc=rpc, times=times, status=status, message=message)
        )

    def cut_stream(self, after_chunks: int = 1, times: int = 1, rpc: str | None = None) -> Fault:
        """Send ``after_chunks`` chunks then drop the connection mid-body (non-streaming:
        drop it before any response)."""
        return self.queue_fault(
            Fault(FaultKind.CUT_STREAM, rpc=rpc, times=times, after_chunks=after_chunks)
        )

    def end_early(self, after_chunks: int = 1, times: int = 1, rpc: str | None = None) -> Fault:
        """Send ``after_chunks`` chunks then end cleanly: no finishReason, no usageMetadata."""
        return self.queue_fault(
            Fault(FaultKind.END_EARLY, rpc=rpc, times=times, after_chunks=after_chunks)
        )

    def block_prompt(
        self, category: str = HARM_CATEGORY, times: int = 1, rpc: str | None = None
    ) -> Fault:
        """Answer with no candidates and promptFeedback.blockReason SAFETY."""
        return self.queue_fault(
            Fault(FaultKind.BLOCK_PROMPT, rpc=rpc, times=times, category=category)
        )

    def block_response(
        self,
        after_chunks: int = 1,
        category: str = HARM_CATEGORY,
        times: int = 1,
        rpc: str | None = None,
    ) -> Fault:
        """Send ``after_chunks`` text chunks, then one chunk with finishReason SAFETY."""
        return self.queue_fault(
            Fault(
                FaultKind.BLOCK_RESPONSE,
                rpc=rpc,
                times=times,
                after_chunks=after_chunks,
                category=category,
            )
        )

    def max_tokens(
        self,
        after_chunks: int = 1,
        thoughts_tokens: int = 0,
        times: int = 1,
        rpc: str | None = None,
    ) -> Fault:
        """Send ``after_chunks`` text chunks, then one chunk with finishReason MAX_TOKENS and
        usage reporting ``thoughts_tokens``."""
        return self.queue_fault(
            Fault(
                FaultKind.MAX_TOKENS,
                rpc=rpc,
                times=times,
                after_chunks=after_chunks,
                thoughts_tokens=thoughts_tokens,
            )
        )

    def delay(self, seconds: float, times: int = 1, rpc: str | None = None) -> Fault:
        """Sleep ``seconds`` before the normal answer (to trigger client timeouts)."""
        return self.queue_fault(Fault(FaultKind.DELAY, rpc=rpc, times=times, delay_seconds=seconds))

    def throttle(
        self, every: int = 3, seconds: float = 3.0, status: int = 429, rpc: str | None = None
    ) -> Throttle:
        """For ``seconds`` from now, answer every ``every``-th generate request (of ``rpc``
        if given) with HTTP ``status``, as a quota that is briefly too small does. Before the
        fault queue; ``reset()`` or ``clear_faults()`` ends it early."""
        if every < 1:
            raise ValueError("every must be >= 1")
        fault = Fault(FaultKind.ERROR, rpc=rpc, status=status)
        throttle = Throttle(fault, every, time.monotonic() + seconds)
        with self._lock:
            self._throttle = throttle
        return throttle

    def _pause(self, http: _Handler, seconds: float) -> bool:
        """Wait ``seconds`` like a thinking model; False if the client hung up or we stop."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self._stopping.wait(min(left, 0.02)):
                return False
            if http.client_gone():
                return False
        return True

    def _take_fault(self, rpc: str | None) -> Fault | None:
        """The throttle's fault if this request is its n-th, else consume one use of the
        first queued fault matching ``rpc``."""
        with self._lock:
            if self._throttle is not None and (hit := self._throttle.take(rpc, time.monotonic())):
                return hit
            for fault in self._faults:
                if fault.matches(rpc):
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return replace(fault, times=1)
        return None

    # -- request handling --

    def _track(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.add(conn)

    def _untrack(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)

    def _serve(self, http: _Handler) -> None:
        """Record the request, pick hook/fault/normal answer, and write it."""
        request = self._record(http)
        try:
            if request.rpc in FILES_RPCS:
                self._files.serve(http, request)
                return
            handler = self._rpc_handlers.get(request.rpc or "")
            if not _served_on(request.backend, request.rpc):
                handler = None
            if handler is None or (request.method != "POST" and request.rpc not in BATCH_RPCS):
                message = f"Requested entity was not found: {request.method} {request.path}"
                self._send_error(http, 404, message)
                return
            if request.backend == BACKEND_GEMINI_API and not self._key_accepted(http, request):
                return
            if request.rpc not in _BODYLESS_RPCS and not isinstance(request.body, dict):
                self._send_error(http, 400, "Invalid JSON payload received.")
                return
            if request.backend == BACKEND_GEMINI_API and not self._files.usable(http, request):
                return
            with self._lock:
                hook = self._hook
            answer = hook(request) if hook else None
            if isinstance(answer, (dict, list)):
                self._send_canned(http, request, answer)
                return
            fault = answer if isinstance(answer, Fault) else self._take_fault(request.rpc)
            delay = fault.delay_seconds if fault is not None else 0
            if delay > 0 and not self._pause(http, delay):
                # the client gave up, or the server is going away: end the exchange
                request.answer.end("dropped" if self._stopping.is_set() else "client_closed")
                http.drop_connection()
                return
            if fault is not None and fault.kind is FaultKind.ERROR:
                self._send_error(http, fault.status, fault.message)
                return
            if fault is not None and fault.kind is FaultKind.DELAY:
                fault = None
            handler(http, request, fault)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. its timeout fired, or the user pressed Stop).
            http.close_connection = True
            request.answer.end("client_closed")
        except Exception as exc:
            # A bug in a hook or handler: answer 500 so the test fails with a readable
            # ServerError instead of a bare disconnect; the traceback goes to stderr.
            traceback.print_exc()
            request.answer.end("dropped")
            if http.answer_started:
                http.drop_connection()  # half an answer is out: the client must see it broken
            else:
                self._send_error(http, 500, f"VertexEmulator error: {exc!r}")
        finally:
            request.answer.end("complete")  # no-op when it already ended another way

    def _record(self, http: _Handler) -> RecordedRequest:
        split = urlsplit(http.path)
        path = unquote(split.path)
        length = int(http.headers.get("Content-Length") or 0)
        data = http.rfile.read(length) if length else b""
        files_rpc = _files_rpc(http.command, path, dict(parse_qsl(split.query)))
        body: Any = data if files_rpc == "files.upload" else _json_or_text(data)
        match = _PATH_RE.match(path) or _BATCH_PATH_RE.match(path)
        dev_match = None if match else _DEV_PATH_RE.match(path)
        groups = (match or dev_match).groupdict() if (match or dev_match) else {}
        request = RecordedRequest(
            received_at=time.time(),
            method=http.command,
            path=path,
            model=groups.get("model"),
            rpc=groups.get("rpc") or _batch_rpc(http.command, groups) or files_rpc,
            query=dict(parse_qsl(split.query)),
            headers={k.lower(): v for k, v in http.headers.items()},
            body=body,
            version=groups.get("version"),
            project=groups.get("project"),
            location=groups.get("location"),
            backend=BACKEND_GEMINI_API if dev_match or files_rpc else BACKEND_VERTEX,
        )
        with self._lock:
            self._requests.append(request)
        return request

    def _key_accepted(self, http: _Handler, request: RecordedRequest) -> bool:
        """Whether a Developer API request carries the right key; if not, Google's answer."""
        key = request.headers.get("x-goog-api-key") or request.query.get("key")
        if not key:
            self._send_error(http, 403, _NO_KEY_MESSAGE)
            return False
        with self._lock:
            expected = self.api_key
        if key != expected:
            self._send_error(http, 400, _BAD_KEY_MESSAGE, details=_BAD_KEY_DETAILS)
            return False
        return True

    def _send_error(
        self,
        http: _Handler,
        status: int,
        message: str | None,
        status_name: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        text = message or DEFAULT_MESSAGES.get(status, f"HTTP {status}")
        name = status_name or STATUS_NAMES.get(status, "UNKNOWN")
        error: dict[str, Any] = {"code": status, "message": text, "status": name}
        if details:
            error["details"] = details
        http.send_json(status, {"error": error})

    def _send_canned(self, http: _Handler, request: RecordedRequest, answer: Any) -> None:
        if request.rpc != "streamGenerateContent":
            http.send_json(200, answer)
            return
        http.start_sse()
        for chunk in answer if isinstance(answer, list) else [answer]:
            http.send_sse(chunk)
        http.end_sse()

    # -- RPC handlers: (http, request, fault) -> None; see RpcHandler --

    def _generate_content(
        self, http: _Handler, request: RecordedRequest, fault: Fault | None
    ) -> None:
        if fault is not None and fault.kind is FaultKind.CUT_STREAM:
            request.answer.end("dropped")
            http.drop_connection()
            return
        http.send_json(200, _merge_chunks(self._plan_chunks(request, fault)))

    def _stream_generate_content(
        self, http: _Handler, request: RecordedRequest, fault: Fault | None
    ) -> None:
        chunks = self._plan_chunks(request, fault)
        with self._lock:
            own = self._model_replies.get(request.model or "")
            pause = own[2] if own else self.chunk_delay
        http.start_sse()
        for i, chunk in enumerate(chunks):
            if i and pause and not self._pause(http, pause):
                request.answer.end("dropped" if self._stopping.is_set() else "client_closed")
                http.drop_connection()
                return
            request.answer.chunk_times.append(time.time())
            http.send_sse(chunk)
        if fault is not None and fault.kind is FaultKind.CUT_STREAM:
            request.answer.end("dropped")
            http.drop_connection()  # no terminating 0-length chunk
            return
        http.end_sse()

    def _count_tokens(self, http: _Handler, request: RecordedRequest, fault: Fault | None) -> None:
        if fault is not None and fault.kind is FaultKind.CUT_STREAM:
            http.drop_connection()
            return
        texts = [p["text"] for p in request.parts if isinstance(p.get("text"), str)]
        http.send_json(
            200,
            {
                "totalTokens": prompt_token_count(request.body),
                "totalBillableCharacters": sum(len(t.replace(" ", "")) for t in texts),
            },
        )

    def _embed_content(self, http: _Handler, request: RecordedRequest, fault: Fault | None) -> None:
        """gemini-embedding-*: one content in, ``{"embedding": {"values": [...]}}`` out.

        Vertex puts the output size in ``embedContentConfig``, the Developer API at the top.
        """
        if fault is not None and fault.kind is FaultKind.CUT_STREAM:
            http.drop_connection()
            return
        config = camelize(request.body.get("embedContentConfig") or request.body)
        http.send_json(
            200,
            {
                "embedding": _embedding(request.body, config.get("outputDimensionality")),
                "usageMetadata": {"promptTokenCount": prompt_token_count(request.body)},
            },
        )

    def _batch_embed_contents(
        self, http: _Handler, request: RecordedRequest, fault: Fault | None
    ) -> None:
        """The Developer API's embed_content: ``{"requests": [{content, outputDimensionality}]}``
        in, one ``{"values": [...]}`` per request out, in order."""
        if fault is not None and fault.kind is FaultKind.CUT_STREAM:
            http.drop_connection()
            return
        each = [camelize(r) for r in request.body.get("requests") or [] if isinstance(r, dict)]
        if not each:
            self._send_error(http, 400, "* BatchEmbedContentsRequest.requests: at least one.")
            return
        embeddings = [_embedding(one, one.get("outputDimensionality")) for one in each]
        http.send_json(200, {"embeddings": embeddings})

    def _predict(self, http: _Handler, request: RecordedRequest, fault: Fault | None) -> None:
        """multimodalembedding@001 (text/image/video instances) and text-embedding-* (content)."""
        if fault is not None and fault.kind is FaultKind.CUT_STREAM:
            http.drop_connection()
            return
        parameters = camelize(request.body.get("parameters") or {})
        predictions = []
        for instance in request.body.get("instances") or []:
            try:
                predictions.append(self._predict_one(camelize(instance), parameters))
            except ValueError as exc:
                self._send_error(http, 400, str(exc))
                return
        http.send_json(200, {"predictions": predictions, "deployedModelId": ""})

    def _predict_one(self, instance: dict[str, Any], parameters: dict[str, Any]) -> dict:
        if "content" in instance:  # text-embedding-00x via the SDK's predict path
            dimension = int(parameters.get("outputDimensionality") or 768)
            text = str(instance["content"])
            stats = {"token_count": len(text) // 4, "truncated": False}
            return {"embeddings": {"values": fake_embedding(text, dimension), "statistics": stats}}
        dimension = int(parameters.get("dimension") or 1408)
        if dimension not in MULTIMODAL_DIMENSIONS:
            raise ValueError(f"dimension must be one of {MULTIMODAL_DIMENSIONS}, got {dimension}")
        prediction: dict[str, Any] = {}
        if "text" in instance:
            prediction["textEmbedding"] = fake_embedding("text:" + instance["text"], dimension)
        if "image" in instance:
            key = "image:" + json.dumps(instance["image"], sort_keys=True)
            prediction["imageEmbedding"] = fake_embedding(key, dimension)
        if "video" in instance:
            prediction["videoEmbeddings"] = self._video_segments(instance["video"])
        return prediction

    def _video_segments(self, video: dict[str, Any]) -> list[dict[str, Any]]:
        """Segments of ``intervalSec`` (default 16, min 4) over [start, end]; always 1408-d."""
        config = video.get("videoSegmentConfig") or {}
        interval = float(config.get("intervalSec") or 16)
        if interval < 4:
            raise ValueError("videoSegmentConfig.intervalSec must be at least 4.")
        start = float(config.get("startOffsetSec") or 0)
        end = min(float(config.get("endOffsetSec") or start + 120), self.video_duration_sec)
        source = (
            video.get("gcsUri")
            or hashlib.sha256(str(video.get("bytesBase64Encoded")).encode()).hexdigest()
        )
        segments = []
        at = start
        while at < end:
            stop = min(at + interval, end)
            segments.append(
                {
                    "startOffsetSec": _number(at),
                    "endOffsetSec": _number(stop),
                    "embedding": fake_embedding(f"video:{source}:{at}:{stop}", 1408),
                }
            )
            at = stop
        return segments

    # -- batch prediction jobs: handlers --

    def _batch_create(self, http: _Handler, request: RecordedRequest, fault: Fault | None) -> None:
        body = camelize(request.body)
        problem = _batch_create_problem(body)
        if problem:
            self._send_error(http, 400, problem)
            return
        model_id = body["model"].rsplit("/", 1)[-1]
        now = time.time()
        with self._lock:
            self._batch_counter += 1
            job_id = str(4_000_000_000_000_000_000 + self._batch_counter)  # 19 digits, as Vertex
            row_faults = {
                index: fault
                for index, model, fault in self._batch_row_faults
                if model in (None, model_id)
            }
            self._batch_row_faults = [
                f for f in self._batch_row_faults if f[1] not in (None, model_id)
            ]
            job = _BatchJob(
                name=f"projects/{request.project}/locations/{request.location}"
                f"/batchPredictionJobs/{job_id}",
                body=body,
                model_id=model_id,
                input_uris=list(body["inputConfig"]["gcsSource"]["uris"]),
                output_prefix=body["outputConfig"]["gcsDestination"]["outputUriPrefix"],
                pace=self._batch_pace,
                created_at=now,
                updated_at=now,
                row_faults=row_faults,
            )
            self._batch_jobs[job_id] = job
        http.send_json(200, self._job_json(job))

    def _batch_get(self, http: _Handler, request: RecordedRequest, fault: Fault | None) -> None:
        job = self._job_of(http, request)
        if job is not None:
            http.send_json(200, self._job_json(self._advance(job)))

    def _batch_list(self, http: _Handler, request: RecordedRequest, fault: Fault | None) -> None:
        """Newest first, ``pageSize`` at a time (default 100); ``filter`` is not emulated."""
        if request.query.get("filter"):
            self._send_error(http, 400, "The emulator does not implement list filters.")
            return
        scope = f"projects/{request.project}/locations/{request.location}/"
        with self._lock:
            jobs = [
                job for job in reversed(self._batch_jobs.values()) if job.name.startswith(scope)
            ]
        start = int(request.query.get("pageToken") or 0)
        size = int(request.query.get("pageSize") or 100)
        page = jobs[start : start + size]
        answer: dict[str, Any] = {
            "batchPredictionJobs": [self._job_json(self._advance(job)) for job in page]
        }
        if start + size < len(jobs):
            answer["nextPageToken"] = str(start + size)
        http.send_json(200, answer)

    def _batch_cancel(self, http: _Handler, request: RecordedRequest, fault: Fault | None) -> None:
        """Vertex AI answers an empty object; the job goes CANCELLING, then CANCELLED."""
        job = self._job_of(http, request)
        if job is None:
            return
        self._advance(job)
        with job.lock:
            if job.ended:
                message = (
                    f"The BatchPredictionJob is already {job.state.value}; it cannot be cancelled."
                )
                self._send_error(http, 400, message, "FAILED_PRECONDITION")
                return
            if job.cancel_at is None:
                job.cancel_at = job.updated_at = time.time()
                job.state = JobState.CANCELLING
        http.send_json(200, {})

    def _job_of(self, http: _Handler, request: RecordedRequest) -> _BatchJob | None:
        """The job the path names, or None after answering a Google-style 404."""
        match = _BATCH_PATH_RE.match(request.path)
        job_id = match.group("job") if match else None
        with self._lock:
            job = self._batch_jobs.get(job_id or "")
        scope = f"projects/{request.project}/locations/{request.location}/"
        if job is None or not job.name.startswith(scope):
            self._send_error(http, 404, f"The BatchPredictionJob does not exist: {request.path}")
            return None
        return job

    # -- batch prediction jobs: time, rows and output --

    def _advance(self, job: _BatchJob) -> _BatchJob:
        """Bring ``job`` to the state the clock says it has reached, answering the rows due."""
        now = time.time()
        pace = job.pace
        runs_at = job.created_at + pace.queued_s + pace.pending_s
        ends_at = runs_at + pace.running_s
        with job.lock:
            if job.ended:
                return job
            stop = job.cancel_at if job.cancel_at is not None else now
            if stop >= runs_at and job.started_at is None:
                job.started_at = job.updated_at = runs_at
                job.state = JobState.RUNNING
                self._read_rows(job)
                if job.ended:
                    return job
            if job.started_at is not None:
                self._answer_rows(job, min(stop, ends_at))
            if job.cancel_at is not None:
                done_at = job.cancel_at + pace.cancelling_s
                job.state = JobState.CANCELLING
                if now >= done_at:
                    error = {"code": 1, "message": "CANCELED"}
                    self._finish(job, JobState.CANCELLED, done_at, error)
            elif now >= ends_at:
                self._finish(job, self._end_state(job), ends_at, None)
            elif job.started_at is None and now >= job.created_at + pace.queued_s:
                job.state, job.updated_at = JobState.PENDING, job.created_at + pace.queued_s
        return job

    def _read_rows(self, job: _BatchJob) -> None:
        """Read every input file's lines; a file that cannot be read fails the job."""
        rows: list[str] = []
        for uri in job.input_uris:
            try:
                text = self._storage_read(uri).decode("utf-8")
            except (OSError, ValueError, UnicodeDecodeError) as exc:
                error = {"code": 3, "message": f"Failed to read the input {uri}: {exc}"}
                self._finish(job, JobState.FAILED, job.started_at or time.time(), error)
                return
            rows.extend(line for line in text.splitlines() if line.strip())
        job.rows = rows

    def _answer_rows(self, job: _BatchJob, until: float) -> None:
        """Answer the rows due by ``until``: spread evenly over the running time."""
        rows = job.rows or []
        started = job.started_at if job.started_at is not None else until
        running = job.pace.running_s
        # the same sum as _advance's ends_at, so the end makes every row due exactly
        ended = until >= started + running
        due = len(rows) if ended else int(len(rows) * (until - started) / running)
        while len(job.results) < due:
            job.results.append(self._batch_row(job, len(job.results)))

    def _batch_row(self, job: _BatchJob, index: int) -> dict[str, Any]:
        """One line of predictions.jsonl: the request and a response, or a failure status."""
        processed = _rfc3339(time.time())
        try:
            line = json.loads(job.rows[index])  # type: ignore[index]
        except json.JSONDecodeError as exc:
            status = _row_status(400, f"Invalid JSON in input line {index + 1}: {exc}")
            return {"status": status, "processed_time": processed, "request": job.rows[index]}  # type: ignore[index]
        body = line.get("request") if isinstance(line, dict) else None
        if not isinstance(body, dict):
            status = _row_status(400, f"Input line {index + 1} has no request object.")
            return {"status": status, "processed_time": processed, "request": line}
        fault = job.row_faults.get(index)
        if fault is not None and fault.kind is FaultKind.ERROR:
            status = _row_status(fault.status, fault.message)
            return {"status": status, "processed_time": processed, "request": body}
        row = RecordedRequest(
            method="POST",
            path=f"/{job.name}#row{index}",
            model=job.model_id,
            rpc="generateContent",
            query={},
            headers={},
            body=body,
            received_at=time.time(),
        )
        response = _merge_chunks(self._plan_chunks(row, fault))
        return {"status": "", "processed_time": processed, "request": body, "response": response}

    def _end_state(self, job: _BatchJob) -> JobState:
        failed = sum(1 for row in job.results if row["status"])
        if failed and failed == len(job.results):
            return JobState.FAILED
        return job.pace.with_failed_rows if failed else JobState.SUCCEEDED

    def _finish(
        self, job: _BatchJob, state: JobState, at: float, error: dict[str, Any] | None
    ) -> None:
        """End ``job``: write what it answered (if it answered anything) under its prefix."""
        if job.results:
            output_dir = f"{job.output_prefix.rstrip('/')}/prediction-model-{_rfc3339(at)}"
            lines = list(reversed(job.results)) if self.batch_output_reversed else job.results
            data = "".join(json.dumps(line) + "\n" for line in lines).encode()
            try:
                self._storage_write(f"{output_dir}/predictions.jsonl", data)
                job.output_dir = output_dir
            except (OSError, ValueError) as exc:
                state = JobState.FAILED
                error = {"code": 13, "message": f"Failed to write the output: {exc}"}
        if state is JobState.FAILED and error is None:
            error = {"code": 3, "message": "Every row of the job failed."}
        job.state, job.error, job.ended_at, job.updated_at = state, error, at, at

    def _job_json(self, job: _BatchJob) -> dict[str, Any]:
        """The BatchPredictionJob resource as Vertex AI's REST API writes it."""
        with job.lock:
            answer = {
                key: job.body[key]
                for key in ("displayName", "model", "inputConfig", "outputConfig", "labels")
                if key in job.body
            }
            answer |= {
                "name": job.name,
                "state": job.state.value,
                "createTime": _rfc3339(job.created_at),
                "updateTime": _rfc3339(job.updated_at),
            }
            if job.started_at is not None:
                answer["startTime"] = _rfc3339(job.started_at)
            if job.ended_at is not None:
                answer["endTime"] = _rfc3339(job.ended_at)
            if job.rows is not None:
                failed = sum(1 for row in job.results if row["status"])
                answer["completionStats"] = {  # int64 fields: JSON strings, as protobuf writes
                    "successfulCount": str(len(job.results) - failed),
                    "failedCount": str(failed),
                    "incompleteCount": str(len(job.rows) - len(job.results)),
                }
            if job.output_dir is not None:
                answer["outputInfo"] = {"gcsOutputDirectory": job.output_dir}
            if job.error is not None:
                answer["error"] = job.error
            return answer

    # -- storage (gcp-storage-emulator's JSON API, standard library only) --

    def _storage_base(self) -> str:
        with self._lock:
            base = self._storage_url
        if base is None:
            raise ValueError("no storage emulator set (VertexEmulator.use_storage)")
        return base

    def _storage_read(self, uri: str) -> bytes:
        bucket, name = _split_gs_uri(uri)
        url = f"{self._storage_base()}/storage/v1/b/{bucket}/o/{quote(name, safe='')}?alt=media"
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.read()

    def _storage_write(self, uri: str, data: bytes) -> None:
        bucket, name = _split_gs_uri(uri)
        url = (
            f"{self._storage_base()}/upload/storage/v1/b/{bucket}/o"
            f"?uploadType=media&name={quote(name, safe='')}"
        )
        # octet-stream: gcp-storage-emulator parses a body whose type mentions json, and drops
        # the connection on JSON Lines
        upload = urllib.request.Request(
            url, data=data, method="POST", headers={"Content-Type": "application/octet-stream"}
        )
        with urllib.request.urlopen(upload, timeout=10) as reply:
            reply.read()

    # -- generation answers --

    def _plan_chunks(self, request: RecordedRequest, fault: Fault | None) -> list[dict[str, Any]]:
        """The answer as a list of stream chunks; non-streaming merges them into one."""
        with self._lock:
            text, pieces, thoughts = self.reply_text, self.reply_chunks, self.thoughts_tokens
            text, pieces, _ = self._model_replies.get(request.model or "", (text, pieces, 0))
            self._response_counter += 1
            response_id = f"emulator-response-{self._response_counter:06d}"
        envelope = {"modelVersion": request.model, "responseId": response_id}
        prompt = prompt_token_count(request.body)
        kind = fault.kind if fault else None
        if kind is FaultKind.BLOCK_PROMPT:
            feedback = {
                "blockReason": "SAFETY",
                "blockReasonMessage": "The prompt was blocked due to safety reasons.",
                "safetyRatings": [_blocked_rating(fault.category)],
            }
            return [{"promptFeedback": feedback, "usageMetadata": _usage(prompt, 0, 0), **envelope}]

        count = max(1, int(request.generation_config.get("candidateCount") or 1))
        texts = [text] + [f"Candidate {i}: {text}" for i in range(1, count)]
        sliced = [_split(t, pieces) for t in texts]
        chunks = [
            {
                "candidates": [
                    _text_candidate(i, s[j]) for i, s in enumerate(sliced) if j < len(s)
                ],
                **envelope,
            }
            for j in range(max(len(s) for s in sliced))
        ]
        if fault is None or kind is FaultKind.CUT_STREAM:
            _finish(chunks[-1], "STOP", _usage(prompt, _tokens(texts), thoughts))
            return chunks[: fault.after_chunks] if fault else chunks
        sent = chunks[: fault.after_chunks]
        sent_texts = ["".join(s[: fault.after_chunks]) for s in sliced]
        if kind is FaultKind.END_EARLY:
            return sent
        if kind is FaultKind.BLOCK_RESPONSE:
            terminal = [
                {
                    "index": i,
                    "finishReason": "SAFETY",
                    "safetyRatings": [_blocked_rating(fault.category)],
                }
                for i in range(count)
            ]
            usage = _usage(prompt, _tokens(sent_texts), thoughts)
            return [*sent, {"candidates": terminal, "usageMetadata": usage, **envelope}]
        if kind is FaultKind.MAX_TOKENS:
            terminal = [{"index": i, "finishReason": "MAX_TOKENS"} for i in range(count)]
            usage = _usage(prompt, _tokens(sent_texts), fault.thoughts_tokens)
            return [*sent, {"candidates": terminal, "usageMetadata": usage, **envelope}]
        raise AssertionError(f"unhandled fault kind {kind}")


# --------------------------------------------------------------------------- JSON builders


def _batch_rpc(method: str, groups: dict[str, str | None]) -> str | None:
    """The batch call a method and a batchPredictionJobs path make, or None (a 404)."""
    if "job" not in groups:
        return None
    if groups["job"] is None:
        return {"POST": "batchPredictionJobs.create", "GET": "batchPredictionJobs.list"}.get(method)
    if groups["cancel"]:
        return "batchPredictionJobs.cancel" if method == "POST" else None
    return "batchPredictionJobs.get" if method == "GET" else None


def _batch_create_problem(body: dict[str, Any]) -> str | None:
    """Why a create request is refused (what the emulator takes), or None."""
    if not re.fullmatch(r"publishers/google/models/[^/]+", str(body.get("model") or "")):
        return "model must be publishers/google/models/MODEL_ID."
    source = body.get("inputConfig") or {}
    uris = (source.get("gcsSource") or {}).get("uris") or []
    if source.get("instancesFormat") != "jsonl" or not uris:
        return "inputConfig must have instancesFormat jsonl and gcsSource.uris."
    if not all(isinstance(uri, str) and uri.startswith("gs://") for uri in uris):
        return "inputConfig.gcsSource.uris must be gs:// URIs."
    destination = body.get("outputConfig") or {}
    prefix = (destination.get("gcsDestination") or {}).get("outputUriPrefix") or ""
    if destination.get("predictionsFormat") != "jsonl" or not prefix.startswith("gs://"):
        return "outputConfig must have predictionsFormat jsonl and a gs:// outputUriPrefix."
    return None


def _row_status(code: int, message: str | None) -> str:
    """A failed row's ``status``: the HTTP reason, then the Google error JSON (see the module
    notes: the exact wording Vertex AI writes here is not documented)."""
    text = message or DEFAULT_MESSAGES.get(code, f"HTTP {code}")
    error = {"code": code, "message": text, "status": STATUS_NAMES.get(code, "UNKNOWN")}
    try:
        reason = HTTPStatus(code).phrase
    except ValueError:
        reason = f"HTTP {code}"
    return f"{reason}: {json.dumps({'error': error})}"


def _served_on(backend: str, rpc: str | None) -> bool:
    """Whether the backend has this RPC: predict and batch jobs are Vertex's alone,
    batchEmbedContents the Developer API's alone."""
    if backend == BACKEND_GEMINI_API:
        return rpc in DEV_API_RPCS
    return rpc != "batchEmbedContents"


def _embedding(body: dict[str, Any], dimension: Any) -> dict[str, list[float]]:
    """The vector for one content: the same parts, the same vector, on either backend."""
    key = json.dumps(parts_of(body), sort_keys=True)
    return {"values": fake_embedding(key, int(dimension or DEFAULT_EMBEDDING_DIMENSION))}


def _split_gs_uri(uri: str) -> tuple[str, str]:
    bucket, _, name = uri.removeprefix("gs://").partition("/")
    if not uri.startswith("gs://") or not bucket or not name:
        raise ValueError(f"{uri!r} is not gs://BUCKET/OBJECT")
    return bucket, name


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _tokens(texts: list[str]) -> int:
    return sum(len(t) // 4 for t in texts)


def _usage(prompt: int, candidates: int, thoughts: int) -> dict[str, int]:
    usage = {"promptTokenCount": prompt, "candidatesTokenCount": candidates}
    if thoughts > 0:
        usage["thoughtsTokenCount"] = thoughts
    usage["totalTokenCount"] = prompt + candidates + max(thoughts, 0)
    return usage


def _blocked_rating(category: str) -> dict[str, Any]:
    return {"category": category, "probability": "HIGH", "blocked": True}


def _text_candidate(index: int, text: str) -> dict[str, Any]:
    return {"content": {"role": "model", "parts": [{"text": text}]}, "index": index}


def _finish(chunk: dict[str, Any], reason: str, usage: dict[str, int]) -> None:
    for candidate in chunk["candidates"]:
        candidate["finishReason"] = reason
    chunk["usageMetadata"] = usage


def _merge_chunks(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """Fold stream chunks into the single response generateContent returns."""
    merged: dict[str, Any] = {}
    texts: dict[int, list[str]] = {}
    extras: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        for key, value in chunk.items():
            if key != "candidates":
                merged[key] = value
        for candidate in chunk.get("candidates", []):
            index = candidate.get("index", 0)
            for part in candidate.get("content", {}).get("parts", []):
                texts.setdefault(index, []).append(part.get("text", ""))
            extras.setdefault(index, {}).update(
                {k: v for k, v in candidate.items() if k not in ("content", "index")}
            )
    indexes = sorted(set(texts) | set(extras))
    if indexes:
        merged["candidates"] = []
        for index in indexes:
            candidate: dict[str, Any] = {"index": index, **extras.get(index, {})}
            if index in texts:
                candidate["content"] = {"role": "model", "parts": [{"text": "".join(texts[index])}]}
            merged["candidates"].append(candidate)
    return merged


def write_static_adc(path: Path) -> Path:
    """An authorized_user ADC file with a token that never expires: the SDKs send it as is and
    never try to refresh it, so tests and benchmarks need no test-only path in the product."""
    path.write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "test-client",
                "client_secret": "test-secret",
                "refresh_token": "test-refresh",
                "token": "test-token",
                "expiry": "2099-01-01T00:00:00Z",
            }
        )
    )
    return path


# --------------------------------------------------------------------------- the Files API
#
# As google-genai 2.34 speaks it with api_key= (files.py `upload`/`get`/`delete`,
# _api_client.py `_upload_fd`), nothing guessed beyond what is said below:
# * start: ``POST /upload/v1beta/files`` with ``X-Goog-Upload-Protocol: resumable``,
#   ``X-Goog-Upload-Command: start``, ``X-Goog-Upload-Header-Content-Length`` and
#   ``-Content-Type``, body ``{"file": {"mimeType", "sizeBytes", "displayName"?}}``; the answer's
#   ``x-goog-upload-url`` header is where the bytes go (the SDK keeps its path and query and
#   puts its own base URL's host in front).
# * chunks: ``POST <upload url>`` with ``X-Goog-Upload-Command: upload`` (``upload, finalize``
#   for the last) and ``X-Goog-Upload-Offset``, 8 MB each (CHUNK_SIZE), and no API key: the
#   upload id is the authority. The SDK reads ``x-goog-upload-status`` of each answer: "active"
#   for more, "final" at the end, where the body is ``{"file": File}``; an answer without the
#   header is sent again (3 tries, 1 s, 2 s, 4 s apart).
# * ``GET /v1beta/files/{id}`` and ``DELETE /v1beta/files/{id}``. A file that is not there (never
#   was, deleted, or expired after 48 h) is answered as Google answers it: 403 PERMISSION_DENIED
#   "You do not have permission to access the File … or it may not exist." (quoted in
#   googleapis/python-genai#1218 and google-gemini/deprecated-generative-ai-js#236).
# * generateContent / streamGenerateContent / countTokens refuse a fileData URI of such a file
#   with that same 403, and one not ACTIVE yet (or FAILED) with 400 FAILED_PRECONDITION "The
#   File … is not in an ACTIVE state and usage is not allowed." That wording is as users quote
#   it; no Google page giving the full error could be found here, so its status is unverified.

FILES_URI_PREFIX = "https://generativelanguage.googleapis.com/v1beta/files/"
"""Where the service says a file lives (File.uri); requests name files by it in fileData."""
FILE_LIFETIME_S = 48 * 3600  # "Files are stored for 48 hours" (ai.google.dev, Files API)
FILES_RPCS = frozenset({"files.create", "files.upload", "files.get", "files.delete"})
_FILE_PATH_RE = re.compile(r"^/v1beta/files/(?P<file>[a-z0-9-]+)$")
_GONE_MESSAGE = "You do not have permission to access the File {id} or it may not exist."
_NOT_ACTIVE_MESSAGE = "The File {id} is not in an ACTIVE state and usage is not allowed."


def _files_rpc(method: str, path: str, query: dict[str, str]) -> str | None:
    if path == "/upload/v1beta/files" and method == "POST":
        return "files.upload" if "upload_id" in query else "files.create"
    if _FILE_PATH_RE.match(path):
        return {"GET": "files.get", "DELETE": "files.delete"}.get(method)
    return None


def _json_or_text(data: bytes) -> Any:
    raw = data.decode("utf-8", "replace")
    try:
        return json.loads(raw) if raw else None
    except json.JSONDecodeError:
        return raw


@dataclass
class StoredFile:
    """One file of the Files API: its bytes so far, and when it was finished."""

    id: str
    mime_type: str
    size: int
    display_name: str | None = None
    data: bytearray = field(default_factory=bytearray)
    created_at: float = 0.0
    finished_at: float | None = None  # None while its chunks come in
    fails_processing: bool = False

    @property
    def name(self) -> str:
        return f"files/{self.id}"

    @property
    def uri(self) -> str:
        return FILES_URI_PREFIX + self.id

    def state(self, processing_s: float, now: float) -> str:
        if self.finished_at is None or now < self.finished_at + processing_s:
            return "PROCESSING"
        return "FAILED" if self.fails_processing else "ACTIVE"


class FilesApi:
    """The Files API's state: files by id, the pace of processing, faults, finished uploads."""

    def __init__(self, emulator: VertexEmulator) -> None:
        self._emulator = emulator
        self._lock = threading.Lock()
        self._chunks_open = threading.Event()  # hold_chunks clears it
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._files: dict[str, StoredFile] = {}
            self._uploads: dict[str, StoredFile] = {}  # upload id -> file whose bytes come in
            self._finished: list[dict[str, Any]] = []
            self._chunk_faults: list[int] = []  # statuses for the next upload chunks
            self._failing = 0  # how many of the next finished uploads end FAILED
            self.processing_s = 0.0
        self._chunks_open.set()  # a chunk a test left held goes on

    # -- what a test sets --

    def set_processing(self, seconds: float) -> None:
        """How long a finished upload stays PROCESSING before it is ACTIVE (or FAILED)."""
        with self._lock:
            self.processing_s = seconds

    def hold_chunks(self) -> None:
        """Take no upload chunk until ``release_chunks``: a test sees an upload part-way
        (its first chunk read and on the wire) for as long as it needs to look."""
        self._chunks_open.clear()

    def release_chunks(self) -> None:
        self._chunks_open.set()

    def fail_chunk(self, status: int = 503, times: int = 1) -> None:
        """Answer the next ``times`` upload chunks with ``status`` and ``x-goog-upload-status:
        final``, so the SDK gives up at once (the session is over) and raises the error."""
        with self._lock:
            self._chunk_faults += [status] * times

    def fail_processing(self, times: int = 1) -> None:
        """The next ``times`` finished uploads end FAILED instead of ACTIVE."""
        with self._lock:
            self._failing += times

    def forget(self, name: str) -> None:
        """The file is gone, as after its 48 h or a delete: get and generate answer 403."""
        with self._lock:
            self._files.pop(name.removeprefix("files/"), None)

    # -- what a test reads --

    @property
    def uploads(self) -> list[dict[str, Any]]:
        """Every finished upload, oldest first: name, size, sha256 (hex), mime type."""
        with self._lock:
            return list(self._finished)

    def file(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            stored = self._files.get(name.removeprefix("files/"))
            return self._json(stored) if stored is not None else None

    # -- serving --

    def serve(self, http: _Handler, request: RecordedRequest) -> None:
        emulator = self._emulator
        if request.rpc == "files.upload":
            self._chunk(http, request)
            return
        if not emulator._key_accepted(http, request):
            return
        if request.rpc == "files.create":
            self._start(http, request)
            return
        file_id = _FILE_PATH_RE.match(request.path)["file"]  # type: ignore[index]
        with self._lock:
            stored = self._files.get(file_id)
            if stored is not None and request.rpc == "files.delete":
                del self._files[file_id]
            answer = self._json(stored) if stored is not None else None
        if answer is None:
            emulator._send_error(http, 403, _GONE_MESSAGE.format(id=file_id))
        else:
            http.send_json(200, answer if request.rpc == "files.get" else {})

    def usable(self, http: _Handler, request: RecordedRequest) -> bool:
        """Whether every Files API file a generate or count request names is ACTIVE; if not,
        Google's answer is sent."""
        body = request.body if isinstance(request.body, dict) else {}
        named = [
            str(part["fileData"].get("fileUri", ""))
            for part in parts_of(body)
            if isinstance(part.get("fileData"), dict)
        ]
        now = time.time()
        for uri in named:
            if not uri.startswith(FILES_URI_PREFIX):
                continue
            file_id = uri.removeprefix(FILES_URI_PREFIX)
            with self._lock:
                stored = self._files.get(file_id)
                state = stored.state(self.processing_s, now) if stored else None
            if state is None:
                self._emulator._send_error(http, 403, _GONE_MESSAGE.format(id=file_id))
                return False
            if state != "ACTIVE":
                message = _NOT_ACTIVE_MESSAGE.format(id=file_id)
                self._emulator._send_error(http, 400, message, "FAILED_PRECONDITION")
                return False
        return True

    def _held_until_released(self, http: _Handler) -> bool:
        """Wait while chunks are held; False if the client hung up or the emulator stops."""
        while not self._chunks_open.wait(0.02):
            if self._emulator._stopping.is_set() or http.client_gone():
                return False
        return True

    def _start(self, http: _Handler, request: RecordedRequest) -> None:
        headers = request.headers
        declared = (request.body or {}).get("file", {}) if isinstance(request.body, dict) else {}
        if headers.get("x-goog-upload-protocol") != "resumable" or (
            headers.get("x-goog-upload-command") != "start"
        ):
            self._emulator._send_error(http, 400, "Expected a resumable upload start.")
            return
        stored = StoredFile(
            id=uuid.uuid4().hex[:12],
            mime_type=headers.get("x-goog-upload-header-content-type", ""),
            size=int(headers.get("x-goog-upload-header-content-length") or 0),
            display_name=declared.get("displayName") or declared.get("display_name"),
        )
        upload_id = uuid.uuid4().hex
        with self._lock:
            self._uploads[upload_id] = stored
        url = f"{self._emulator.base_url}/upload/v1beta/files?upload_id={upload_id}"
        _send_upload_answer(
            http, 200, {}, {"x-goog-upload-url": url + "&upload_protocol=resumable"}
        )

    def _chunk(self, http: _Handler, request: RecordedRequest) -> None:
        upload_id = request.query.get("upload_id", "")
        command = request.headers.get("x-goog-upload-command", "")
        offset = int(request.headers.get("x-goog-upload-offset") or -1)
        data = request.body if isinstance(request.body, bytes) else b""
        if not self._held_until_released(http):
            http.drop_connection()
            return
        with self._lock:
            stored = self._uploads.get(upload_id)
            fault = self._chunk_faults.pop(0) if self._chunk_faults and stored else None
            if fault is not None:
                del self._uploads[upload_id]  # a failed session takes no more chunks
        if stored is None or fault is not None:
            status = fault or 404
            message = DEFAULT_MESSAGES.get(status) if fault else "No such upload session."
            error = {"code": status, "message": message, "status": STATUS_NAMES.get(status)}
            _send_upload_answer(http, status, {"error": error}, {"x-goog-upload-status": "final"})
            return
        if offset != len(stored.data):
            error = {"code": 400, "message": f"Offset {offset} is not {len(stored.data)}."}
            _send_upload_answer(http, 400, {"error": error}, {"x-goog-upload-status": "active"})
            return
        stored.data += data
        if "finalize" not in command:
            _send_upload_answer(http, 200, None, {"x-goog-upload-status": "active"})
            return
        self._finish(http, upload_id, stored)

    def _finish(self, http: _Handler, upload_id: str, stored: StoredFile) -> None:
        with self._lock:
            del self._uploads[upload_id]
            if len(stored.data) != stored.size:
                answer = None
            else:
                stored.created_at = stored.finished_at = time.time()
                stored.fails_processing = self._failing > 0
                self._failing = max(self._failing - 1, 0)
                self._files[stored.id] = stored
                digest = hashlib.sha256(stored.data).hexdigest()
                self._finished.append(
                    {
                        "name": stored.name,
                        "size": stored.size,
                        "sha256": digest,
                        "mime_type": stored.mime_type,
                    }
                )
                answer = self._json(stored)
        if answer is None:
            message = f"Received {len(stored.data)} bytes; the upload declared {stored.size}."
            error = {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}
            _send_upload_answer(http, 400, {"error": error}, {"x-goog-upload-status": "final"})
            return
        _send_upload_answer(http, 200, {"file": answer}, {"x-goog-upload-status": "final"})

    def _json(self, stored: StoredFile) -> dict[str, Any]:
        """A File as the service writes it (camelCase, int64 as strings); lock held."""
        state = stored.state(self.processing_s, time.time())
        made = stored.created_at or time.time()
        answer: dict[str, Any] = {
            "name": stored.name,
            "mimeType": stored.mime_type,
            "sizeBytes": str(stored.size),
            "createTime": _rfc3339(made),
            "updateTime": _rfc3339(made),
            "expirationTime": _rfc3339(made + FILE_LIFETIME_S),
            "sha256Hash": base64.b64encode(hashlib.sha256(stored.data).digest()).decode(),
            "uri": stored.uri,
            "state": state,
            "source": "UPLOADED",
        }
        if stored.display_name:
            answer["displayName"] = stored.display_name
        if state == "FAILED":
            answer["error"] = {"code": 400, "message": "The video could not be processed."}
        return answer


def _send_upload_answer(http: _Handler, status: int, payload: Any, headers: dict[str, str]) -> None:
    """An answer with the upload protocol's headers (send_json writes none of its own)."""
    http.answer_started = True
    data = json.dumps(payload).encode() if payload is not None else b""
    http.send_response(status)
    for name, value in headers.items():
        http.send_header(name, value)
    http.send_header("Content-Type", "application/json; charset=UTF-8")
    http.send_header("Content-Length", str(len(data)))
    http.end_headers()
    http.wfile.write(data)
