"""A gs:// prefix the user types and lists on a button, its listing kept for the session.

The Lab's grid (videos, a row each) and the Embeddings builder (videos and images) take files
from a prefix the same way: nothing is listed until the button is pressed, reruns do not list
the bucket again, and a changed prefix shows nothing until it is listed. Each caller says what
the listing means for it (rows, counts, sizes); the listing itself is reelscope/listing.py's.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from components.common import kept
from reelscope.listing import ListedFile, PrefixListing
from reelscope.media import source_from_link
from reelscope.storage import StagingError

Lister = Callable[[str], PrefixListing]


def show(key: str, lister: Lister | None, *, button: str = "List files") -> PrefixListing | None:
    """The listing of the prefix in the box, once listed; None before, or when it failed."""
    if lister is None:
        st.info(
            "Listing a gs:// prefix needs Cloud Storage: sign in to Google Cloud (or set "
            "REELSCOPE_BUCKET), then restart Reelscope.",
            icon=":material/info:",
        )
        return None
    text = st.text_input(
        "gs:// prefix", placeholder="gs://my-bucket/videos/", **kept.bind(f"{key}.prefix", "")
    )
    listed_key = f"{key}.listed"
    if st.button(button, key=f"{key}.list", disabled=not text.strip()):
        try:
            listing = lister(text)
        except StagingError as problem:
            kept.put(listed_key, None)
            st.error(str(problem), icon=":material/folder_off:")
            return None
        kept.put(listed_key, {"typed": text.strip(), "uri": listing.uri,
                              "files": [(f.source.uri, f.size) for f in listing.files],
                              "skipped": listing.skipped, "more": listing.more})  # fmt: skip
    listed = kept.value(listed_key)
    if not listed or listed["typed"] != text.strip():
        return None
    files = tuple(ListedFile(source_from_link(uri), size) for uri, size in listed["files"])
    return PrefixListing(listed["uri"], files, listed["skipped"], listed["more"])
