"""Models: the catalog behind the model picker, with status, ranges and sources."""

from __future__ import annotations

import streamlit as st

from components.common import app_frame, resources
from components.models import model_table

app_frame.run_through_entrypoint()

catalog = resources.catalog()
st.title("Models")
st.caption(
    "Every Gemini model Reelscope knows, with the ranges its controls use. Retired models stay "
    "listed for reference; Reelscope does not send requests to them."
)
model_table.show(catalog, resources.today(), resources.backend(resources.settings()))
