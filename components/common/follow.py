"""Following live work: the one way a page watches its tasks (runs, jobs, map fits, cuts, staging).

A component that shows a task draws its slots where they belong on the page and asks for the
task to be followed; app.py follows everything asked for once the page is drawn:

    slot = st.empty()
    follow.watch(run, paint=lambda: draw_answer(slot, run), heartbeat=lambda: draw_status(...))
    ...
    follow.run()  # app.py, after the page

While any watched task is live, each task's `paint` runs when the task says it changed (woken by
the task, not by a timer; at most ~30 paints a second), and each `heartbeat` at least every
HEARTBEAT_S. Every paint is a point where Streamlit can interrupt this script run for a newer
one (a click, a slider, a page visit): the tasks go on in the core regardless, and the next
script run follows them again. When a task watched with `settle=True` ends, or every watched
task has ended, the page reruns once so that it settles (buttons grey out, outcomes show).

Why not a fragment with run_every: each fragment rerun costs the browser 100–300 ms before its
output shows (measured in Chromium, bench/chunk_to_screen.py), against ~15 ms for an element
painted in place inside a running script.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from reelscope.tasks import Task, Watch, follow

_WATCHED_KEY = "reelscope.follow.watched"

Paint = Callable[[], None]


def begin() -> None:
    """Forget what the last script run watched (app.py calls it before the page)."""
    st.session_state[_WATCHED_KEY] = []


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
    """
    if task is None or task.done:
        return
    st.session_state.setdefault(_WATCHED_KEY, []).append(Watch(task, paint, heartbeat, settle))


def watching() -> list[Task]:
    """The tasks this script run follows (one entry per task)."""
    found = {id(w.task): w.task for w in st.session_state.get(_WATCHED_KEY, [])}
    return list(found.values())


def run() -> None:
    """Follow every watched task until one that settles the page ends, or all have ended;
    then rerun the page once. Returns at once when nothing is live."""
    watched: list[Watch] = st.session_state.pop(_WATCHED_KEY, [])
    if all(w.task.done for w in watched):
        return
    pulse = st.empty()  # drawn each beat, so Streamlit can always interrupt this script run
    follow(watched, beat=pulse.empty)
    st.rerun()
