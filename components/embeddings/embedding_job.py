"""Follows an embedding job: a progress bar that moves while it runs, Cancel, then the outcome.

The job runs on the core's threads, not in this script run. Like components/common/run_view.py, the
view paints the job's progress in place and refreshes at least every HEARTBEAT_S: each paint is
a point where Streamlit can interrupt this script run (Cancel, a slider, leaving the page); the
job goes on and the next script run follows it again. When it ends, one rerun lets the page
settle (the map shows the new rows). So call `show` last on a page.
"""

from __future__ import annotations

import streamlit as st

from reelscope.embeddings.jobs import EmbedJob, JobProgress, JobState

HEARTBEAT_S = 0.1


def show(key: str, job: EmbedJob | None) -> None:
    """The job's progress, followed while it runs (returns when it ends), then its outcome."""
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
        slot = st.empty()
        if not job.done:
            _follow(slot, job)
            st.rerun()  # the job ended: the page settles once (new rows, Cancel greyed out)
        _paint(slot, job.progress())
        outcome(job.progress())


def _follow(slot, job: EmbedJob) -> None:
    while True:
        progress = job.progress()
        _paint(slot, progress)
        if job.done:
            return
        job.wait(HEARTBEAT_S)


def _paint(slot, progress: JobProgress) -> None:
    slot.progress(min(progress.fraction, 1.0), text=progress_text(progress))


def progress_text(progress: JobProgress) -> str:
    """items done/total · calls · cache hits · errors · time left."""
    parts = [
        f"{progress.items_done + progress.items_failed:,} / {progress.items_total:,} items",
        f"{progress.calls:,} calls",
        f"{progress.cache_hits:,} cache hits",
        f"{progress.items_failed:,} errors",
    ]
    if progress.retries:
        parts.append(f"{progress.retries:,} retries")
    if progress.state is JobState.RUNNING:
        eta = progress.eta_s
        parts.append("estimating time left…" if eta is None else f"about {_duration(eta)} left")
    else:
        parts.append(f"took {_duration(progress.elapsed_s)}")
    return " · ".join(parts)


def outcome(progress: JobProgress) -> None:
    """How the job ended, and each failed item with its reason."""
    rows = f"{progress.rows_added:,} vector{'s' if progress.rows_added != 1 else ''}"
    if progress.state is JobState.DONE:
        st.success(
            f"Done: {progress.items_done:,} items embedded, {rows} added "
            f"({progress.calls:,} calls, {progress.cache_hits:,} from the cache).",
            icon=":material/check_circle:",
        )
    elif progress.state is JobState.CANCELLED:
        st.info(
            f"Cancelled: {progress.items_done:,} items finished before it and were kept "
            f"({rows}); the rest were not sent.",
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


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s"
