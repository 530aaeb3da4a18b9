"""The UMAP fit while the PCA preview is on screen: a status line followed in place, and the page
settles (the map replaces the preview) once the fit has stored the map.

The fit is a task (reelscope/embeddings/maps.MapFit), followed by components/common/follow.py
like any other: a click, a selection or a page visit interrupts nothing but this script run.
"""

from __future__ import annotations

import streamlit as st

from components.common import follow
from reelscope.embeddings.maps import MapFit


def show(fit: MapFit | None) -> None:
    """The fit's status line, painted as it goes; the page reruns when the map is stored."""
    if fit is None or fit.done:
        return
    line = st.empty()

    def paint() -> None:
        line.caption(fit.progress().text)

    paint()
    follow.watch(fit, paint=paint, heartbeat=paint)
