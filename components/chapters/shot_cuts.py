"""Shot cuts of an uploaded video, detected in the background while the page stays usable.

The detector is process-wide (one FFmpeg at a time on this machine); results are kept by
content hash. While it runs, a small fragment looks every second and reruns the page once
the cuts are in.
"""

from __future__ import annotations

import time

import streamlit as st

from reelscope.chapters.shots import CutDetector, CutJob
from reelscope.media import MediaSource

SPEED_X = 30  # seconds of video per second of detection, as measured (bench/shot_detect.py)


@st.cache_resource(show_spinner=False)
def detector() -> CutDetector:
    return CutDetector()


def show(source: MediaSource) -> CutJob | None:
    """The cut job for `source` (started if new); None for a video that is not on this server."""
    if source.path is None or source.sha256 is None:
        st.caption(
            "Shot cuts are detected on uploaded videos only: this one is read by Vertex AI "
            "from its link, not downloaded here."
        )
        return None
    job = detector().job(source.sha256, source.path)
    if job.state == "running":
        _wait(source)
    elif job.state == "failed":
        st.warning(f"Shot cuts could not be detected: {job.error}")
    return detector().peek(source.sha256)


def _wait(source: MediaSource) -> None:
    estimate = (source.duration_s or 0) / SPEED_X

    @st.fragment(run_every=1.0)
    def watch() -> None:
        job = detector().peek(source.sha256)
        if job is not None and job.state != "running":
            st.rerun(scope="app")
        waited = time.monotonic() - job.started_at if job else 0
        about = f" (about {estimate:.0f} s)" if estimate >= 2 else ""
        st.caption(f":material/content_cut: Detecting shot cuts{about}… {waited:.0f} s")

    watch()
