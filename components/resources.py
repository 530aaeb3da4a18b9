"""Settings, catalog and clients for the UI, cached the Streamlit way around pure core calls."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

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


_ENTRYPOINT_RAN = "reelscope.entrypoint_ran"


def mark_entrypoint_ran() -> None:
    st.session_state[_ENTRYPOINT_RAN] = True


def require_entrypoint() -> None:
    """Rerun through app.py when a page script was started on its own.

    On the first script run of a fresh server, Streamlit sees the `pages/` folder and runs a
    deep-linked page (say /models) directly, in its legacy multipage mode, without app.py's
    navigation and sidebar; only a call to st.navigation turns that mode off. We turn it off
    the same way st.navigation does and rerun, which comes back through app.py on the same page.
    """
    if st.session_state.get(_ENTRYPOINT_RAN):
        return
    PagesManager.uses_pages_directory = False
    st.rerun()
