"""Following live work: the one module a page follows its tasks with, at two speeds.

A run streams: its answer must reach the screen as each chunk arrives. A component draws its
slots where they belong and asks for the run to be followed; app.py, once the page is drawn,
follows every run asked for in this script run:

    slot = st.empty()
    follow.watch(run, paint=lambda: draw_answer(slot, run), heartbeat=lambda: draw_status(...))

Each `paint` runs when the run says it changed (woken by the run, not by a timer; at most ~30
paints a second), each `heartbeat` at least every HEARTBEAT_S. Every paint is a point where
Streamlit can interrupt the script run for a newer one (a click, a slider, a page visit); the
run goes on in the core regardless, and the next script run follows it again. When a run
watched with `settle=True` ends, or every watched run has ended, the page reruns once.

Work that moves in steps for seconds or minutes (staging, shot cuts, an embedding job, a map
fit) is polled instead: `follow.poll(task, draw)` draws its view in a fragment that looks again
every POLL_S and reruns the page once the task ends. The page's own script run then finishes:
it stays responsive and nothing of an earlier run lingers on screen, dimmed, for minutes.

Why not poll runs too: each fragment rerun costs the browser 100–300 ms before its output shows
(measured in Chromium, bench/chunk_to_screen.py), against ~15 ms for an element painted in
place inside a running script.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import streamlit as st

from reelscope.tasks import Task, Watch, follow, registry

_WATCHED_KEY = "reelscope.follow.watched"
_BEGAN_KEY = "reelscope.follow.began"  # when this script run began (time.monotonic())
POLL_S = 0.5  # how often a polled task's view looks again

Paint = Callable[[], None]


def begin() -> None:
    """Forget what the last script run watched (app.py calls it before the page)."""
    st.session_state[_WATCHED_KEY] = []
    st.session_state[_BEGAN_KEY] = time.monotonic()


def watch(
    task: Task | None,
    *,
    paint: Paint | None = None,
    heartbeat: Paint | None = None,
    settle: bool = True,
) -> None:
    """Follow `task` after the page is drawn, if it is still running.

    `paint` redraws its view when it changed; `heartbeat` redraws what ages on its own (an
    elapsed time). `settle=False`: its end alone does not rerun the page (its paint shows the
    outcome), e.g. one column of several, or a row of the sidebar's list.

    Call it for an ended task too: one that ended while this script run was drawing may have
    been drawn live higher up the page (a disabled Run button), so the page reruns once.
    """
    if task is None or (task.done and not _ended_during_this_run(task)):
        return
    st.session_state.setdefault(_WATCHED_KEY, []).append(Watch(task, paint, heartbeat, settle))


def _ended_during_this_run(task: Task) -> bool:
    """A task of the process's registry (live work, not a run rebuilt from the store, which
    "ends" as it is rebuilt) that ended after this script run began."""
    ended, began = task.ended_at, st.session_state.get(_BEGAN_KEY)
    if ended is None or began is None or ended < began:
        return False
    return registry().get(task.id) is task


def watching() -> list[Task]:
    """The tasks this script run follows (one entry per task)."""
    found = {id(w.task): w.task for w in st.session_state.get(_WATCHED_KEY, [])}
    return list(found.values())


def run() -> None:
    """Follow every watched task until one that settles the page ends, or all have ended;
    then rerun the page once. Returns at once when nothing was watched.

    A run that ended while the page was drawn still gets its last paint and the rerun: it was
    drawn live, and the page must not be left showing it so.
    """
    watched: list[Watch] = st.session_state.pop(_WATCHED_KEY, [])
    if not watched:
        return
    pulse = st.empty()  # drawn each beat, so Streamlit can always interrupt this script run
    follow(watched, beat=pulse.empty)
    st.rerun()


def poll(task: Task | None, draw: Callable[[Task], None], *, settle: bool = True) -> None:
    """Draw `task`'s view now and, while it runs, again every POLL_S in a fragment of its
    own; once it ends, the page reruns (unless `settle=False`) so that it settles."""
    if task is not None:
        view(task, lambda: draw(task), settle=settle)


def view(task: Task | None, draw: Paint, *, settle: bool = True) -> None:
    """`draw` in a fragment of its own, drawn again every POLL_S while `task` runs; once it
    ends, the page reruns (unless `settle=False`). With no task, or an ended one, it is drawn
    once in that same fragment.

    Always the same fragment (Streamlit names one by its function and its place on the page):
    the browser sends a click on what the last look drew as a rerun of that fragment, and a
    click made as the task ended must still find it after the page's settling rerun. Streamlit
    drops a rerun of a fragment the page no longer draws, click and all."""
    if task is not None and not task.done:
        st.fragment(_look, run_every=POLL_S)(draw, task, settle)
        return
    st.fragment(_look)(draw, None, settle)
    if task is not None:
        watch(task, settle=settle)  # it may have ended while the page drew it running


def _look(draw: Paint, task: Task | None, settle: bool) -> None:
    draw()
    if task is not None and task.done and settle:
        st.rerun(scope="app")
