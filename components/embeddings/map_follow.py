"""Waits for a collection's UMAP map while the PCA preview is on screen, then reruns once.

The fit runs in the core's background worker (reelscope/embeddings/maps.py). Like
components/common/run_view.py, this paints a status line in place at least every HEARTBEAT_S — where
Streamlit can interrupt the script run for a click, a selection or a page visit — and calls
st.rerun() when the map is stored, so the preview is replaced without the user doing anything.
Call it last on a page.
"""

from __future__ import annotations

import concurrent.futures
import time

import streamlit as st

from reelscope import projection
from reelscope.embeddings import maps
from reelscope.embeddings.store import Collection, EmbeddingStore
from reelscope.projection import ProjectionParams

HEARTBEAT_S = 0.1


def wait_for_map(store: EmbeddingStore, collection: Collection, params: ProjectionParams) -> None:
    """Until the final map of this collection is stored (or the fit gave up), then rerun."""
    slot = st.empty()
    started = time.monotonic()
    while True:
        waited = time.monotonic() - started
        if projection.umap_ready():
            slot.caption(f"Fitting the UMAP map… {waited:.1f} s")
        else:
            slot.caption(f"UMAP map is coming (UMAP is warming up)… {waited:.1f} s")
        try:
            if maps.wait_for_map(store, collection, params, HEARTBEAT_S):
                break
        except concurrent.futures.TimeoutError:
            continue
        except Exception:  # the fit failed: the page says why (MapView.error) after a rerun
            if maps.map_for(store, collection, params).pending:
                slot.empty()
                return  # never loop on reruns
            break
    slot.empty()
    st.rerun()
