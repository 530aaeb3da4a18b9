"""A lab's results: the grid (videos × columns), the table of cells with sorting, filtering
and selection, what can be done to the selected cells, two cells compared, and the exports.

Cells that stream show their answer as it grows (the live run's text); everything else is what
the store kept (reelscope/store/labs.py joins each cell's run). Model text appears only in
dataframe cells (rendered as plain text) and through reelscope/untrusted.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import streamlit as st

from components.common import kept
from components.history import history_table, run_compare
from reelscope.costs import format_usd
from reelscope.lab.grid import Cell, GridSpec
from reelscope.lab.online import OnlineGrid
from reelscope.lab.results import (
    ResultRow,
    export_csv,
    export_json,
    export_parquet,
    result_rows,
    to_columns,
)
from reelscope.runs import Runs
from reelscope.store import Store, StoredRun
from reelscope.store.labs import NOT_RUN, LabRow

STOPPABLE = ("queued", "running")
RERUNNABLE = ("failed", "stopped", "interrupted", NOT_RUN)


@dataclass(frozen=True)
class Actions:
    """What the user asked of the cells, for the page to do."""

    stop: tuple[str, ...] = ()
    rerun: tuple[str, ...] = ()


def show(
    key: str,
    store: Store,
    lab: LabRow,
    grid: OnlineGrid | None,
    runs: Runs,
    model_name: Callable[[str], str],
    open_on_chapters: Callable[[StoredRun], bool] | None = None,
) -> Actions:
    """The results of `lab` (with its online grid while it runs); what to stop or re-run.
    `open_on_chapters`: for a lab whose cells are an analysis mode, opens one there."""
    spec = GridSpec.from_record(lab.spec)
    rows = _live(result_rows(spec, store.labs.cells(lab.id), model_name), grid, runs)
    _summary(rows)
    _grid(key, spec, rows)
    shown = _filtered(key, rows)
    picked = _table(key, shown)
    actions = _actions(key, spec, rows, picked, grid)
    _open_or_compare(key, store, picked, open_on_chapters)
    _compare_columns(key, store, spec, rows)
    _exports(key, lab, spec, rows)
    return actions


def _live(rows: list[ResultRow], grid: OnlineGrid | None, runs: Runs) -> list[ResultRow]:
    """Queued cells as queued, streaming cells with their answer so far."""
    live = []
    in_grid = grid.cells() if grid is not None else {}
    for row in rows:
        cell = in_grid.get(row.cell)
        no_run = cell is not None and row.run_id is None and row.status == NOT_RUN
        if no_run and (cell.state in ("queued", "stopped") or cell.error):  # none yet, or ever
            row = replace(row, status=str(cell.state), error=cell.error or row.error)
        run = runs.get(row.run_id) if row.status == "running" else None
        if run is not None:
            now = run.state()
            row = replace(row, answer=now.text, ttft_s=now.time_to_first_token)
        live.append(row)
    return live


def _summary(rows: list[ResultRow]) -> None:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    cost = sum(r.cost_usd or 0.0 for r in rows)
    parts = [f"{n} {status}" for status, n in sorted(counts.items())]
    st.markdown(f"**{len(rows)} cells** · {' · '.join(parts)} · cost so far {format_usd(cost)}")


def _grid(key: str, spec: GridSpec, rows: list[ResultRow]) -> None:
    """Videos down, (variant, model) across: each cell's status and the start of its answer."""
    columns: dict[str, list[str]] = {"Video": [r.label for r in spec.rows]}
    by_cell = {row.cell: row for row in rows}
    for cell in spec.cells():
        name = f"{row_variant(cell)} · {by_cell[cell.key].model if cell.key in by_cell else ''}"
        columns.setdefault(name, [""] * len(spec.rows))
        row = by_cell.get(cell.key)
        if row is not None:
            text = row.preview if row.answer else (row.error or "")
            columns[name][cell.row] = f"{row.status}: {text}" if text else row.status
    st.dataframe(columns, hide_index=True, width="stretch", key=f"{key}.grid",
                 placeholder="–")  # fmt: skip


def row_variant(cell: Cell) -> str:
    return "ABCD"[cell.variant]


def _filtered(key: str, rows: list[ResultRow]) -> list[ResultRow]:
    statuses = sorted({r.status for r in rows})
    left, right = st.columns([1, 2])
    wanted = left.multiselect("Status", statuses, **kept.bind(f"{key}.status", []))
    words = right.text_input(
        "Find in answers and errors", **kept.bind(f"{key}.find", ""), placeholder="a word…"
    )
    shown = [r for r in rows if not wanted or r.status in wanted]
    if words.strip():
        needle = words.strip().lower()
        shown = [r for r in shown if needle in f"{r.answer}\n{r.error or ''}".lower()]
    return shown


def _table(key: str, rows: list[ResultRow]) -> list[ResultRow]:
    """The cells as a sortable table; the rows the user selected."""
    columns = to_columns(rows, whole_answer=False)
    table = {
        "Video": columns.get("video", []),
        "Variant": columns.get("variant", []),
        "Model": columns.get("model", []),
        "Status": columns.get("status", []),
        "Answer": columns.get("answer", []),
        "TTFT (s)": [round(t, 2) if t is not None else None for t in columns.get("ttft_s", [])],
        "In": columns.get("input_tokens", []),
        "Out": columns.get("output_tokens", []),
        "Thinking": columns.get("thinking_tokens", []),
        "Cost": [format_usd(c) if c is not None else None for c in columns.get("cost_usd", [])],
        "Finish": columns.get("finish", []),
        "Error": columns.get("error", []),
    }
    event = st.dataframe(
        table,
        key=f"{key}.table",
        on_select="rerun",
        selection_mode="multi-row",
        hide_index=True,
        width="stretch",
        placeholder="–",
        column_config={"Answer": st.column_config.TextColumn(width="large")},
    )
    picked = event.selection.rows if event is not None else []
    return [rows[i] for i in picked if i < len(rows)]


def _actions(
    key: str,
    spec: GridSpec,
    rows: list[ResultRow],
    picked: list[ResultRow],
    grid: OnlineGrid | None,
) -> Actions:
    live = [r.cell for r in rows if r.status in STOPPABLE]
    failed = [r.cell for r in rows if r.status in RERUNNABLE]
    bar = st.container(horizontal=True)
    stop_picked = bar.button(
        f"Stop selected ({sum(r.status in STOPPABLE for r in picked)})",
        key=f"{key}.stop_picked",
        disabled=not any(r.status in STOPPABLE for r in picked),
        icon=":material/stop_circle:",
    )
    stop_all = bar.button(
        "Stop all", key=f"{key}.stop_all", disabled=not live, icon=":material/stop_circle:"
    )
    rerun = bar.button(
        f"Re-run failed ({len(failed)})",
        key=f"{key}.rerun",
        disabled=not failed or bool(live),
        help="Failed, stopped and never-sent cells are sent again online, as new runs.",
        icon=":material/replay:",
    )
    rerun_picked = bar.button(
        f"Re-run selected ({len(picked)})",
        key=f"{key}.rerun_picked",
        disabled=not picked or bool(live),
        icon=":material/replay:",
    )
    stop_some = _stop_row_or_column(key, spec, rows, live)
    if stop_picked:
        return Actions(stop=tuple(r.cell for r in picked if r.status in STOPPABLE))
    if stop_all:
        return Actions(stop=tuple(live))
    if stop_some:
        return Actions(stop=stop_some)
    if rerun:
        return Actions(rerun=tuple(failed))
    if rerun_picked:
        return Actions(rerun=tuple(r.cell for r in picked))
    return Actions()


def _stop_row_or_column(
    key: str, spec: GridSpec, rows: list[ResultRow], live: list[str]
) -> tuple[str, ...]:
    if not live:
        return ()
    by_cell = {r.cell: r for r in rows}
    choices = {f"Row: {r.label}": ("row", i) for i, r in enumerate(spec.rows)}
    for cell in spec.cells():
        row = by_cell.get(cell.key)
        if row is not None:
            choices.setdefault(f"Column: {row.variant} · {row.model}",
                               ("column", (cell.variant, cell.model)))  # fmt: skip
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    choice = left.selectbox("Stop a row or a column", list(choices), key=f"{key}.which")
    if not right.button("Stop them", key=f"{key}.stop_some", disabled=choice is None):
        return ()
    what, which = choices[choice]
    cells = [Cell.of(k) for k in live]
    if what == "row":
        return tuple(c.key for c in cells if c.row == which)
    return tuple(c.key for c in cells if (c.variant, c.model) == which)


def _open_or_compare(
    key: str,
    store: Store,
    picked: list[ResultRow],
    open_on_chapters: Callable[[StoredRun], bool] | None,
) -> None:
    ids = [r.run_id for r in picked if r.run_id and r.status not in STOPPABLE]
    bar = st.container(horizontal=True)
    if bar.button(
        "Open in History", key=f"{key}.open", disabled=len(ids) != 1, icon=":material/history:",
        help="Select one cell: its run opens in History (replay, export, open in Ask).",
    ):  # fmt: skip
        history_table.pick(history_table.HISTORY_TABLE_KEY, ids)
        st.switch_page("pages/history.py")
    if open_on_chapters is not None and bar.button(
        "Open on Chapters", key=f"{key}.chapters", disabled=len(ids) != 1,
        icon=":material/timeline:", help="Select one cell: it opens on Chapters with its player.",
    ):  # fmt: skip
        kept_run = store.runs.get(ids[0])
        if kept_run is not None and open_on_chapters(kept_run):
            st.switch_page("pages/chapters.py")
        st.error("That cell's video is no longer in the library: add it again to play it.")
    compare = bar.toggle("Compare the two selected", key=f"{key}.compare", disabled=len(ids) != 2)
    if compare and len(ids) == 2:
        kept_runs = [store.runs.get(run_id) for run_id in ids]
        if all(kept_runs):
            run_compare.show(f"{key}.diff", kept_runs)


def _compare_columns(key: str, store: Store, spec: GridSpec, rows: list[ResultRow]) -> None:
    """Two columns of the grid, one video at a time, their answers word by word."""
    columns = {f"{r.variant} · {r.model}": Cell.of(r.cell) for r in rows}
    if len(columns) < 2:
        return
    with st.expander("Compare two columns", icon=":material/compare:"):
        names = list(columns)
        left, right, video = st.columns(3)
        first = left.selectbox("Column", names, index=0, key=f"{key}.col_a")
        second = right.selectbox("Against", names, index=1, key=f"{key}.col_b")
        videos = [r.label for r in spec.rows]
        row = video.selectbox("Video", range(len(videos)), format_func=videos.__getitem__,
                              key=f"{key}.col_row")  # fmt: skip
        by_cell = {r.cell: r for r in rows}
        picked = []
        for name in (first, second):
            cell = columns[name]
            found = by_cell.get(Cell(row, cell.variant, cell.model).key)
            picked.append(store.runs.get(found.run_id) if found and found.run_id else None)
        if first == second:
            st.caption("Pick two different columns.")
        elif all(picked):
            run_compare.show(f"{key}.col_diff", picked)
        else:
            st.caption("One of these cells has no answer yet.")


def _exports(key: str, lab: LabRow, spec: GridSpec, rows: list[ResultRow]) -> None:
    stem = "lab-" + lab.created_at.strftime("%Y%m%d-%H%M%S")
    bar = st.container(horizontal=True)
    for label, make, suffix, mime in (
        ("CSV", lambda: export_csv(rows), "csv", "text/csv"),
        ("JSON", lambda: export_json(rows, spec), "json", "application/json"),
        ("Parquet", lambda: export_parquet(rows), "parquet", "application/vnd.apache.parquet"),
    ):
        bar.download_button(
            label, make, file_name=f"{stem}.{suffix}", mime=mime, key=f"{key}.{suffix}",
            icon=":material/download:", on_click="ignore",
        )  # fmt: skip
