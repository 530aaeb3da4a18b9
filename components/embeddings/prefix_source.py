"""A collection's files from a gs:// prefix (components/media/prefix_picker.py), with their count
and total size shown before anything is sent. Lengths are not probed (a ranged read per
video would take minutes for thousands): each video's length is known once it is embedded.
"""

from __future__ import annotations

import streamlit as st

from components.media import prefix_picker
from components.media.prefix_picker import Lister
from reelscope.listing import ListedFile, PrefixListing
from reelscope.media import format_size
from reelscope.untrusted import safe_inline

MAX_FILES = 10_000  # one collection's job; a larger library is built prefix by prefix

# What Google's pages say (checked 2026-12): batch prediction takes text embedding models and
# Gemini Embedding 2 (text in every example found), not multimodalembedding@001.
BATCH_NOTE = (
    "Sent online, paced by your quota. Vertex AI batch prediction is not offered here: it does "
    "not take multimodalembedding@001, and for Gemini Embedding 2 Google documents text rows "
    "only, not video."
)


def show(key: str, lister: Lister | None) -> tuple[ListedFile, ...]:
    """The listed videos and images under the prefix the user typed (empty until listed)."""
    listing = prefix_picker.show(key, lister)
    if listing is None:
        return ()
    _summary(listing)
    return listing.files


def _summary(listing: PrefixListing) -> None:
    files = listing.files
    videos = sum(f.source.is_video for f in files)
    images = len(files) - videos
    size = sum(f.size or 0 for f in files)
    notes = [
        f"{videos:,} video{'s' if videos != 1 else ''} and {images:,} "
        f"image{'s' if images != 1 else ''} under {safe_inline(listing.uri)}",
        f"{format_size(size)} in all",
    ]
    if videos:
        notes.append("length unknown until embedded")
    if listing.skipped:
        notes.append(f"{listing.skipped:,} other files left out (not images or videos)")
    st.caption(" · ".join(notes))
    st.caption(BATCH_NOTE)
    if listing.more:
        st.warning(
            f"Only the first {MAX_FILES:,} files are taken: build the rest from narrower "
            "prefixes, one collection each.",
            icon=":material/warning:",
        )
    if not files:
        st.warning("No images or videos there: check the prefix.", icon=":material/folder_off:")
