"""Fixtures the contract tests share: a google-genai client on the emulator, and runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.genai import Client

from reelscope.runs import Runs
from reelscope.tasks import TaskRegistry
from reelscope.vertex import make_genai_client


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
