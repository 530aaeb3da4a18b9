"""Staging an upload to Cloud Storage as a task: in the background, with progress, cancellable.

An upload above the inline limit is sent to gs://BUCKET/reelscope/<sha256>.<ext>
(reelscope/storage.py) on a thread of its own, so the script run that asked for it can end:
touching a widget, visiting another page or reloading no longer restarts the upload. Its
progress is the bytes Cloud Storage has confirmed; its result, the gs:// URI, is stored in the
media library and the task then holds nothing more.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from reelscope.media import format_size
from reelscope.storage import StagingCancelled, StagingError, stage_file
from reelscope.tasks import LOCAL_OWNER, Progress, Task, TaskState, start_thread

if TYPE_CHECKING:
    from google.cloud import storage

    from reelscope.library import MediaLibrary


class StagingTask(Task):
    """Puts one library upload in the staging bucket; `key` is its content hash."""

    kind = "staging"

    def __init__(
        self,
        library: MediaLibrary,
        client: storage.Client,
        bucket: str,
        *,
        sha256: str,
        name: str,
        mime_type: str,
        owner: str = LOCAL_OWNER,
        origin: str | None = None,
    ) -> None:
        super().__init__(owner=owner, label=name, key=sha256, origin=origin)
        self._library = library
        self._client = client
        self.bucket = bucket
        self._path: Path = library.path(sha256)
        self._mime_type = mime_type
        self._stop = threading.Event()
        self._sent = 0
        self._size = self._path.stat().st_size if self._path.exists() else 0
        self.uri: str | None = None
        self.uploaded = False  # False when the same bytes were already in the bucket
        self.error: str | None = None

    def start(self) -> StagingTask:
        start_thread(self, self._work)
        return self

    def progress(self) -> Progress:
        status = self.status
        if status is TaskState.DONE:
            done = "uploaded to" if self.uploaded else "already in Cloud Storage:"
            text = f"{self.label}: {done} {self.uri}"
        elif status is TaskState.FAILED:
            text = f"{self.label}: {self.error}"
        elif status is TaskState.CANCELLED:
            text = f"{self.label}: upload stopped at {format_size(self._sent)}."
        else:
            text = (
                f"Uploading {self.label} to gs://{self.bucket}… "
                f"{format_size(self._sent)} of {format_size(self._size)}"
            )
        fraction = self._sent / self._size if self._size else None
        return Progress(status, text, fraction)

    def cancel(self) -> bool:
        self._stop.set()  # checked between chunks: nothing more is sent
        return self.finish(TaskState.CANCELLED)

    def _work(self) -> None:
        try:
            staged = stage_file(
                self._client,
                self.bucket,
                self._path,
                self.key or "",
                self._mime_type,
                self._heard,
                self._stop,
            )
        except StagingCancelled:
            self.finish(TaskState.CANCELLED)
        except (StagingError, OSError) as problem:
            self.error = f"{problem} Stage it again to retry."
            self.finish(TaskState.FAILED)
        else:
            self.uri, self.uploaded = staged.uri, staged.uploaded
            self._library.set_staged(self.key or "", staged.uri)
            self.finish(TaskState.DONE)

    def _heard(self, sent: int, size: int) -> None:
        self._sent, self._size = sent, size
        self.changed()
