"""A lab's results as one table: a row per cell, and its exports (CSV, Parquet, JSON).

Each row is a cell with what its run kept (reelscope/store/labs.py joins the runs): the video,
the variant and the model it belongs to, its status, the answer (a preview in the table, whole
in the exports), time to first token for online cells, tokens, cost and finish reason, or its
error. The answers are model text: the page shows them through reelscope/untrusted.py, and the
exports write them as data, never as markup.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from reelscope.lab.grid import VARIANT_NAMES, Cell, GridSpec
from reelscope.store.labs import CellRow

PREVIEW_CHARS = 160


@dataclass(frozen=True)
class ResultRow:
    cell: str
    video: str
    variant: str
    model: str
    status: str
    answer: str
    ttft_s: float | None
    input_tokens: int | None
    output_tokens: int | None
    thinking_tokens: int | None
    cost_usd: float | None
    finish: str | None
    error: str | None
    run_id: str | None

    @property
    def preview(self) -> str:
        text = " ".join(self.answer.split())
        return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def result_rows(
    spec: GridSpec, cells: Sequence[CellRow], model_name: Callable[[str], str]
) -> list[ResultRow]:
    """The table's rows in the grid's order (row, variant, model)."""
    rows = []
    for stored in cells:
        cell = Cell.of(stored.key)
        rows.append(
            ResultRow(
                cell=stored.key,
                video=spec.rows[cell.row].label,
                variant=VARIANT_NAMES[cell.variant],
                model=model_name(spec.models[cell.model].model_id),
                status=stored.status,
                answer=stored.output_text,
                ttft_s=stored.ttft_s,
                input_tokens=stored.prompt_tokens,
                output_tokens=stored.output_tokens,
                thinking_tokens=stored.thinking_tokens,
                cost_usd=stored.cost_usd,
                finish=stored.finish_reason,
                error=stored.refusal or stored.error,
                run_id=stored.run_id,
            )
        )
    order = {c.key: i for i, c in enumerate(spec.cells())}
    return sorted(rows, key=lambda r: order.get(r.cell, len(order)))


def to_columns(rows: Sequence[ResultRow], *, whole_answer: bool) -> dict[str, list]:
    """Column name → values, as a dataframe or an export takes them."""
    columns: dict[str, list] = {}
    for row in rows:
        record = asdict(row)
        if not whole_answer:
            record["answer"] = row.preview
        for name, value in record.items():
            columns.setdefault(name, []).append(value)
    return columns


def export_csv(rows: Sequence[ResultRow]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(ResultRow.__dataclass_fields__))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_safe(v) for k, v in asdict(row).items()})
    return out.getvalue().encode("utf-8")


def export_json(rows: Sequence[ResultRow], spec: GridSpec) -> bytes:
    return json.dumps(
        {"grid": spec.to_record(), "cells": [asdict(r) for r in rows]}, ensure_ascii=False, indent=1
    ).encode("utf-8")


def export_parquet(rows: Sequence[ResultRow]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(to_columns(rows, whole_answer=True))
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


def _csv_safe(value: object) -> object:
    """A model's answer opened in a spreadsheet must not run as a formula (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
