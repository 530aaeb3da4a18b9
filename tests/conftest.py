"""Shared fixtures: the local Vertex AI emulator, a throwaway ADC file, generated media."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reelscope.settings import Settings
from tests.media_files import make_image, make_video
from tests.vertex_emulator import VertexEmulator, write_static_adc

TEST_PROJECT = "test-project"


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


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def video_file(media_dir: Path) -> Path:
    return make_video(media_dir / "three-scenes.mp4")


@pytest.fixture(scope="session")
def image_file(media_dir: Path) -> Path:
    return make_image(media_dir / "orange.png")
