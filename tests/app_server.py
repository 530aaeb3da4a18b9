"""A real Reelscope server for a test: started the way `make run` starts it, stopped after.

The browser tests (tests/e2e/conftest.py) and the deployment tests share it; it needs no
Playwright.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


# The logs of the last servers started, for a failing test's report (tests/e2e/conftest.py).
RECENT_LOGS: deque[Path] = deque(maxlen=4)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Streamlit exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as answer:
                if answer.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"Streamlit did not become healthy at {url}")


@contextlib.contextmanager
def running_app(
    settings_env: dict[str, str], log_path: Path, script: Path = ROOT / "serve.py"
) -> Iterator[str]:
    """The app, started the way `make run` starts it, configured by environment only.

    Unless `settings_env` says otherwise, without the umap warm-up: ~45 s of CPU at every
    server start would skew the timings of tests that have nothing to do with embeddings.
    """
    settings_env = {"REELSCOPE_WARM_UP_UMAP": "false", **settings_env}
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true"]  # fmt: skip
    with serving(command, {**os.environ, **settings_env}, log_path, port) as url:
        yield url


@contextlib.contextmanager
def serving(
    command: Sequence[str], env: dict[str, str], log_path: Path, port: int
) -> Iterator[str]:
    """Runs `command` from the repository root until it answers health on `port`; stops it."""
    RECENT_LOGS.append(log_path)
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, process)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)
