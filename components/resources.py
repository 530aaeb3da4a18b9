"""Settings, catalog and clients for the UI, cached the Streamlit way around pure core calls."""

from __future__ import annotations

import datetime as dt
import os
import runpy
from collections.abc import Mapping

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx

from reelscope.catalog import Catalog, load_catalog
from reelscope.settings import Settings, load_settings
from reelscope.vertex import GenaiClient, NotConnected, make_genai_client


def settings() -> Settings:
    """Read on every run (cheap), so a changed environment or secrets file shows at once."""
    return load_settings(os.environ, _secrets())


@st.cache_resource
def catalog() -> Catalog:
    return load_catalog()


@st.cache_resource(show_spinner=False)
def genai_client(current: Settings) -> GenaiClient:
    """One client per settings value; NotConnected is raised, not cached, so a fix takes effect."""
    return make_genai_client(current)


def connected_client(current: Settings) -> GenaiClient | None:
    """The client, or None after telling the user what to set up."""
    try:
        return genai_client(current)
    except NotConnected as problem:
        fixes = "\n".join(problem.fixes)
        st.error(f"{problem} Run this in the shell that starts Reelscope, then restart it:")
        st.code(fixes, language="bash", wrap_lines=True)
        return None


def today() -> dt.date:
    return dt.date.today()


def _secrets() -> Mapping[str, object]:
    try:
        return dict(st.secrets)
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        return {}


def keep_widget_values(prefixes: tuple[str, ...]) -> None:
    """Keep what the user typed and chose while they visit another page.

    Streamlit forgets a widget's value at the end of a run that does not draw it. So each run
    first restores values whose widget is gone from a shadow copy, then refreshes the copies.
    Buttons and file uploaders cannot be written, so only value widgets are kept.
    """
    state = st.session_state
    for shadow in [k for k in state if isinstance(k, str) and k.startswith(_SHADOW)]:
        key = shadow.removeprefix(_SHADOW)
        if key not in state:
            state[key] = state[shadow]
    for key in [k for k in state if isinstance(k, str) and k.startswith(prefixes)]:
        if not key.endswith(_ACTION_SUFFIXES):
            state[_SHADOW + key] = state[key]


_SHADOW = "reelscope.kept."
_ACTION_SUFFIXES = (".reset", ".uploads", ".run", ".stop", ".stop_done", ".count")


def require_entrypoint() -> None:
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
