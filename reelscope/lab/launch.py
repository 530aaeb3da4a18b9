"""Starting a lab: the grid kept as one lab, then its cells sent online or as batch jobs.

Online, each cell is an ordinary run (Runs.start_generation, origin "lab") started by the
grid's `OnlineGrid` task when the shared `QuotaLimiter` gives it a slot; the cell points at its
run as it starts, and keeps its time to first token when it ends. As batch jobs, the cells go
through reelscope/lab/batch.py. Either way the lab is in the store before anything is sent.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from google.genai import Client, types

from reelscope.database import DATABASE_ERRORS
from reelscope.generation.runner import Target
from reelscope.lab.grid import GridSpec
from reelscope.lab.online import CellStart, OnlineGrid
from reelscope.lab.pacing import Pacer, QuotaLimiter
from reelscope.lab.plan import Plan, PlannedCell, RowSource
from reelscope.runs import Run, Runs
from reelscope.runs.run import SourceRef
from reelscope.store import Store
from reelscope.tasks import TaskRegistry

ORIGIN = "lab"
_LOGGER = logging.getLogger(__name__)


def new_lab(
    store: Store,
    spec: GridSpec,
    plan: Plan,
    rows: Sequence[RowSource],
    *,
    owner: str,
    cell_extra: Mapping[str, Any] | None = None,
) -> str:
    """Keep the grid as a new lab with every cell (refused ones with their reason); its id."""
    lab_id = uuid.uuid4().hex
    record = {
        **spec.to_record(),
        "row_sources": [asdict(SourceRef.of(r.source)) if r.source else None for r in rows],
        "cell_extra": dict(cell_extra or {}),
    }
    name = (
        spec.name.strip()
        or f"{len(spec.rows)} videos × {len(spec.variants)} variants × {len(spec.models)} models"
    )
    cells = [(c.cell.key, c.refusal) for c in plan.cells]
    store.labs.create(lab_id, owner=owner, name=name, how=plan.how, spec=record, cells=cells)
    return lab_id


def run_online(
    store: Store,
    runs: Runs,
    registry: TaskRegistry,
    client: Client,
    *,
    lab_id: str,
    cells: Sequence[PlannedCell],
    target: Target,
    owner: str,
    limiter: QuotaLimiter,
    response_schema: types.Schema | None = None,
    cell_extra: Mapping[str, Any] | None = None,
) -> OnlineGrid:
    """Send the runnable `cells` as runs, paced by `limiter`; the grid task that does it."""
    extra = dict(cell_extra or {})

    def starter(cell: PlannedCell):
        def start(pacer: Pacer) -> Run:
            assert cell.checked is not None
            return runs.start_generation(
                client, cell.model, cell.checked, cell.prompt, cell.params, target=target,
                owner=owner, origin=ORIGIN, response_schema=response_schema,
                extra={**extra, "lab": lab_id, "cell": cell.cell.key}, pacer=pacer,
            )  # fmt: skip

        return start

    def on_run(key: str, run: Run) -> None:  # its time to first token: the recorder keeps it
        try:
            store.labs.set_runs(lab_id, {key: run.id})
        except DATABASE_ERRORS:  # the run goes on and History keeps it; the grid goes on too
            _LOGGER.exception("Lab %s: cell %s could not be pointed at run %s", lab_id, key, run.id)

    starts = [CellStart(c.cell.key, c.model.id, starter(c)) for c in cells if c.runnable]
    grid = OnlineGrid(starts, limiter, owner=owner, label=f"Lab · {len(starts)} cells",
                      origin=ORIGIN, key=lab_id, on_run=on_run)  # fmt: skip
    registry.add(grid)
    grid.begin()
    return grid
