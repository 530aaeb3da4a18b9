"""A click read before its button is drawn, so the button is drawn once, as the click left it.

A page that draws Run, starts a run on its click and then draws Run again, disabled, under
another key (a widget key is used once a script run) leaves the first button in the browser,
greyed out beside the second, for as long as the script run lasts, and a run's script run lasts
as long as its stream. When the browser drops it, the row of buttons moves under the pointer:
a Stop pressed in that instant was seen landing on "Count tokens". Reading the click first, the
page draws Run disabled from the start.
"""

from __future__ import annotations

import streamlit as st


def pressed(key: str) -> bool:
    """Whether the button `key` (drawn in the last script run) was pressed for this one."""
    return bool(st.session_state.get(key, False))
