"""Baseline for bench.chunk_to_screen: the Ask page's old in-script pipeline, kept for comparison.

The SDK stream is consumed inside the Streamlit script run and repainted at most every 50 ms,
as Reelscope did before runs moved to a worker. Not part of the app.
"""

from __future__ import annotations

import os
import time

import streamlit as st

from reelscope.catalog import load_catalog
from reelscope.generation.request import build_request
from reelscope.media_rules import check_for_model
from reelscope.parameters import defaults_for
from reelscope.settings import load_settings
from reelscope.vertex import make_genai_client

REFRESH_S = 0.05

model = load_catalog().get("gemini-3.5-flash")
prompt = st.text_area("Prompt")
if st.button("Run", type="primary"):
    client = make_genai_client(load_settings(os.environ))
    request = build_request(
        model, check_for_model([], model, load_catalog().media), prompt, defaults_for(model)
    )
    slot = st.container(key="ask-answer").empty()
    text, last_paint = "", 0.0
    for chunk in client.models.generate_content_stream(
        model=request.model_id, contents=request.contents, config=request.config
    ):
        text += chunk.text or ""
        if time.monotonic() - last_paint >= REFRESH_S:
            slot.markdown(text)
            last_paint = time.monotonic()
    slot.markdown(text)
