"""What a session leaves behind when it ends: nothing running, nothing on disk."""

from __future__ import annotations

import gc
import time

from tests.app.conftest import start_app


def upload(app, path):
    uploader = next(u for u in app.get("file_uploader") if u.key.startswith("ask.sources.uploads"))
    uploader.upload(path.name, path.read_bytes(), "video/mp4")
    app.run()


def test_a_sessions_uploads_leave_the_disk_with_it(connected, video_file):
    app = start_app()
    upload(app, video_file)
    spool_root = app.session_state["reelscope.spool"].root
    assert [p.name for p in spool_root.iterdir() if not p.name.startswith(".")], "spooled"

    del app  # Streamlit drops the session's state when the session ends
    gc.collect()

    deadline = time.monotonic() + 2
    while spool_root.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not spool_root.exists()
