"""A test page: every case of tests/untrusted_cases.py through st.markdown, as the model wrote it
(`?mode=raw`) or through reelscope.untrusted (`?mode=safe`), each under its own keyed container."""

from __future__ import annotations

import streamlit as st

from reelscope.untrusted import safe_inline, safe_markdown
from tests.untrusted_cases import CASES

safe = st.query_params.get("mode") != "raw"
for index, case in enumerate(CASES):
    with st.container(key=f"case-{index}"):
        if not safe:
            st.markdown(case.text)
        else:
            st.markdown(safe_inline(case.text) if case.inline else safe_markdown(case.text))
