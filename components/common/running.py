"""The sidebar's "Running" list: the user's live work, wherever and whenever it was started.

Every run, embedding job, map fit, shot-cut detection and upload still going for this user is
listed, with Stop and Open, in every tab: a reloaded tab sees its runs at once. app.py draws
the list after the page, so it knows whether the page follows live work of its own: then the
rows are repainted by the same follower (components/common/follow.py); else the list looks
again every POLL_S in a fragment of its own, so a page with nothing of its own going (History,
Models, a second tab) is not kept running for work it only lists. Open goes to the page that
started the task, which takes it up (`take_opened`).

With a store, the list also shows the user's runs streaming on other instances (the shared
run table): Stop asks their instance to stop them (it does within a second or so), Open goes to
History, where what was kept so far is shown. On a shared database the list keeps looking every
POLL_S even when nothing is listed, so a run started on another instance shows up.
"""

from __future__ import annotations

import streamlit as st

from components.common import follow
from components.history import history_table
from reelscope.database import DATABASE_ERRORS
from reelscope.store import RemoteRun, Store
from reelscope.tasks import Task, TaskRegistry
from reelscope.untrusted import safe_inline

PAGES = {
    "ask": "pages/ask.py",
    "chapters": "pages/chapters.py",
    "compare": "pages/compare.py",
    "embeddings": "pages/embeddings.py",
    "history": "pages/history.py",
    "library": "pages/library.py",
    "lab": "pages/lab.py",
}
_KIND_NAMES = {
    "run": "Run",
    "embed-job": "Embedding job",
    "map-fit": "Map",
    "search-index": "Search index",
    "shot-cuts": "Shot cuts",
    "staging": "Upload",
    "files_api": "Upload",
    "lab-grid": "Lab",
    "lab-batch": "Lab",
}
_OPENED_KEY = "running.opened.{}"
POLL_S = 2.0  # how often the list looks again when the page follows nothing of its own


def show(key: str, tasks: TaskRegistry, owner: str, store: Store | None = None) -> None:
    """The owner's live tasks, each with Stop and Open (call it after the page is drawn), and
    with a store, the owner's runs on other instances."""
    live = _listed(tasks, owner)
    elsewhere = _elsewhere(store, owner)
    if not live and not elsewhere and not _shared(store):
        return
    if follow.watching():  # the page follows work of its own: the rows go with it
        _rows(key, live, elsewhere, store, owner, followed=True)
        return
    st.fragment(_polled, run_every=POLL_S)(key, tasks, owner, store)


def _polled(key: str, tasks: TaskRegistry, owner: str, store: Store | None) -> None:
    live = _listed(tasks, owner)
    elsewhere = _elsewhere(store, owner)
    if not live and not elsewhere and not _shared(store):
        st.rerun(scope="app")  # it all ended: the page settles, and this timer stops
    _rows(key, live, elsewhere, store, owner, followed=False)


def _listed(tasks: TaskRegistry, owner: str) -> list[Task]:
    """The owner's live work; a lab's cells go under their grid (one line, not one per cell)."""
    return [
        task
        for task in tasks.tasks(owner=owner, live=True)
        if not (task.kind == "run" and task.origin == "lab")
    ]


def _shared(store: Store | None) -> bool:
    return store is not None and store.db.shared


def _elsewhere(store: Store | None, owner: str) -> list[RemoteRun]:
    """The owner's runs on other instances; none while the database cannot be read (the local
    ones are listed all the same)."""
    if store is None:
        return []
    try:
        return store.runs.running_elsewhere(owner, store.instance)
    except DATABASE_ERRORS:
        return []


def _rows(
    key: str,
    live: list[Task],
    elsewhere: list[RemoteRun],
    store: Store | None,
    owner: str,
    *,
    followed: bool,
) -> None:
    if not live and not elsewhere:
        return
    st.markdown(f"**Running** · {len(live) + len(elsewhere)}")
    for run in elsewhere:
        _remote_row(key, run, store, owner)
    for task in live:
        with st.container(border=True, key=f"{key}.{task.id}"):
            line = st.empty()
            _paint(line, task)
            stop, open_ = st.columns(2)
            stop.button(
                "Stop", key=f"{key}.stop.{task.id}", on_click=task.cancel, type="tertiary",
                icon=":material/stop_circle:",
            )  # fmt: skip
            page = PAGES.get(task.origin or "")
            if page is not None and open_.button(
                "Open", key=f"{key}.open.{task.id}", type="tertiary", icon=":material/open_in_new:"
            ):
                st.session_state[_OPENED_KEY.format(task.origin)] = task.id
                st.switch_page(page)
            if followed:
                follow.watch(
                    task,
                    paint=lambda t=task, s=line: _paint(s, t),
                    heartbeat=_every_second(task, line),
                    settle=False,
                )


def _remote_row(key: str, run: RemoteRun, store: Store | None, owner: str) -> None:
    with st.container(border=True, key=f"{key}.{run.id}"):
        state = "Stopping…" if run.stop_requested else "Running on another instance"
        st.caption(
            f"**Run** · {safe_inline(run.label)}  \n{state} · {safe_inline(run.instance)} · "
            f"since {run.started_at:%H:%M:%S} UTC"
        )
        stop, open_ = st.columns(2)
        stop.button(
            "Stop", key=f"{key}.stop.{run.id}", on_click=_request_stop, args=(store, run, owner),
            type="tertiary", icon=":material/stop_circle:", disabled=run.stop_requested,
        )  # fmt: skip
        if open_.button(
            "Open",
            key=f"{key}.open.{run.id}",
            type="tertiary",
            icon=":material/open_in_new:",
            help="It streams on another instance: History shows what was kept so far.",
        ):
            history_table.pick(history_table.HISTORY_TABLE_KEY, [run.id])
            st.switch_page(PAGES["history"])


def _request_stop(store: Store, run: RemoteRun, owner: str) -> None:
    try:
        store.runs.request_stop(run.id, owner)
    except DATABASE_ERRORS:
        st.toast("The run history did not answer, so the stop was not asked for: try again.",
                 icon=":material/error:")  # fmt: skip


def take_opened(origin: str) -> str | None:
    """The id of the task the user opened from the list for this page, once."""
    return st.session_state.pop(_OPENED_KEY.format(origin), None)


def _paint(slot, task: Task) -> None:
    progress = task.progress()
    kind = _KIND_NAMES.get(task.kind, task.kind)
    slot.caption(f"**{kind}** · {safe_inline(task.label)}  \n{safe_inline(progress.text)}")


def _every_second(task: Task, slot):
    """A heartbeat that repaints the row when its elapsed time passes a whole second."""
    shown = [int(task.elapsed())]

    def beat() -> None:
        second = int(task.elapsed())
        if second != shown[0]:
            shown[0] = second
            _paint(slot, task)

    return beat
