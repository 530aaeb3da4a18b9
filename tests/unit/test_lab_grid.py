"""The lab grid: its cells, their prompts, what keeps it from running, and its record."""

from __future__ import annotations

import pytest

from reelscope.lab.grid import (
    MAX_ROWS,
    Cell,
    GridError,
    GridSpec,
    ModelColumn,
    VideoRow,
    check_grid,
)
from reelscope.parameters import GenerationParams

FLASH = ModelColumn("gemini-2.5-flash", GenerationParams(temperature=0.2, stop_sequences=("END",)))
PRO = ModelColumn("gemini-2.5-pro", GenerationParams(max_output_tokens=512))
ROWS = (VideoRow("sha256:" + "a" * 64, "kitchen.mp4"), VideoRow("gs://b/v/dog.mp4", "dog.mp4"))


def grid(**changes) -> GridSpec:
    fields = {"variants": ("Describe {video} for {audience}.", "List objects in {video}."),
              "models": (FLASH, PRO), "rows": ROWS, "values": {"audience": "kids"}}  # fmt: skip
    return GridSpec(**{**fields, **changes})


def test_every_cell_is_a_row_variant_model_triple_in_the_grids_order():
    cells = grid().cells()
    assert len(cells) == 2 * 2 * 2
    assert [c.key for c in cells[:4]] == ["r0-v0-m0", "r0-v0-m1", "r0-v1-m0", "r0-v1-m1"]
    assert all(Cell.of(c.key) == c for c in cells)


def test_a_cells_prompt_has_the_values_and_its_rows_name_filled_in():
    spec = grid()
    assert spec.prompt_for(Cell(1, 0, 1)) == "Describe dog.mp4 for kids."
    assert spec.prompt_for(Cell(0, 1, 0)) == "List objects in kitchen.mp4."


def test_the_rows_own_variable_is_not_asked_of_the_user():
    assert grid().variables() == ("audience",)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, []),
        ({"variants": ()}, ["Write the prompt first"]),
        ({"variants": ("a", "  ")}, ["A variant is empty"]),
        ({"variants": ("a",) * 5}, ["at most 4 variants"]),
        ({"models": ()}, ["Pick at least one model"]),
        ({"models": (FLASH,) * 5}, ["at most 4 models"]),
        ({"rows": ()}, ["Add videos"]),
        ({"rows": ROWS * (MAX_ROWS // 2 + 1)}, [f"at most {MAX_ROWS} videos"]),
        ({"values": {}}, ["Fill in {audience}"]),
        ({"values": {"audience": "   "}}, ["Fill in {audience}"]),
    ],
)
def test_what_keeps_a_grid_from_running_is_said_with_its_fix(changes, expected):
    problems = check_grid(grid(**changes))
    assert len(problems) == len(expected)
    for problem, words in zip(problems, expected, strict=True):
        assert words in problem


def test_a_literal_brace_and_json_stay_as_written():
    spec = grid(variants=('Answer as {"time": "MM:SS"} for {video}',), values={})
    assert check_grid(spec) == []
    assert spec.prompt_for(Cell(0, 0, 0)) == 'Answer as {"time": "MM:SS"} for kitchen.mp4'


def test_the_record_gives_back_the_same_grid():
    spec = grid(mode_id="chapters", name="Nov shots")
    assert GridSpec.from_record(spec.to_record()) == spec


def test_a_key_that_is_no_cell_is_refused():
    with pytest.raises(GridError):
        Cell.of("row1")
