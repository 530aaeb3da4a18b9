"""Settings, catalog and clients for the UI, cached the Streamlit way around pure core calls."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping

import streamlit as st

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
