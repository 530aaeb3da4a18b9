"""Baseline for bench.chapter_seek: seek_rerun_app.py served with the app's media route.

Not part of the app: `streamlit run bench/seek_rerun_serve.py`, as serve.py is run.
"""

from __future__ import annotations

import streamlit as st

from components.common import resources
from components.media import media_preview
from reelscope import media_server

app = st.App(
    "seek_rerun_app.py",
    routes=media_server.routes(media_preview.link_key(), resources.settings, ""),
    secrets={media_preview.ROUTE_FLAG: True},
)
