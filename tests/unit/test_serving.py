"""`make run` serves on this machine only: the listening socket is bound to 127.0.0.1."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parents[1]
LISTEN = "0A"  # TCP state code in /proc/net/tcp


def make_run_command(*variables: str) -> list[str]:
    """The streamlit command `make run` would execute, read from make itself (dry run)."""
    dry_run = subprocess.run(
        ["make", "-n", "run", f"VENV={VENV}", *variables],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    [line] = [line for line in dry_run.stdout.splitlines() if " run serve.py" in line]
    return shlex.split(line)


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on `port`, from the kernel's own tables."""
    addresses = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            address, port_hex = fields[1].split(":")
            if fields[3] == LISTEN and int(port_hex, 16) == port:
                addresses.add(_decode(address, width))
    return addresses


def _decode(hex_address: str, width: int) -> str:
    raw = bytes.fromhex(hex_address)
    # The kernel prints each 32-bit word in host (little-endian) order.
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    family = socket.AF_INET if width == 8 else socket.AF_INET6
    return socket.inet_ntop(family, words)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(port: int, process: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, f"streamlit exited with {process.returncode}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError("streamlit did not start")


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's socket table")
def test_make_run_listens_on_loopback_only(tmp_path):
    port = free_port()
    command = make_run_command(f"PORT={port}")
    env = {**os.environ, "REELSCOPE_DATA_DIR": str(tmp_path)}
    with (tmp_path / "streamlit.log").open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            wait_healthy(port, process)
            assert listening_addresses(port) == {"127.0.0.1"}
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_make_run_address_exposes_it_only_when_asked():
    assert make_run_command()[-2:] == ["--server.address", "127.0.0.1"]
    assert make_run_command("ADDRESS=0.0.0.0")[-2:] == ["--server.address", "0.0.0.0"]
