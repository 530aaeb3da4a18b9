"""The History table: kept runs, searched and filtered in SQL one page at a time; picks runs.

Only one page of rows (PAGE_SIZE) is read and drawn, whatever the number of runs kept, so the
page opens as fast over 10,000 runs as over ten. The search box looks in prompts and answers
(FTS5); model, status and dates narrow it. Rows are picked in the table itself. "Mine" lists the
user's own runs (the default), "Team" everyone's, with an Owner column; the page keeps others'
runs read-only (`owned`).

What is picked is kept as run ids, not row numbers: when rows move (a run deleted or restored,
a new run listed at the top, another page of the table) the pick follows its runs, or is
dropped with them, and never slides onto a neighbour. Callbacks set it with `pick`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import streamlit as st

from components.common import kept, model_params, whose
from components.media import source_picker
from reelscope.costs import format_usd
from reelscope.library import MediaLibrary
from reelscope.runs import RunSpec
from reelscope.store import STATUSES, RunPage, RunQuery, Store
from reelscope.untrusted import safe_inline

PAGE_SIZE = 50
HISTORY_TABLE_KEY = "history"  # the History page's table, which the Running list opens runs in
ASK_PAGE = "pages/ask.py"
ASK_PROMPT_KEY = "ask.prompt"
ASK_PARAMS_KEY = "ask.params"
ASK_SOURCES_KEY = "ask.sources"


def show(key: str, store: Store, owner: str) -> list[str]:
    """The table with its filters, `owner`'s runs or the team's; the ids of the runs picked in
    it (in table order)."""
    query = _filters(key, store, owner)
    picked = _picked_before(key)
    page = store.runs.search(query)
    if not page.total:
        st.info(_nothing_listed(query), icon=":material/history:")
        _keep(key, [], [], [])
        return []
    _pager(key, page, query)
    shown = [row.id for row in page.rows]
    picked = [run_id for run_id in shown if run_id in picked]
    rows = [shown.index(run_id) for run_id in picked]
    if _rows(st.session_state.get(_table(key))) != rows:  # the pick's runs moved: follow them
        st.session_state[_table(key)] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    _keep(key, picked, shown, rows)
    st.dataframe(
        _columns(page, owner if query.owner is None else None),
        key=_table(key),
        on_select="rerun",
        selection_mode="multi-row",
        hide_index=True,
        width="stretch",
        placeholder="–",
        column_config={
            "Date (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
            "Cost": st.column_config.TextColumn(help="input and output, thinking included"),
            "Prompt": st.column_config.TextColumn(width="large"),
        },
    )
    return picked


def pick(key: str, run_ids: list[str]) -> None:
    """Pick these runs (from a callback: after a delete, none; after an undo, those restored)."""
    st.session_state[f"{key}.picked"] = list(run_ids)
    st.session_state[f"{key}.rows"] = _rows(st.session_state.get(_table(key)))


def on_screen(key: str) -> bool:
    """Whether the last finished script run of this session drew the table's filters.

    Streamlit forgets a widget's value at the end of a run that does not draw it, so this is
    False on a first visit and after a visit to another page, and True on every rerun of the
    page, whether the table itself was drawn or not (no run matches). The dates filter is
    drawn on every run of the page and is not persisted across pages, unlike the kept ones.
    """
    return f"{key}.dates" in st.session_state


def _table(key: str) -> str:
    return f"{key}.table"


def _rows(widget_value: Any) -> list[int]:
    if not widget_value:
        return []
    return sorted(widget_value["selection"]["rows"])


def _picked_before(key: str) -> list[str]:
    """The runs picked: the user's new pick in the table if they changed it since the last
    draw (read against the rows drawn then), else what was kept (also across page visits)."""
    state = st.session_state
    now = _rows(state.get(_table(key)))
    if _table(key) not in state or now == state.get(f"{key}.rows", []):
        return list(state.get(f"{key}.picked", []))
    shown = state.get(f"{key}.shown", [])
    return [shown[i] for i in now if i < len(shown)]


def _keep(key: str, picked: list[str], shown: list[str], rows: list[int]) -> None:
    state = st.session_state
    state[f"{key}.picked"], state[f"{key}.shown"], state[f"{key}.rows"] = picked, shown, rows


def _filters(key: str, store: Store, owner: str) -> RunQuery:
    team = whose.show(f"{key}.whose", "runs")
    text_col, model_col, status_col, date_col = st.columns([3, 2, 2, 2])
    text = text_col.text_input(
        "Search", placeholder="words in the prompt or the answer", **kept.bind(f"{key}.text", "")
    )
    models = model_col.multiselect("Model", store.runs.models(), **kept.bind(f"{key}.models", []))
    statuses = status_col.multiselect("Status", STATUSES, **kept.bind(f"{key}.statuses", []))
    dates = date_col.date_input("Dates (UTC)", value=(), key=f"{key}.dates")
    picked = list(dates) if isinstance(dates, tuple | list) else [dates]
    since, until = (*picked, None, None)[:2]
    page_number = int(st.session_state.get(f"{key}.page", 0))
    return RunQuery(
        text=text or "",
        models=tuple(models or ()),
        statuses=tuple(statuses or ()),
        since=since,
        until=until or since,
        limit=PAGE_SIZE,
        offset=page_number * PAGE_SIZE,
        owner=None if team else owner,
    )


def _pager(key: str, page: RunPage, query: RunQuery) -> None:
    first, last = query.offset + 1, query.offset + len(page.rows)
    if not page.rows:  # a filter shrank the list under the current page: back to the first
        st.session_state[f"{key}.page"] = 0
        st.rerun()
    info, previous, following = st.columns([6, 1, 1])
    info.caption(f"Runs {first:,}–{last:,} of {page.total:,}. Pick one to open, two to compare.")
    number = query.offset // PAGE_SIZE
    previous.button(
        "Newer", key=f"{key}.newer", disabled=number == 0, on_click=_turn, args=(key, -1),
        icon=":material/chevron_left:", width="stretch",
    )  # fmt: skip
    following.button(
        "Older", key=f"{key}.older", disabled=last >= page.total, on_click=_turn, args=(key, 1),
        icon=":material/chevron_right:", width="stretch",
    )  # fmt: skip


def _turn(key: str, step: int) -> None:
    st.session_state[f"{key}.page"] = max(0, int(st.session_state.get(f"{key}.page", 0)) + step)


def _nothing_listed(query: RunQuery) -> str:
    if _filtered(query):
        return "No runs match."
    said = "No runs yet: every run on the Ask page is kept here, with its answer, timings and cost."
    return said + (" Team lists your team's runs." if query.owner is not None else "")


def _filtered(query: RunQuery) -> bool:
    return bool(query.text or query.models or query.statuses or query.since)


def _columns(page: RunPage, team_of: str | None) -> dict[str, list]:
    """The table's columns; in the team view (`team_of`: the user) an Owner column too, as
    text (the grid renders no Markdown or HTML: an email is untrusted text)."""
    rows = page.rows
    owners = {"Owner": [whose.owner_label(r.owner, team_of) for r in rows]} if team_of else {}
    return {
        "Date (UTC)": [r.started_at.replace(tzinfo=None) for r in rows],
        "Model": [r.model_id for r in rows],
        "Prompt": [" ".join(r.prompt.split())[:160] for r in rows],
        "Status": [r.status + (" (imported)" if r.origin == "imported" else "") for r in rows],
        "Finish": [r.finish_reason or "" for r in rows],
        "Tokens": [r.total_tokens for r in rows],
        "Cost": [format_usd(r.cost_usd) for r in rows],  # as Ask and Side by side write it
        **owners,
    }


def load_into_ask(spec: RunSpec, library: MediaLibrary, owner: str) -> None:
    """Put a kept run's prompt, model, parameters and media back on the Ask page.

    Each component sets its own values: the prompt box's kept value, the parameter panel
    through `model_params.load`, and the source picker through `source_picker.add_sources`
    (each video with the clip it was sent with, from the media library; what the library no
    longer has is said on the Ask page, with what to do).
    """
    kept.put(ASK_PROMPT_KEY, spec.prompt)
    model_params.load(
        ASK_PARAMS_KEY, spec.model_id, dataclasses.replace(spec.params, stream=spec.stream)
    )
    with st.spinner("Reading the run's files…", show_time=True):  # from the bucket if need be
        found, missing = library.sources_again(
            spec.sources, owner=owner
        )  # a link kept again: theirs
    source_picker.add_sources(
        ASK_SOURCES_KEY, [source for source, _ in found], [clip for _, clip in found]
    )
    kept.say_once(f"{ASK_SOURCES_KEY}.notices", [safe_inline(line) for line in missing])


def date_label(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
