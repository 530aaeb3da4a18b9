"""What every page needs from the app around it: app.py's frame.

Components keep their own values (components.common.kept); nothing here knows their keys.
"""

from __future__ import annotations

import runpy

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx


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
