"""Before a grid is sent: each video checked against each model, and what the grid will cost.

Every cell goes through the same gate as Ask (`media_rules.check_for_model`); a cell the gate
refuses is shown with its reason and left out only when the user agrees. The cost is the
estimate of every cell's input (reelscope/estimate.py) plus an assumed answer length, priced
online and at the catalog's batch rates (reelscope/costs.py), so the two can be compared
before anything is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from reelscope.catalog import Catalog, Model
from reelscope.costs import TokenUse, batch_price, cost_of
from reelscope.lab.grid import Cell, GridSpec
from reelscope.media import MediaSource, SourceKind
from reelscope.media_rules import CheckedSources, check_for_model, estimate_sources
from reelscope.parameters import GenerationParams
from reelscope.settings import BACKEND_VERTEX

ASSUMED_OUTPUT_TOKENS = 1_000  # per cell, for the estimate: the answer's length is not known
BATCH_SUGGESTED_FROM = 200  # cells; from here on the page suggests a batch job
ONLINE = "online"
BATCH = "batch"


@dataclass(frozen=True)
class RowSource:
    """A row's media as the page found it, or why it could not be read."""

    source: MediaSource | None
    problem: str | None = None


@dataclass(frozen=True)
class PlannedCell:
    cell: Cell
    model: Model
    params: GenerationParams
    prompt: str
    checked: CheckedSources | None  # None when refused
    refusal: str | None
    input_tokens: int | None

    @property
    def runnable(self) -> bool:
        return self.checked is not None


@dataclass(frozen=True)
class Plan:
    """The grid's cells as they would be sent (`how`: online or batch), and their cost."""

    how: str
    cells: tuple[PlannedCell, ...]
    input_tokens: int
    output_tokens: int
    usd: float  # at the price of `how`, for the models that have one (`notes` names the rest)
    notes: tuple[str, ...]

    @property
    def runnable(self) -> list[PlannedCell]:
        return [c for c in self.cells if c.runnable]

    @property
    def refused(self) -> list[PlannedCell]:
        return [c for c in self.cells if not c.runnable]


def plan_grid(
    spec: GridSpec,
    rows: Sequence[RowSource],
    catalog: Catalog,
    *,
    how: str = ONLINE,
    bucket: str | None = None,
    today=None,
    backend: str = BACKEND_VERTEX,
) -> Plan:
    """Every cell of `spec` checked and estimated for sending `how` (online or batch)."""
    checks: dict[tuple[int, int], CheckedSources | str] = {}
    for r, row in enumerate(rows):
        for m, column in enumerate(spec.models):
            model = catalog.get(column.model_id)
            checks[r, m] = _check(row, model, catalog, how, bucket, today, backend)
    planned: list[PlannedCell] = []
    uncounted = 0
    for cell in spec.cells():
        column = spec.models[cell.model]
        model = catalog.get(column.model_id)
        prompt = spec.prompt_for(cell)
        check = checks[cell.row, cell.model]
        if isinstance(check, str):
            planned.append(PlannedCell(cell, model, column.params, prompt, None, check, None))
            continue
        estimate = estimate_sources(model, check.sources, prompt)
        planned.append(PlannedCell(cell, model, column.params, prompt, check, None, estimate.total))
        uncounted += bool(estimate.notes)
    plan = _priced(how, planned, backend)
    if uncounted:
        note = (
            f"{uncounted} cells have a video whose length is not known before Vertex AI reads "
            "it (a link, not an upload): their video is not in the estimate."
        )
        plan = replace(plan, notes=(*plan.notes, note))
    return plan


def _check(
    row: RowSource,
    model: Model,
    catalog: Catalog,
    how: str,
    bucket: str | None,
    today,
    backend: str,
) -> CheckedSources | str:
    if row.source is None:
        return row.problem or "This video could not be read."
    if today is not None and not model.is_callable(today, backend):
        return f"{model.name} is retired: pick a current model."
    source = row.source
    if how == BATCH and (source.kind is not SourceKind.GCS or not source.uri):
        return (
            "A batch job reads its videos from Cloud Storage, and this one has no copy "
            "there: run it online, or add it from a gs:// link."
        )
    checked = check_for_model([source], model, catalog.media, bucket=bucket, backend=backend)
    return checked if checked.ok else " ".join(checked.problems)


def _priced(how: str, cells: list[PlannedCell], backend: str) -> Plan:
    input_tokens = output_tokens = 0
    usd = 0.0
    notes: list[str] = []
    for cell in cells:
        if not cell.runnable or cell.input_tokens is None:
            continue
        output = min(ASSUMED_OUTPUT_TOKENS, cell.params.max_output_tokens or ASSUMED_OUTPUT_TOKENS)
        input_tokens += cell.input_tokens
        output_tokens += output
        online_price = cell.model.price_on(backend)
        price = online_price if how == ONLINE else batch_price(online_price)
        if price is None:
            note = f"No {how} price is known for {cell.model.name}: the total leaves it out."
            if note not in notes:
                notes.append(note)
            continue
        cost = cost_of(price, TokenUse(cell.input_tokens, output))
        usd += cost.total_usd if cost.total_usd is not None else cost.input_usd or 0.0
    return Plan(how, tuple(cells), input_tokens, output_tokens, usd, tuple(notes))
