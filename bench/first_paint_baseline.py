"""Baseline for bench.first_paint: a bare Streamlit page showing one image, nothing else.

Not part of the app: `streamlit run bench/first_paint_baseline.py` with FIRST_PAINT_IMAGE set
to the PNG to show (the bench writes the 10k map's picture there).
"""

from __future__ import annotations

import os

import streamlit as st

st.image(os.environ["FIRST_PAINT_IMAGE"])
