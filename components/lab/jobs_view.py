"""A lab's Vertex AI batch jobs: each one's state, counts, elapsed time, and Cancel.

The rows come from the store (they outlive the server); a job this process follows adds what
its last poll said (reelscope/lab/batch.py `BatchWatch`).
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from reelscope.lab.batch import JOB_KIND, BatchWatch
from reelscope.store.labs import JobRow
from reelscope.tasks import TaskRegistry
from reelscope.untrusted import safe_inline


def show(key: str, jobs: list[JobRow], registry: TaskRegistry) -> None:
    """One line a job, with Cancel while it runs."""
    if not jobs:
        return
    st.markdown("**Batch jobs**")
    now = dt.datetime.now(dt.UTC)
    for job in jobs:
        watch = registry.find(JOB_KIND, job.id)
        info = watch.info if isinstance(watch, BatchWatch) else None
        state = (info.state if info else job.state).removeprefix("JOB_STATE_")
        state = state.replace("_", " ").lower()
        done = job.info.get("succeeded") if not info else info.succeeded
        failed = job.info.get("failed") if not info else info.failed
        elapsed = info.elapsed_s(now) if info else None
        line = [f"**{safe_inline(job.model_id)}** · {state}"]
        if done is not None:
            line.append(f"{done} done, {failed or 0} failed")
        if elapsed is not None:
            line.append(f"{elapsed:,.0f} s")
        if job.ingested_at is not None:
            line.append("results read in")
        problem = (watch.problem if isinstance(watch, BatchWatch) else None) or job.error
        with st.container(border=True, key=f"{key}.{job.id}"):
            left, right = st.columns([5, 1], vertical_alignment="center")
            left.markdown(" · ".join(line))
            if job.name:
                left.caption(safe_inline(job.name))
            if problem:
                left.error(safe_inline(problem), icon=":material/error:")
            running = isinstance(watch, BatchWatch) and not watch.done
            right.button(
                "Cancel",
                key=f"{key}.cancel.{job.id}",
                disabled=not running,
                on_click=watch.cancel if running else None,
                icon=":material/cancel:",
                help="Asks Vertex AI to cancel the job; the rows it finished are still read in.",
            )
