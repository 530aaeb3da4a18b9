"""Runs: a generation as a core object, driven by a worker apart from the Streamlit script."""

from reelscope.runs.run import Run, RunSpec, SourceRef
from reelscope.runs.service import Runs
from reelscope.runs.worker import worker

__all__ = ["Run", "RunSpec", "Runs", "SourceRef", "worker"]
