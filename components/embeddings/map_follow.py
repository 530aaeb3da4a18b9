"""The UMAP fit while the PCA preview is on screen: its status line, polled, and the page
settles (the map replaces the preview) once the fit has stored the map.

The fit is a task (reelscope/embeddings/maps.MapFit), followed with components/common/follow.poll
like any other task that moves in steps: the page's own script run finishes meanwhile.
"""

from __future__ import annotations

import streamlit as st

from components.common import follow
from reelscope.embeddings.maps import MapFit


def show(fit: MapFit | None) -> None:
    """The fit's status line, painted as it goes; the page reruns when the map is stored."""
    if fit is not None:  # polled even if it just ended: the page drew its preview as pending
        follow.poll(fit, lambda task: st.caption(task.progress().text))
