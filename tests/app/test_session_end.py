"""What a session leaves behind when it ends: its uploads kept in the library, nothing else."""

from __future__ import annotations

import gc
import threading

from reelscope.tasks import registry
from tests.app.conftest import start_app


def upload(app, path):
    uploader = next(u for u in app.get("file_uploader") if u.key.startswith("ask.sources.uploads"))
    uploader.upload(path.name, path.read_bytes(), "video/mp4")
    app.run()


def test_an_upload_outlives_its_session_in_the_library_and_nothing_runs_on(connected, video_file):
    threads_before = threading.active_count()
    app = start_app()
    upload(app, video_file)
    assert not app.exception, app.exception
    del app  # Streamlit drops the session's state when the session ends
    gc.collect()

    reloaded = start_app()  # a new tab: the upload is offered from the library
    library_tab = reloaded.multiselect(key="ask.sources.from_library")
    assert [option for option in library_tab.options if video_file.name in option]
    assert not registry().tasks(live=True)
    assert threading.active_count() <= threads_before + 1  # at most the run worker's loop
