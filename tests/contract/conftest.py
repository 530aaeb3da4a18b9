"""Fixtures the contract tests share: a google-genai client on the emulator, runs, and the
storage and pace batch jobs need."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from google.genai import Client

from reelscope.runs import Runs
from reelscope.settings import Settings
from reelscope.tasks import TaskRegistry
from reelscope.vertex import make_genai_client
from tests.vertex_emulator import BatchPace, VertexEmulator

BRISK = BatchPace(queued_s=0.1, pending_s=0.1, running_s=0.3)  # a batch job in half a second


@pytest.fixture
def client(emulator_settings) -> Client:
    """google-genai on Vertex AI, at the emulator (a test file may narrow or widen it)."""
    return make_genai_client(emulator_settings)


@pytest.fixture
def runs() -> Iterator[Runs]:
    """A session's runs, held for the test as Streamlit's session state holds them."""
    owner = Runs(TaskRegistry())
    yield owner
    owner.stop_all()


@pytest.fixture
def storage_settings(emulator_settings: Settings, storage_emulator: str) -> Settings:
    """Vertex AI and Cloud Storage, both at their emulators."""
    return dataclasses.replace(emulator_settings, storage_emulator_host=storage_emulator)


@pytest.fixture
def batch_vertex(vertex: VertexEmulator, storage_emulator: str) -> VertexEmulator:
    """The emulator running batch jobs briskly, reading and writing the storage emulator."""
    vertex.use_storage(storage_emulator)
    vertex.set_batch_pace(BRISK)
    return vertex
