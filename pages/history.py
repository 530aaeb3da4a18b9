"""History: every kept run, searched, opened as it was shown, re-run, compared, replayed.

The user's own runs by default, the team's on a switch: others' runs open, replay, compare,
export and go to Ask like one's own, but only their owner deletes them (the store refuses)."""

from __future__ import annotations

import streamlit as st

from components.common import app_frame, resources, run_view, whose
from components.history import history_table, run_compare, undo_notice
from components.lab.current import open_lab
from reelscope.database import DATABASE_ERRORS, explain
from reelscope.runs import Run
from reelscope.runs.replay import SPEEDS, replay_info, start_replay
from reelscope.settings import BACKEND_NAMES
from reelscope.store import StoredRun, app_version
from reelscope.store.transfer import (
    ImportRefused,
    export_comparison_json,
    export_comparison_markdown,
    export_json,
    export_markdown,
    import_json,
)
from reelscope.untrusted import safe_inline, safe_markdown

app_frame.run_through_entrypoint()

TABLE_KEY = history_table.HISTORY_TABLE_KEY
DELETED_KEY = "history.deleted"  # the session's pending deletes, undoable until the page is left
REPLAY_KEY = "history.replay_id"
VIEW_KEY = "history-run"
REFUSED_KEY = "history.refused"
READ_ONLY = "Only a run's owner can delete it: your team's runs are read-only here."

st.title("History")
try:
    store = resources.store(resources.settings().data_dir)
except (OSError, RuntimeError, *DATABASE_ERRORS) as problem:
    st.error(
        f"Run history is unavailable: {safe_inline(explain(problem))}", icon=":material/error:"
    )
    st.stop()
if store.moved_aside is not None:
    st.warning(
        f"The history file could not be read, so it was moved aside as "
        f"`{store.moved_aside.name}` (in the data folder) and a new one started. Nothing was "
        "deleted: keep that file to recover it with sqlite3, or remove it.",
        icon=":material/warning:",
    )

owner = resources.owner()
deletes = undo_notice.pending(DELETED_KEY, store, owner)
if not history_table.on_screen(TABLE_KEY):  # a first visit, or back from another page
    deletes.finish()  # deletes left undone there are final


def delete(ids: list[str]) -> None:
    """Hide the runs (undoable), and pick nothing: the next row is not picked in their place."""
    refused = deletes.delete(ids).refused
    history_table.pick(TABLE_KEY, [])
    st.session_state.pop(REPLAY_KEY, None)
    if refused:  # listed as the user's when drawn, another's by the click (an import elsewhere)
        st.session_state[REFUSED_KEY] = len(refused)


def restored(ids: list[str]) -> None:
    history_table.pick(TABLE_KEY, ids)  # what came back is what the user sees opened


with st.expander("Import a run", icon=":material/upload:"):
    uploaded = st.file_uploader("A run exported as JSON", type=["json"], key="history.import")
    if uploaded is not None and st.button("Import", key="history.import_go"):
        try:
            result = import_json(store.runs, uploaded.getvalue(), app_version(), owner=owner)
            deletes.forget(run.id for run in result.restored)
            st.success(result.summary())
        except ImportRefused as refused:  # its message may quote the file
            st.error(safe_inline(str(refused)), icon=":material/block:")

undo_notice.show(DELETED_KEY, store, owner, on_restore=restored)
if refused_count := st.session_state.pop(REFUSED_KEY, 0):
    st.error(f"{refused_count} of the runs picked stayed. {READ_ONLY}", icon=":material/block:")
picked = history_table.show(TABLE_KEY, store, owner)
runs = [run for run in map(store.runs.get, picked) if run is not None]
yours = whose.all_mine(runs, owner)
replay = resources.runs().get(st.session_state.get(REPLAY_KEY))


def actions(run: StoredRun) -> None:
    ask, speed_col, play, json_col, md_col, remove = st.columns([2, 2, 2, 2, 2, 1])
    if ask.button("Open in Ask", key="history.rerun", icon=":material/edit:"):
        history_table.load_into_ask(run.spec, resources.library(), owner)
        st.switch_page("pages/ask.py")
    speed = speed_col.segmented_control(
        "Speed", SPEEDS, default=1.0, format_func=lambda s: f"{s:g}×", key="history.speed",
        label_visibility="collapsed",
    )  # fmt: skip
    if play.button("Replay", key="history.replay", icon=":material/replay:", type="primary"):
        replayed = start_replay(
            resources.runs(), run.spec, run.events,
            original_id=run.id, started_at=run.started_at, speed=speed or 1.0,
        )  # fmt: skip
        st.session_state[REPLAY_KEY] = replayed.id
        st.rerun()
    name = f"reelscope-run-{run.started_at:%Y%m%d-%H%M%S}-{run.id[:8]}"
    json_col.download_button(
        "Download JSON", export_json(run, app_version()), f"{name}.json", "application/json",
        key="history.json", icon=":material/download:",
    )  # fmt: skip
    md_col.download_button(
        "Download Markdown", export_markdown(run), f"{name}.md", "text/markdown",
        key="history.md", icon=":material/download:",
    )  # fmt: skip
    if yours:
        remove.button("Delete", key="history.delete", on_click=delete, args=([run.id],))


def as_run(stored: StoredRun) -> Run:
    """The kept events folded into a finished Run, so the Ask page's view draws it as it was
    (a run the server stopped mid-stream ends as interrupted: its worker is gone)."""
    run = Run(stored.spec, run_id=stored.id)
    for event in stored.shown_events():
        run.append(event)
    return run


def show_kept(stored: StoredRun) -> None:
    """The detail's answer: followed live if this session runs it, else as it was kept."""
    limit = stored.spec.params.max_output_tokens
    live = resources.runs().get(stored.id)
    if live is not None:
        run_view.show(VIEW_KEY, live, limit)
    elif stored.status == "running":  # another session's live run: what has been kept so far
        where = "in another tab" if stored.instance == store.instance else "on another instance"
        st.info(
            f"This run is still going {where}. What has arrived so far is shown: "
            "open it again to see more.",
            icon=":material/hourglass_top:",
        )
        st.markdown(safe_markdown(stored.state().text))
    else:
        run_view.show(VIEW_KEY, as_run(stored), limit)


if len(runs) == 1:
    run = runs[0]
    st.subheader(safe_inline(f"{run.model_id} · {history_table.date_label(run.started_at)}"))
    st.markdown("> " + (safe_inline(run.spec.prompt[:600]) or "(no prompt)"))
    if run.spec.sources:
        sources = ", ".join(f"{s.label} ({s.uri or 'upload'})" for s in run.spec.sources)
        st.caption(safe_inline(f"Sources: {sources}"))
    if run.spec.params.system_instruction:
        st.caption("System instructions: " + safe_inline(run.spec.params.system_instruction))
    if (answered_by := run.spec.extra.get("backend")) in BACKEND_NAMES:  # kept since issue 17
        st.caption(f"Answered by {BACKEND_NAMES[answered_by]}.")
    if lab_id := run.spec.extra.get("lab"):
        note, go = st.columns([5, 1], vertical_alignment="center")
        note.caption(f"A cell of a lab ({safe_inline(str(run.spec.extra.get('cell', '')))}).")
        if go.button("Open its lab", key="history.lab", icon=":material/grid_on:"):
            open_lab(str(lab_id))
    actions(run)
elif len(runs) == 2:
    run_compare.show("history.compare", runs)
    table = run_compare.differences_markdown(runs[0].spec, runs[1].spec)
    json_col, md_col, remove = st.columns([2, 2, 1])
    json_col.download_button(
        "Download comparison (JSON)", export_comparison_json(runs, app_version()),
        "reelscope-comparison.json", "application/json", key="history.cmp_json",
    )  # fmt: skip
    md_col.download_button(
        "Download comparison (Markdown)", export_comparison_markdown(runs, table),
        "reelscope-comparison.md", "text/markdown", key="history.cmp_md",
    )  # fmt: skip
    if yours:
        remove.button("Delete both", key="history.delete2", on_click=delete, args=(picked,))
elif len(runs) > 2:
    remove_note, remove = st.columns([6, 1])
    remove_note.caption("Pick one run to open it, or two to compare them.")
    if yours:
        remove.button(
            f"Delete {len(runs)}", key="history.delete_n", on_click=delete, args=(picked,)
        )
if runs and not yours:
    st.caption(READ_ONLY)

info = replay_info(replay) if replay is not None else None
if info is not None and (not runs or info["original_id"] == runs[0].id):
    st.info(
        f"**Replay** of a run from {history_table.date_label(info['original_started_at'])} "
        f"with {safe_inline(str(info['model_id']))}, at {info['speed']:g}× its recorded pace. "
        "Nothing is sent to Vertex AI or the Gemini Developer API.",
        icon=":material/replay:",
    )
    if not replay.done:
        st.button("Stop replay", key="history.stop_replay", on_click=replay.stop)
    run_view.show(VIEW_KEY, replay, replay.spec.params.max_output_tokens)
elif len(runs) == 1:
    show_kept(runs[0])
