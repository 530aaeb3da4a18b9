"""A collection's files from a gs:// prefix: listed through Cloud Storage on "List files", with
their count and total size shown before anything is sent.

The listing is kept for the session (by prefix), so reruns do not list the bucket again; a
changed prefix shows nothing until it is listed. Lengths are not probed (a ranged read per
video would take minutes for thousands): each video's length is known once it is embedded.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from components.common import kept
from reelscope.listing import ListedFile, PrefixListing
from reelscope.media import format_size, source_from_link
from reelscope.storage import StagingError
from reelscope.untrusted import safe_inline

MAX_FILES = 10_000  # one collection's job; a larger library is built prefix by prefix

Lister = Callable[[str], PrefixListing]
# What Google's pages say (checked 2026-12): batch prediction takes text embedding models and
# Gemini Embedding 2 (text in every example found), not multimodalembedding@001.
BATCH_NOTE = (
    "Sent online, paced by your quota. Vertex AI batch prediction is not offered here: it does "
    "not take multimodalembedding@001, and for Gemini Embedding 2 Google documents text rows "
    "only, not video."
)


def show(key: str, lister: Lister | None) -> tuple[ListedFile, ...]:
    """The listed videos and images under the prefix the user typed (empty until listed)."""
    if lister is None:
        st.info(
            "Listing a gs:// prefix needs Cloud Storage: sign in to Google Cloud (or set "
            "REELSCOPE_BUCKET), then restart Reelscope.",
            icon=":material/info:",
        )
        return ()
    text = st.text_input(
        "gs:// prefix", placeholder="gs://my-bucket/videos/", **kept.bind(f"{key}.prefix", "")
    )
    listed_key = f"{key}.listed"
    if st.button("List files", key=f"{key}.list", disabled=not text.strip()):
        try:
            listing = lister(text)
        except StagingError as problem:
            kept.put(listed_key, None)
            st.error(str(problem), icon=":material/folder_off:")
            return ()
        files = [(f.source.uri, f.size) for f in listing.files]
        kept.put(listed_key, {"prefix": text.strip(), "skipped": listing.skipped,
                              "more": listing.more, "files": files})  # fmt: skip
    listed = kept.value(listed_key)
    if not listed or listed["prefix"] != text.strip():
        return ()
    files = tuple(ListedFile(source_from_link(uri), size) for uri, size in listed["files"])
    _summary(listed, files)
    return files


def _summary(listed: dict, files: tuple[ListedFile, ...]) -> None:
    videos = sum(f.source.is_video for f in files)
    images = len(files) - videos
    size = sum(f.size or 0 for f in files)
    notes = [
        f"{videos:,} video{'s' if videos != 1 else ''} and {images:,} "
        f"image{'s' if images != 1 else ''} under {safe_inline(listed['prefix'])}",
        f"{format_size(size)} in all",
    ]
    if videos:
        notes.append("length unknown until embedded")
    if listed["skipped"]:
        notes.append(f"{listed['skipped']:,} other files left out (not images or videos)")
    st.caption(" · ".join(notes))
    st.caption(BATCH_NOTE)
    if listed["more"]:
        st.warning(
            f"Only the first {MAX_FILES:,} files are taken: build the rest from narrower "
            "prefixes, one collection each.",
            icon=":material/warning:",
        )
    if not files:
        st.warning("No images or videos there: check the prefix.", icon=":material/folder_off:")
