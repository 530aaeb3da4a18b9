"""Which lab the Lab page shows: kept for the session, and set from elsewhere (History)."""

from __future__ import annotations

import streamlit as st

from components.common import kept

CURRENT_KEY = "lab.current"


def open_lab(lab_id: str) -> None:
    """Show `lab_id` on the Lab page, now."""
    kept.put(CURRENT_KEY, lab_id)
    st.switch_page("pages/lab.py")
