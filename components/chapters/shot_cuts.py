"""Shot cuts of an uploaded video: detected once in the background, kept in the media library.

The detection is a task (reelscope/chapters/shots.CutTask): it goes on while the page is used,
is listed in the sidebar's Running list, and its status line is polled (follow.poll); the page
settles once the cuts are in. A video's cuts are detected once, whichever page or session asks.
"""

from __future__ import annotations

import streamlit as st

from components.common import follow, resources
from reelscope.chapters.shots import CutTask
from reelscope.media import MediaSource
from reelscope.tasks import TaskState


def show(source: MediaSource) -> tuple[float, ...] | None:
    """The cuts of `source` when known; None while they are detected, or for a link."""
    if source.path is None or source.sha256 is None:
        st.caption(
            "Shot cuts are detected on uploaded videos only: this one is read by Vertex AI "
            "from its link, not downloaded here."
        )
        return None
    library = resources.library()
    item = library.get(f"sha256:{source.sha256}")
    if item is not None and item.cuts is not None:
        return item.cuts
    tasks = resources.tasks()
    task = tasks.find(CutTask.kind, source.sha256)
    ended = task is not None and task.status in (TaskState.FAILED, TaskState.CANCELLED)
    if ended:  # failed, or stopped by the user: started again only when asked
        st.caption(f":material/content_cut: {task.progress().text}")
        if not st.button("Detect shot cuts again", key=f"cuts.retry.{source.sha256}"):
            return None
    if task is None or ended:
        sha256 = source.sha256
        task = tasks.add(
            CutTask(
                source.path,
                sha256=sha256,
                label=source.label,
                keep=lambda cuts: library.set_cuts(sha256, cuts),
                duration_s=source.duration_s,
                owner=resources.owner(),
                origin="chapters",
            ).start()
        )
    if task.status is TaskState.DONE:
        return task.cuts  # kept in the library too: the next run reads them there
    follow.poll(task, lambda t: st.caption(f":material/content_cut: {t.progress().text}"))
    return None
