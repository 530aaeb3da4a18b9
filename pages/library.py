"""Library: every video and image given to Reelscope, kept once, where each is used, the space."""

from __future__ import annotations

import streamlit as st

from components.common import app_frame, resources
from components.media import library_table

app_frame.run_through_entrypoint()

st.title("Library")
st.caption(
    "Every upload and link, kept once by its content, offered on every page that takes media. "
    "What no run or collection uses is removed, least recently used first, when the library "
    "passes its size."
)
library_table.show("library", resources.library(), resources.owner())
