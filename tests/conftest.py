"""Shared fixtures: the local Vertex AI emulator, a throwaway ADC file, generated media."""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reelscope.settings import BACKEND_GEMINI_API, BACKEND_VERTEX, Settings
from reelscope.store import PriceOf, Store, open_store
from tests.media_files import make_image, make_video
from tests.postgres import PostgresCluster, postgres_cluster
from tests.vertex_emulator import VertexEmulator, write_static_adc

TEST_PROJECT = "test-project"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser tests last: the fast suites answer first, and Playwright's event loop (it
    runs in the main thread until the session's browser closes) is never there under them."""
    items.sort(key=lambda item: "tests/e2e/" in item.nodeid)


@pytest.fixture(scope="session")
def vertex_server() -> Iterator[VertexEmulator]:
    with VertexEmulator() as emulator:
        yield emulator


@pytest.fixture
def vertex(vertex_server: VertexEmulator) -> VertexEmulator:
    """The emulator, fresh for each test: default reply, empty log, no faults."""
    vertex_server.reset()
    return vertex_server


@pytest.fixture(scope="session")
def adc_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A static-token ADC file: the SDKs send its token and never try to refresh it."""
    return write_static_adc(tmp_path_factory.mktemp("adc") / "adc.json")


@pytest.fixture
def emulator_settings(vertex: VertexEmulator, adc_file: Path, tmp_path: Path) -> Settings:
    return Settings(
        project=TEST_PROJECT,
        location="global",
        vertex_base_url=vertex.base_url,
        credentials_file=str(adc_file),
        data_dir=tmp_path / "data",
        request_timeout_s=30,
    )


@pytest.fixture(params=[BACKEND_VERTEX, BACKEND_GEMINI_API])
def backend_settings(
    request: pytest.FixtureRequest, emulator_settings: Settings, vertex: VertexEmulator
) -> Settings:
    """The emulator's settings once per backend, as a user gives them: Vertex AI (a project and
    ADC), or the Gemini Developer API (only an API key, nothing of Google Cloud)."""
    if request.param == BACKEND_VERTEX:
        return emulator_settings
    return key_only(emulator_settings, vertex)


@pytest.fixture
def api_key_settings(emulator_settings: Settings, vertex: VertexEmulator) -> Settings:
    """Only a Gemini API key, at the emulator's Developer API paths."""
    return key_only(emulator_settings, vertex)


def key_only(settings: Settings, vertex: VertexEmulator) -> Settings:
    """`settings` as a user with only an API key gives them: nothing of Google Cloud, the key
    the emulator expects, its Developer API paths."""
    return dataclasses.replace(
        settings,
        project=None,
        vertex_base_url=None,
        credentials_file=None,
        gemini_api_key=vertex.api_key,
        gemini_base_url=vertex.base_url,
    )


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """One throwaway PostgreSQL 15 cluster for the session (tests/postgres.py); it fails, never
    skips, where PostgreSQL is not installed: `make test` installs it."""
    with postgres_cluster() as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url_for(
    request: pytest.FixtureRequest,
) -> Iterator[Callable[[str], str | None]]:
    """The backend a test runs on, as `database_url_for(name)`: None on SQLite (each store's
    file in its data folder), else the URL of a fresh PostgreSQL database for that name (the
    same name, the same database: a restart, or a second instance)."""
    cluster: PostgresCluster | None = (
        request.getfixturevalue("postgres") if request.param == "postgresql" else None
    )
    urls: dict[str, str] = {}

    def url_for(name: str) -> str | None:
        if cluster is None:
            return None
        return urls.get(name) or urls.setdefault(name, cluster.new_database())

    yield url_for
    if cluster is not None:
        for url in urls.values():
            cluster.drop_database(url)  # WITH (FORCE): a store left open does not hold it


@pytest.fixture
def store_opener(
    database_url_for: Callable[[str], str | None], tmp_path: Path
) -> Iterator[Callable[..., Store]]:
    """Opens run history stores on one backend: `open_at("main", price_of)`. The same name
    opens the same database again (a restart); each name is its own data folder and, on
    PostgreSQL, its own fresh database."""
    opened: list[Store] = []

    def open_at(name: str = "main", price_of: PriceOf | None = None) -> Store:
        url = database_url_for(name)
        store = open_store(tmp_path / name, price_of=price_of, database_url=url)
        opened.append(store)
        return store

    yield open_at
    for store in opened:
        store.close()


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def video_file(media_dir: Path) -> Path:
    return make_video(media_dir / "three-scenes.mp4")


@pytest.fixture(scope="session")
def image_file(media_dir: Path) -> Path:
    return make_image(media_dir / "orange.png")


@contextlib.contextmanager
def run_storage_emulator() -> Iterator[str]:
    """gcp-storage-emulator, in memory, in its own process on a free port; yields its base URL.

    A subprocess, not a thread: its memory and CPU are not the test's (the staging bench
    measures the uploader's RSS), and a hung emulator cannot hang the test process.
    """
    with socket.socket() as probe:  # a port the OS says is free right now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "gcp_storage_emulator", "start", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--in-memory", "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:  # ready in ~0.1 s (SDK-NOTES.md); "/" is its health check
            try:
                with urllib.request.urlopen(base_url + "/", timeout=1) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"gcp-storage-emulator did not start on {base_url}"
                    ) from None
                time.sleep(0.05)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def storage_emulator() -> Iterator[str]:
    """The base URL of a gcp-storage-emulator shared by the session (tests use own buckets)."""
    with run_storage_emulator() as base_url:
        yield base_url
