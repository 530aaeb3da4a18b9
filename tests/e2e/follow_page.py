"""A test page for components/common/follow.view: a task that ends on its own a moment after
"Start", followed by a view with a button (as the Lab's results are). Once the task has ended,
the page's settling rerun is slow (SETTLE_S), so a click on what the view's last look drew
reaches the server while the page reruns, as it can on a busy server."""

from __future__ import annotations

import threading
import time

import streamlit as st

from components.common import follow
from reelscope.tasks import Task, TaskState

TASK_S = 1.5  # how long the task runs
SETTLE_S = 3.0  # how long the settling rerun takes


def start() -> None:
    task = Task(label="a test task")
    threading.Timer(TASK_S, task.finish, (TaskState.DONE,)).start()
    st.session_state.task = task
    st.session_state.acted = 0


def draw(task: Task) -> None:
    st.markdown(f"state: {task.status.value}")
    if st.button("Act", key="act"):
        st.session_state.acted += 1
    st.markdown(f"acted: {st.session_state.acted}")


st.button("Start", key="start", on_click=start)
slot = st.empty()  # always there: the view's fragment keeps its place on the page
task: Task | None = st.session_state.get("task")
if task is not None and task.done and not st.session_state.get("settled"):
    st.session_state.settled = True
    slot.caption("settling…")  # reaches the browser while the rerun sleeps
    time.sleep(SETTLE_S)
if task is not None:
    follow.view(task, lambda: draw(task))
