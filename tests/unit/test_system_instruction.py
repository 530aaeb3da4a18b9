"""A system instruction is part of what a run asked: kept with it, read back, exported."""

from __future__ import annotations

import json

from reelscope.parameters import GenerationParams
from reelscope.runs import RunSpec
from reelscope.store.runs import spec_from_record

INSTRUCTION = "You are a sports analyst.\nAnswer in French."


def test_a_runs_record_keeps_its_system_instruction():
    spec = RunSpec(
        "gemini-3.5-flash", "Who scores?", GenerationParams(system_instruction=INSTRUCTION)
    )
    record = json.loads(json.dumps(spec.to_record()))  # as the store writes it
    assert spec_from_record(record).params.system_instruction == INSTRUCTION


def test_a_run_kept_before_system_instructions_reads_back_without_one():
    spec = RunSpec("gemini-3.5-flash", "Who scores?", GenerationParams())
    record = spec.to_record()
    del record["params"]["system_instruction"]
    assert spec_from_record(record).params.system_instruction == ""
