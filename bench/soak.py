"""Benchmark: a server that runs for weeks, measured in one process.

One process plays the server: 20 sessions (AppTest, each its own session state, as tabs are)
come one after another, each doing SCRIPT_RUNS script runs across every page: runs on Ask,
Side by side and Chapters (followed to their end), History, the Library, Models, the
Embeddings page (the first session builds a collection: an embedding job and a UMAP map fit;
the others open it), and cheap reruns (a slider, a prompt edit) in between. Each session then
ends (its state dropped) and the server is left idle until no task runs.

Figures, taken with the server idle: resident memory, open file descriptors and OS threads
after the last session, against the same server after its first session (the baseline: what
the first session legitimately loads, caches and starts once). Goals: RSS growth at most 5 %,
and no more descriptors or threads than after the first session. The Vertex AI emulator runs
in a process of its own, so its sockets and threads are not counted.

Run with `python -m bench.soak` (about 20 minutes); SOAK_SESSIONS / SOAK_RUNS shorten it.
"""

from __future__ import annotations

import contextlib
import gc
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
SESSIONS = int(os.environ.get("SOAK_SESSIONS", "20"))
SCRIPT_RUNS = int(os.environ.get("SOAK_RUNS", "200"))
IDLE_TIMEOUT_S = 300.0
TEXTS = [f"A note about topic {i}: {'red' if i % 2 else 'blue'} things" for i in range(40)]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, emulator(Path(folder)) as base_url:
        configure(Path(folder), base_url)
        from reelscope.tasks import registry

        session(0)
        baseline = idle_figures(registry)
        print(f"after session 1: {describe(baseline)}", flush=True)
        started = time.monotonic()
        for number in range(1, SESSIONS):
            session(number)
            print(f"session {number + 1} done ({time.monotonic() - started:.0f} s)", flush=True)
        final = idle_figures(registry)
        print(f"after session {SESSIONS}: {describe(final)}", flush=True)
        print(f"threads added: {added(baseline['thread_names'], final['thread_names'])}")
        print(f"descriptors added: {added(baseline['fd_targets'], final['fd_targets'])}")
    rss_growth = (final["rss_kb"] - baseline["rss_kb"]) / baseline["rss_kb"] * 100
    print(f"bench soak_rss_first_session_mb: {baseline['rss_kb'] / 1024:.1f}")
    print(f"bench soak_rss_last_session_mb: {final['rss_kb'] / 1024:.1f}")
    print(f"bench soak_rss_growth_pct: {rss_growth:.2f}")
    print(f"bench soak_fd_growth: {final['fds'] - baseline['fds']}")
    print(f"bench soak_thread_growth: {final['threads'] - baseline['threads']}")
    print(f"bench soak_script_runs: {SESSIONS * SCRIPT_RUNS}")


class emulator:
    """The Vertex AI emulator in a process of its own; yields its base URL."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    def __enter__(self) -> str:
        code = (
            "import sys, time\n"
            "from tests.vertex_emulator import VertexEmulator\n"
            "with VertexEmulator() as emulator:\n"
            "    emulator.set_reply('A short answer about the video, 0:01 to 0:04.', chunks=4)\n"
            "    print(emulator.base_url, flush=True)\n"
            "    sys.stdin.read()\n"
        )
        self._process = subprocess.Popen(
            [sys.executable, "-c", code], cwd=ROOT, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self._process.stdout is not None
        return self._process.stdout.readline().strip()

    def __exit__(self, *exc_info: object) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=10)


def configure(folder: Path, base_url: str) -> None:
    from tests.vertex_emulator import write_static_adc

    os.environ.update(
        GOOGLE_CLOUD_PROJECT="soak-project",
        GOOGLE_CLOUD_LOCATION="global",
        GOOGLE_VERTEX_BASE_URL=base_url,
        GOOGLE_APPLICATION_CREDENTIALS=str(write_static_adc(folder / "adc.json")),
        CLOUDSDK_CONFIG=str(folder / "gcloud"),
        NO_GCE_CHECK="true",
        REELSCOPE_DATA_DIR=str(folder / "data"),
        REELSCOPE_WARM_UP_UMAP="false",
    )
    sys.path.insert(0, str(ROOT))


def session(number: int) -> None:
    """One tab: SCRIPT_RUNS script runs across every page, then it ends."""
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()
    steps = page_visits(number)
    runs = 1
    while runs < SCRIPT_RUNS:
        for step in steps:
            if runs >= SCRIPT_RUNS:
                break
            step(app)
            check(app)
            runs += 1
    del app, steps
    gc.collect()


def page_visits(number: int) -> list[Callable[[AppTest], None]]:
    """One round through the pages; later rounds repeat it (each step is one script run)."""
    prompt = f"Session {number}: what happens in the video?"
    return [
        lambda app: app.text_area(key="ask.prompt").input(prompt).run(),
        lambda app: app.button(key="ask.run").click().run(),  # followed to its end
        lambda app: app.slider(key="ask.params.temperature").set_value(0.4).run(),
        lambda app: app.switch_page("pages/compare.py").run(),
        lambda app: app.text_area(key="compare.prompt").input(prompt).run(),
        lambda app: app.button(key="compare.run").click().run(),
        lambda app: app.switch_page("pages/chapters.py").run(),
        lambda app: add_link(app, "chapters.sources", "gs://soak-bucket/talk.mp4"),
        lambda app: app.button(key="chapters.go").click().run(),
        lambda app: app.switch_page("pages/embeddings.py").run(),
        lambda app: embeddings(app, build=number == 0),
        lambda app: app.switch_page("pages/history.py").run(),
        lambda app: app.text_input(key="history.text").input("video").run(),
        lambda app: app.switch_page("pages/library.py").run(),
        lambda app: app.switch_page("pages/models.py").run(),
        lambda app: app.switch_page("pages/ask.py").run(),
    ]


def add_link(app: AppTest, key: str, link: str) -> None:
    if any(b.key == f"{key}.add_link" for b in app.button):
        app.text_input(key=f"{key}.link_text").input(link)
        app.button(key=f"{key}.add_link").click()
    app.run()


def embeddings(app: AppTest, *, build: bool) -> None:
    """The first session builds a collection of texts (a job, then a UMAP map fit, followed
    to their end); the others open it and look at its stored map."""
    opened = "emb.open:kept" in app.session_state and app.session_state["emb.open:kept"]
    if build and not opened:
        app.text_input(key="emb.build.name").input("Soak notes")
        app.text_area(key="emb.build.texts").input("\n".join(TEXTS)).run()
        app.button(key="emb.build.go").click().run()
        return
    options = app.selectbox(key="emb.open").options
    if len(options) > 1:
        app.selectbox(key="emb.open").set_value(options[1])
    app.run()


def check(app: AppTest) -> None:
    if app.exception:
        raise RuntimeError(f"A page failed during the soak: {app.exception}")


def idle_figures(registry) -> dict[str, int]:
    """Once no task runs and the server has been idle a moment: RSS, descriptors, threads."""
    deadline = time.monotonic() + IDLE_TIMEOUT_S
    while registry().tasks(live=True) and time.monotonic() < deadline:
        time.sleep(0.2)
    gc.collect()
    time.sleep(3)
    gc.collect()
    status = Path("/proc/self/status").read_text().splitlines()
    fields = {line.split(":")[0]: line.split(":")[1].split() for line in status}
    return {
        "rss_kb": int(fields["VmRSS"][0]),
        "threads": int(fields["Threads"][0]),
        "fds": len(os.listdir("/proc/self/fd")),
        "thread_names": sorted(_os_thread_names()),
        "fd_targets": sorted(_fd_targets()),
    }


def _os_thread_names() -> list[str]:
    """Every OS thread's name, native ones too (a BLAS or Arrow pool), Python's by its name."""
    python = {t.native_id: t.name for t in threading.enumerate()}
    names = []
    for tid in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError):
            comm = Path(f"/proc/self/task/{tid}/comm").read_text().strip()
            names.append(python.get(int(tid), f"native:{comm}"))
    return names


def _fd_targets() -> list[str]:
    targets = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            targets.append(os.readlink(f"/proc/self/fd/{fd}"))
    return targets


def added(before: list[str], after: list[str]) -> list[str]:
    """What `after` holds more of than `before` (a multiset difference), to name a leak."""
    return sorted((Counter(after) - Counter(before)).elements())


def describe(figures: dict[str, int]) -> str:
    return (
        f"RSS {figures['rss_kb'] / 1024:.1f} MB, {figures['fds']} descriptors, "
        f"{figures['threads']} threads"
    )


if __name__ == "__main__":
    main()
