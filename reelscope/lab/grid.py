"""A lab grid: prompt variants × models over rows of videos, and the cells that make it.

A grid is what a team decides with: one prompt in up to four wordings (variants), up to four
models each with its own parameters, and a row per video. Each (row, variant, model) is a cell:
one run. A cell's key names its place (`r2-v1-m0`), so results, stops and re-runs find it
again whatever order the work finished in; the key is also a batch row's label.

The grid is frozen: changing anything makes a new grid, so a kept lab always says exactly what
was sent. Prompts take `{variables}` (reelscope/prompts.py); `{video}` is each row's name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from reelscope.parameters import GenerationParams
from reelscope.prompts import fill
from reelscope.store.prompts import parse_variables

MAX_VARIANTS = 4
MAX_MODELS = 4
MAX_ROWS = 60  # the page says so; a larger library goes to the grid in parts
ROW_VARIABLE = "video"  # filled with each row's name
_CELL_KEY = re.compile(r"^r(\d+)-v(\d+)-m(\d+)$")
VARIANT_NAMES = "ABCD"


class GridError(ValueError):
    """The grid cannot be run as defined; the message says what to change."""


@dataclass(frozen=True)
class ModelColumn:
    """One model of the grid with the parameters its cells use."""

    model_id: str
    params: GenerationParams


@dataclass(frozen=True)
class VideoRow:
    """One row: a library item (its key) or a Cloud Storage object (its gs:// URI)."""

    key: str
    label: str


@dataclass(frozen=True)
class Cell:
    row: int
    variant: int
    model: int

    @property
    def key(self) -> str:
        return f"r{self.row}-v{self.variant}-m{self.model}"

    @classmethod
    def of(cls, key: str) -> Cell:
        match = _CELL_KEY.match(key)
        if match is None:
            raise GridError(f"{key!r} is not a cell of a grid.")
        return cls(*map(int, match.groups()))


@dataclass(frozen=True)
class GridSpec:
    """Everything a grid sends: its variants, variable values, models, rows and answer mode."""

    variants: tuple[str, ...]
    models: tuple[ModelColumn, ...]
    rows: tuple[VideoRow, ...]
    values: Mapping[str, str] = field(default_factory=dict)
    mode_id: str | None = None  # an analysis mode: its schema goes with every cell's request
    name: str = ""

    def cells(self) -> list[Cell]:
        """Every cell, row by row, then variant, then model (the order the grid shows)."""
        return [
            Cell(r, v, m)
            for r in range(len(self.rows))
            for v in range(len(self.variants))
            for m in range(len(self.models))
        ]

    def variables(self) -> tuple[str, ...]:
        """The variables the user fills in: every variant's, except the row's own."""
        names: list[str] = []
        for variant in self.variants:
            names += [n for n in parse_variables(variant) if n != ROW_VARIABLE and n not in names]
        return tuple(names)

    def prompt_for(self, cell: Cell) -> str:
        """The cell's prompt as sent: its variant with the values and the row's name filled in."""
        values = {**self.values, ROW_VARIABLE: self.rows[cell.row].label}
        return fill(self.variants[cell.variant], values)

    def column_label(self, variant: int, model_name: str) -> str:
        """ "A · Gemini 2.5 Flash": a column is a (variant, model) pair."""
        return f"{VARIANT_NAMES[variant]} · {model_name}"

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        for column in record["models"]:
            column["params"]["stop_sequences"] = list(column["params"]["stop_sequences"])
        record["values"] = dict(self.values)
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> GridSpec:
        names = {f.name for f in fields(GenerationParams)}

        def params(raw: Mapping[str, Any]) -> GenerationParams:
            kept = {k: v for k, v in raw.items() if k in names}
            kept["stop_sequences"] = tuple(kept.get("stop_sequences") or ())
            kept["safety"] = dict(kept.get("safety") or {})
            return GenerationParams(**kept)

        return cls(
            variants=tuple(record["variants"]),
            models=tuple(ModelColumn(m["model_id"], params(m["params"])) for m in record["models"]),
            rows=tuple(VideoRow(r["key"], r["label"]) for r in record["rows"]),
            values=dict(record.get("values") or {}),
            mode_id=record.get("mode_id"),
            name=str(record.get("name") or ""),
        )


def check_grid(spec: GridSpec) -> list[str]:
    """What keeps the grid from running, each with its fix; empty when it can run."""
    problems: list[str] = []
    variants = [v for v in spec.variants if v.strip()]
    if not variants:
        problems.append("Write the prompt first (at least one variant).")
    if len(spec.variants) > MAX_VARIANTS:
        problems.append(f"A grid takes at most {MAX_VARIANTS} variants: remove some.")
    if variants and len(variants) < len(spec.variants):
        problems.append("A variant is empty: write it or remove it.")
    if not spec.models:
        problems.append("Pick at least one model.")
    if len(spec.models) > MAX_MODELS:
        problems.append(f"A grid takes at most {MAX_MODELS} models: remove some.")
    if not spec.rows:
        problems.append("Add videos: from the library or a gs:// prefix.")
    if len(spec.rows) > MAX_ROWS:
        problems.append(
            f"A grid takes at most {MAX_ROWS} videos; this one has {len(spec.rows)}: "
            "narrow the prefix or pick fewer."
        )
    missing = [n for n in spec.variables() if not str(spec.values.get(n, "")).strip()]
    if missing:
        names = ", ".join("{" + n + "}" for n in missing)
        problems.append(f"Fill in {names}: every cell's prompt uses it.")
    return problems


def cell_keys(cells: Sequence[Cell]) -> list[str]:
    return [cell.key for cell in cells]
