"""Shows an embedding job: a progress bar that moves while it runs, Cancel, then the outcome.

The job is a task (reelscope/embeddings/jobs.py) on the core's threads, not in this script run:
its view is polled (components/common/follow.poll) while it runs, and the page settles once it
ends (the map shows the new rows).
"""

from __future__ import annotations

import streamlit as st

from components.common import follow
from reelscope.embeddings.jobs import EmbedJob, JobProgress, progress_text
from reelscope.tasks import TaskState


def show(key: str, job: EmbedJob | None) -> None:
    """The job's progress (followed while it runs), then how it ended."""
    if job is None:
        return
    with st.container(key=key):
        st.button(
            "Cancel",
            key=f"{key}.cancel",
            icon=":material/cancel:",
            disabled=job.done,
            on_click=job.cancel,
        )
        follow.poll(job, _view)


def _view(job: EmbedJob) -> None:
    details = job.details()
    st.progress(min(details.fraction, 1.0), text=progress_text(details))
    if job.done:
        outcome(details)


def outcome(progress: JobProgress) -> None:
    """How the job ended, and each failed item with its reason."""
    rows = f"{progress.rows_added:,} vector{'s' if progress.rows_added != 1 else ''}"
    if progress.state is TaskState.DONE:
        st.success(
            f"Done: {progress.items_done:,} items embedded, {rows} added "
            f"({progress.calls:,} calls, {progress.cache_hits:,} from the cache).",
            icon=":material/check_circle:",
        )
    elif progress.state is TaskState.CANCELLED:
        st.info(
            f"Cancelled: {progress.items_done:,} items finished before it and were kept "
            f"({rows}); the rest were not sent ({progress.calls:,} calls had started).",
            icon=":material/cancel:",
        )
    elif progress.error:
        st.error(progress.error)
    for note in progress.notes:
        st.caption(note)
    if progress.failures:
        st.warning(
            f"{len(progress.failures):,} item{'s' if len(progress.failures) != 1 else ''} "
            "could not be embedded; the rest landed:",
            icon=":material/error:",
        )
        for failure in progress.failures:
            st.text(f"{failure.label}: {failure.reason}")  # user data: text, never HTML
