"""An upload above the inline limit, on the Gemini Developer API: sent through its Files API.

The upload and the wait for the service to process it run as a task
(reelscope/gemini_files.py), followed in place like staging to a bucket: a progress bar while
the bytes go, a line while Gemini processes them, a Stop from the sidebar's Running list. Once
the file is ACTIVE the source is sent by its Files API URI; the same content asked about again
reuses the remembered file while it lives.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import streamlit as st

from components.common import follow, resources
from reelscope.catalog import MediaFacts
from reelscope.gemini_files import FileBook, FilesApiTask
from reelscope.media import MediaSource
from reelscope.media_rules import too_large_to_send
from reelscope.settings import BACKEND_GEMINI_API
from reelscope.tasks import Task, TaskState


def applies() -> bool:
    """Whether uploads above the inline limit go through the Files API (the Developer API)."""
    return resources.backend(resources.settings()) == BACKEND_GEMINI_API


def show(source: MediaSource, media: MediaFacts) -> tuple[MediaSource, str | None]:
    """`source` as it is sent (by its Files API URI once uploaded and processed), and, while
    that is under way or has failed, the problem that keeps the page's action disabled."""
    if not too_large_to_send(source, media) or source.sha256 is None or source.path is None:
        return source, None
    tasks = resources.tasks()
    task = tasks.find(FilesApiTask.kind, source.sha256)
    if task is None or (task.status is not TaskState.RUNNING and _again(task, source)):
        client = resources.connected_client(resources.settings())
        if client is None:
            return source, f"{source.label}: not connected to the Gemini Developer API."
        task = tasks.add(
            FilesApiTask(
                client,
                FileBook(resources.library().db),
                source.path,
                sha256=source.sha256,
                name=source.label,
                mime_type=source.mime_type,
                owner=resources.owner(),
            ).start()
        )
    assert isinstance(task, FilesApiTask)
    if task.status is TaskState.DONE and task.file is not None:
        st.caption(task.progress().text)
        return dataclasses.replace(source, uri=task.file.uri), None
    follow.poll(task, _line)
    progress = task.progress()
    if progress.running:
        return source, (
            f"{source.label} is being uploaded to the Gemini Files API: wait for it to finish."
        )
    return source, progress.text


def _again(task: Task, source: MediaSource) -> bool:
    """A finished task is done again when it failed or was stopped (on the user's word) or
    when its file is too near its end to send (it is then looked up, or uploaded, anew)."""
    if task.status is TaskState.DONE:
        file = task.file if isinstance(task, FilesApiTask) else None
        return file is None or not file.usable_at(dt.datetime.now(dt.UTC))
    return st.button("Upload it again", key=f"files_api.retry.{source.sha256}")


def _line(task: Task) -> None:
    now = task.progress()
    if now.running:
        st.progress(now.fraction or 0.0, text=now.text)
    else:
        st.caption(now.text)
