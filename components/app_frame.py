"""What every page needs from the app around it: app.py's frame, and widget values kept."""

from __future__ import annotations

import runpy

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx

_SHADOW = "reelscope.kept."


def run_through_entrypoint() -> None:
    """Run the page through app.py when Streamlit started it on its own.

    While no st.navigation call has run in this process, Streamlit treats the `pages/` folder
    in its legacy multipage mode and runs a requested page directly (a deep link such as
    /models on a fresh server; every AppTest run), without app.py's page config, navigation
    and sidebar. Then we switch that mode off as st.navigation does and run app.py in this same
    run, so nothing the user just did (a button click) is lost to a rerun.
    """
    if not PagesManager.uses_pages_directory:
        return
    PagesManager.uses_pages_directory = False
    context = get_script_run_ctx()
    if context is None:
        return
    runpy.run_path(context.main_script_path, run_name="__main__")
    st.stop()


def keep_widget_values(prefixes: tuple[str, ...], buttons: tuple[str, ...] = ()) -> None:
    """Keep what the user typed and chose while they visit another page.

    Streamlit forgets a widget's value at the end of a run that does not draw it. So each run
    first restores values whose widget is gone from a shadow copy, then refreshes the copies.
    `buttons` are keys under those prefixes that hold no value (Streamlit refuses to set them).
    """
    state = st.session_state
    for shadow in [k for k in state if isinstance(k, str) and k.startswith(_SHADOW)]:
        key = shadow.removeprefix(_SHADOW)
        if key not in state:
            state[key] = state[shadow]
    for key in [k for k in state if isinstance(k, str) and k.startswith(prefixes)]:
        if key not in buttons:
            state[_SHADOW + key] = state[key]
