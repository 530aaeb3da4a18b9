"""A lab's results table and its exports: every cell, whole answers, nothing run as a formula."""

from __future__ import annotations

import csv
import io
import json

import pyarrow.parquet as pq

from reelscope.lab.grid import GridSpec, ModelColumn, VideoRow
from reelscope.lab.results import export_csv, export_json, export_parquet, result_rows
from reelscope.parameters import GenerationParams
from reelscope.store.labs import CellRow

SPEC = GridSpec(("A {video}", "B {video}"), (ModelColumn("m1", GenerationParams()),),
                (VideoRow("gs://l/a.mp4", "a.mp4"),))  # fmt: skip
LONG = "word " * 200
CELLS = [
    CellRow("r0-v1-m0", "run2", None, None, None, "failed", error='=HYPERLINK("http://x")'),
    CellRow("r0-v0-m0", "run1", None, None, 0.42, "completed", LONG, 10, 20, 5, 0.001, "STOP"),
]


def rows():
    return result_rows(SPEC, CELLS, model_name=lambda i: f"Model {i}")


def test_rows_come_in_the_grids_order_with_their_place_named():
    table = rows()
    assert [(r.cell, r.video, r.variant, r.model) for r in table] == [
        ("r0-v0-m0", "a.mp4", "A", "Model m1"),
        ("r0-v1-m0", "a.mp4", "B", "Model m1"),
    ]
    assert len(table[0].preview) <= 160 and table[0].preview.endswith("…")


def test_csv_keeps_whole_answers_and_runs_no_formula():
    read = list(csv.DictReader(io.StringIO(export_csv(rows()).decode())))
    assert read[0]["answer"] == LONG
    assert read[1]["error"].startswith("'=HYPERLINK")


def test_json_and_parquet_hold_every_cell():
    data = json.loads(export_json(rows(), SPEC))
    assert [c["cell"] for c in data["cells"]] == ["r0-v0-m0", "r0-v1-m0"]
    assert GridSpec.from_record(data["grid"]) == SPEC
    table = pq.read_table(io.BytesIO(export_parquet(rows())))
    assert table.column("answer").to_pylist()[0] == LONG
    assert table.column("ttft_s").to_pylist() == [0.42, None]
