"""A running Reelscope (a real Streamlit server) and a real Chromium driven by Playwright."""

from __future__ import annotations

import contextlib
import math
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    WebSocket,
    expect,
    sync_playwright,
)
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from tests.app_server import RECENT_LOGS

# The server's start and stop live in tests/app_server.py, which other tests use without
# Playwright; the browser tests and the benches still import them from here.
from tests.app_server import ROOT as ROOT
from tests.app_server import running_app as running_app

OUTPUT_DIR = ROOT / "test-output"
DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps calling Google's hosts (SDK-NOTES.md).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


LOG_TAIL_LINES = 60
TRACE_LINES = 150
BROWSER_TRACES = pytest.StashKey[list["BrowserTrace"]]()
# The running test's traces: one list, shared with its stash (TracedBrowser appends to it).
_TRACES: list[list[BrowserTrace]] = [[]]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A failing browser test's report ends with what the last app servers logged (their
    tracebacks, warnings): on CI that is all there is to read afterwards."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    for log in RECENT_LOGS:
        if log.exists():
            lines = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
            report.sections.append((f"app server log {log.parent.name}", "\n".join(lines)))
    for number, trace in enumerate(item.stash.get(BROWSER_TRACES, []), start=1):
        report.sections.append((f"browser trace, page {number}", "\n".join(trace.lines)))


@pytest.fixture(autouse=True)
def browser_traces(request) -> Iterator[None]:
    """Traces the pages this test opens (TracedBrowser), for its report if it fails."""
    request.node.stash[BROWSER_TRACES] = _TRACES[0] = []
    yield
    _TRACES[0] = []


@pytest.fixture(scope="session")
def app_env(vertex_server, adc_file, tmp_path_factory) -> dict[str, str]:
    """Settings pointing at the emulator, given the way a user gives them."""
    return {
        "GOOGLE_CLOUD_PROJECT": "test-project",
        "GOOGLE_CLOUD_LOCATION": "global",
        "GOOGLE_VERTEX_BASE_URL": vertex_server.base_url,
        "GOOGLE_APPLICATION_CREDENTIALS": str(adc_file),
        "CLOUDSDK_CONFIG": str(tmp_path_factory.mktemp("gcloud")),
        "REELSCOPE_DATA_DIR": str(tmp_path_factory.mktemp("data")),
    }


@pytest.fixture(scope="session")
def app_url(app_env, tmp_path_factory) -> Iterator[str]:
    with running_app(app_env, tmp_path_factory.mktemp("streamlit") / "server.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = str(DEBIAN_CHROMIUM) if DEBIAN_CHROMIUM.exists() else None
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield TracedBrowser(chromium)
        chromium.close()


@pytest.fixture
def page(browser: Browser, app_url: str, vertex) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(app_url)
    wait_idle(page)
    yield page
    stop_leftover_work(page, app_url)
    context.close()


def stop_leftover_work(page: Page, app_url: str) -> None:
    """Stop, as a user would from the sidebar's Running list, whatever a test left going (a
    stream it did not wait for, a map fit): the server is shared by the tests that follow."""
    page.goto(f"{app_url}/models")
    page.get_by_role("heading", name="Models").wait_for(timeout=30_000)
    stops = page.locator('[class*="st-key-running-stop-"] button')
    while left := stops.count():
        stops.first.click()
        expect(stops).to_have_count(left - 1, timeout=15_000)


def current(page: Page) -> Locator:
    """The page as the script run going on draws it: a rerun that polled work starts may be
    under way, and its predecessor's elements wait, greyed out (data-stale), to be replaced."""
    return page.locator('[data-testid="stElementContainer"]:not([data-stale="true"])')


# The page's script-run requests that no "idle" status has answered yet, on its live socket.
# A widget's change asks the server for a run without marking the page as running: until the
# server says the run began, the page looks idle, and a wait for the idle page right after a
# click could return before the run the click asked for. The socket's frames are protobuf
# (BackMsg, ForwardMsg): only their top-level fields are read here, by number.
RERUNS_PENDING_JS = """
(() => {
  const RERUN_SCRIPT = 11, IS_AUTO_RERUN = 6;  // BackMsg.rerun_script, ClientState's field
  const SESSION_STATUS = 9, SCRIPT_IS_RUNNING = 2;  // ForwardMsg.session_status_changed
  const varint = (bytes, at) => {
    let value = 0, shift = 0, byte;
    do { byte = bytes[at++]; value += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80);
    return [value, at];
  };
  const fields = (bytes, start, end) => {  // [number, varint value or [start, end]]
    const found = [];
    let at = start;
    while (at < end) {
      let tag, value;
      [tag, at] = varint(bytes, at);
      const type = tag & 7;
      if (type === 0) { [value, at] = varint(bytes, at); found.push([tag >>> 3, value]); }
      else if (type === 2) {
        [value, at] = varint(bytes, at); found.push([tag >>> 3, [at, at + value]]); at += value;
      } else if (type === 1) at += 8; else if (type === 5) at += 4; else break;
    }
    return found;
  };
  const has = (bytes, [start, end], number) =>
    fields(bytes, start, end).some(([n, v]) => n === number && v === 1);
  const asBytes = (data) => data instanceof ArrayBuffer ? new Uint8Array(data)
    : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : null;
  let pending = 0;
  window.__reelscopeRerunsPending = () => pending;
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      pending = 0;  // a new connection: nothing asked on it yet
      this.addEventListener('message', (event) => {
        const bytes = asBytes(event.data);
        if (!bytes) return;
        for (const [number, value] of fields(bytes, 0, bytes.length)) {
          if (number === SESSION_STATUS && Array.isArray(value)
              && !has(bytes, value, SCRIPT_IS_RUNNING)) pending = 0;
        }
      });
    }
    send(data) {
      const bytes = asBytes(data);
      for (const [number, value] of bytes ? fields(bytes, 0, bytes.length) : []) {
        if (number === RERUN_SCRIPT && Array.isArray(value) && !has(bytes, value, IS_AUTO_RERUN)) {
          pending += 1;
        }
      }
      return super.send(data);
    }
  };
})();
"""
IDLE_JS = """() => !(window.__reelscopeRerunsPending?.() > 0)
  && document.querySelector('[data-testid="stApp"][data-test-script-state="notRunning"]')"""


def wait_idle(page: Page, timeout_ms: int = 30_000) -> None:
    """Until the script run is over (the app sets this attribute on its root), and every run
    the page has asked for since its last idle status has been answered (RERUNS_PENDING_JS)."""
    page.wait_for_function(IDLE_JS, timeout=timeout_ms)


# True once the browser has loaded the code of an element (a file named after it) and the
# prefetcher that drew it is gone: its last tick has told the server and rerun the app.
PREFETCHED_JS = """([element, container]) =>
  performance.getEntriesByType('resource').some((e) => e.name.includes(`/static/js/${element}.`))
  && !document.querySelector(`.st-key-${container}`)"""


def wait_prefetched(page: Page, element: str = "DataFrame", key: str = "reelscope-prefetch"):
    """Until the prefetcher `key` (components/common/prefetch.py: a fragment's tick draws hidden
    elements, the next reruns the app and ends it) is over, `element`'s code loaded: the end
    state, not the hidden container's coming and going, which a busy machine can make brief.
    A test that counts the script runs its own steps cause must not count those two."""
    page.wait_for_function(PREFETCHED_JS, arg=[element, key], timeout=30_000)
    wait_idle(page)


def screenshot(page: Page, name: str) -> Path:
    OUTPUT_DIR.mkdir(exist_ok=True)
    path = OUTPUT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


TRACE_PREFIX = "trace:"  # what TRACE_JS writes to the console
# The prefetchers' hidden containers (components/common/prefetch.py) as they come and go (tests
# wait on them to know a tab has loaded an element's code), and each click: what it landed on
# (the button's label, whether it was disabled or in a stale element), for a lost click's report.
TRACE_JS = """
(() => {
  document.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const button = target && target.closest('button');
    const what = button ? `button "${button.innerText.trim().slice(0, 60)}"`
      + (button.disabled ? ' disabled' : '')
      : (target ? target.tagName.toLowerCase() : 'nothing');
    const stale = target && target.closest('[data-stale="true"]') ? ' in a stale element' : '';
    console.debug(`trace: click on ${what}${stale}`);
  }, true);
  const seen = new Set();
  new MutationObserver(() => {
    const now = new Set(Array.from(document.querySelectorAll('[class*="prefetch"]'))
      .flatMap((e) => Array.from(e.classList).filter((c) => c.startsWith('st-key-'))));
    for (const c of now) if (!seen.has(c)) console.debug('trace: added ' + c);
    for (const c of seen) if (!now.has(c)) console.debug('trace: removed ' + c);
    seen.clear(); now.forEach((c) => seen.add(c));
  }).observe(document, { childList: true, subtree: true });
})();
"""


class BrowserTrace:
    """What passed between a test's page and the server, for a failing test's report: each
    script-rerun request (whole page or fragment, the widgets that carry a trigger or a
    selection), each run's start and end, console errors and failed requests. The last
    TRACE_LINES, with seconds since the page opened."""

    def __init__(self, page: Page) -> None:
        self.lines: deque[str] = deque(maxlen=TRACE_LINES)
        self.page = page
        self.sent_numbers: list[tuple[str, float]] = []  # (widget id, value), as they left
        self.user_reruns = 0  # rerun requests a user's action sent (not a fragment's timer)
        self._start = time.monotonic()
        page.on("websocket", self._watch)
        page.on("console", self._console)
        page.add_init_script(TRACE_JS)
        page.add_init_script(RERUNS_PENDING_JS)
        page.on("response", lambda r: r.status >= 400 and self._add(f"{r.status} {r.url[-90:]}"))

    def _add(self, line: str) -> None:
        self.lines.append(f"{time.monotonic() - self._start:8.3f}  {line}")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" or message.text.startswith(TRACE_PREFIX):
            self._add(f"console {message.text[:200]}")

    def _watch(self, socket: WebSocket) -> None:
        socket.on("framesent", self._sent)
        socket.on("framereceived", self._received)

    def _sent(self, payload: bytes | str) -> None:
        if isinstance(payload, str):
            return
        message = BackMsg.FromString(payload)
        kind = message.WhichOneof("type")
        if kind != "rerun_script":
            self._add(f"sent {kind}")
            return
        rerun = message.rerun_script
        if not rerun.is_auto_rerun:
            self.user_reruns += 1
        for widget in rerun.widget_states.widgets:
            if widget.WhichOneof("value") == "double_array_value":
                self.sent_numbers += [(widget.id, n) for n in widget.double_array_value.data]
        notable = (
            [
                f"{w.id.rsplit('-', 1)[-1]}={w.json_value[:80] if w.json_value else 'trigger'}"
                for w in rerun.widget_states.widgets
                if w.WhichOneof("value") in ("trigger_value", "json_trigger_value", "json_value")
            ]
            + [  # a table's selection (the rows picked)
                f"{w.id.rsplit('-', 1)[-1]}={w.string_value[13:80]}"
                for w in rerun.widget_states.widgets
                if _is_selection(w)
            ]
        )
        scope = f"fragment {rerun.fragment_id[:8]}" if rerun.fragment_id else "page"
        auto = " (timer)" if rerun.is_auto_rerun else ""
        self._add(f"sent rerun {scope}{auto} {rerun.page_name} {' '.join(notable)}")

    def _received(self, payload: bytes | str) -> None:
        if isinstance(payload, str):
            return
        message = ForwardMsg.FromString(payload)
        kind = message.WhichOneof("type")
        if kind == "session_status_changed":
            running = message.session_status_changed.script_is_running
            self._add("run started" if running else "run idle")
        elif kind == "script_finished":
            status = ForwardMsg.ScriptFinishedStatus.Name(message.script_finished)
            self._add(f"run finished {status}")
        elif kind not in ("delta", "forward_msg_metadata", "ref_hash", None):
            self._add(f"received {kind}")


def _is_selection(widget) -> bool:
    """Whether a sent widget state is a table's selection (st.dataframe's JSON string)."""
    return widget.WhichOneof("value") == "string_value" and widget.string_value.startswith(
        '{"selection"'
    )


class TracedBrowser:
    """The session's Chromium, as tests use it; each page opened in a context it makes is traced
    (BrowserTrace) for the report of the test that opened it."""

    def __init__(self, browser: Browser) -> None:
        self._browser = browser

    def __getattr__(self, name: str):
        return getattr(self._browser, name)

    def new_context(self, **options) -> BrowserContext:
        context = self._browser.new_context(**options)
        context.on("page", lambda page: _TRACES[0].append(BrowserTrace(page)))
        return context


def trace_of(page: Page) -> BrowserTrace:
    return next(t for t in _TRACES[0] if t.page is page)


HEADER_PX, ROW_PX = 35, 35  # st.dataframe's default header and row heights


def click_table_row(page: Page, table: Locator, row: int) -> None:
    """Tick or untick row `row`'s box in `table` (a canvas: click where the box is), and wait
    until the run the new pick asks for is over.

    The grid sends its selection a moment after the click, not with it: a wait for the idle
    page right after the click returns before that run has begun, and a second click then
    lands on the grid as it was. A click that changes no pick sends nothing, and fails here.
    """
    expect(table).to_be_visible(timeout=15_000)
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    assert box is not None
    with rerun_asked(page, f"the click on row {row}"):
        page.mouse.click(box["x"] + 18, box["y"] + HEADER_PX + ROW_PX * (row + 0.5))


@contextlib.contextmanager
def rerun_asked(page: Page, what: str, timeout_s: float = 15.0) -> Iterator[None]:
    """Around a user's step that must rerun the app: after it, until the browser has asked for
    that run and the run is over (a step that asks for none fails here, saying `what`).

    A wait for the idle page alone can return before a run that leaves late has begun: the
    next step then acts on the page as it was (a list without the options the run adds).
    """
    trace = trace_of(page)
    before = trace.user_reruns
    yield
    deadline = time.monotonic() + timeout_s
    while trace.user_reruns == before:
        assert time.monotonic() < deadline, f"{what} asked for no script run"
        page.wait_for_timeout(50)  # lets Playwright deliver the socket's events
    wait_idle(page)  # which waits for the runs the page asked for to be answered


def wait_sent(page: Page, key: str, number: float, timeout_s: float = 15.0) -> None:
    """Until the browser has sent the server `number` for widget `key` (its user key).

    Streamlit's slider sends its value some 200 ms after the last key press (a debounce), on a
    timer a busy browser can run late: a test that goes on before the value has left acts on
    the previous one. The page's trace (BrowserTrace) watches the websocket.
    """
    trace = trace_of(page)
    deadline = time.monotonic() + timeout_s
    while not any(
        wid.endswith(f"-{key}") and math.isclose(sent, number, abs_tol=1e-9)
        for wid, sent in trace.sent_numbers
    ):
        assert time.monotonic() < deadline, f"{key} never sent {number}: {trace.sent_numbers[-5:]}"
        page.wait_for_timeout(50)  # lets Playwright deliver the socket's events
