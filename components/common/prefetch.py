"""Warms the browser with the frontend code other pages need, while the user is on this one.

Streamlit's frontend loads an element's code the first time a page shows one. The data grid
and its Arrow helpers are ~1.3 MB of JavaScript: loading and compiling them made the first
visit to History take ~1.1 s in a tab where the page itself takes ~0.4 s (measured by
bench/history_open.py). `show()` draws those elements themselves, empty and disabled, in a
container that a style rule hides, so the browser loads their code while the user is still on
this page and the first visit finds it ready. Public APIs only: a keyed container styled
through its `st-key-…` class (st.html with a style rule alone takes no space), and a small
component that tells the server when the browser is idle.

When: once per tab (session), as the code stays loaded, and only once the browser is idle
after the page has painted: drawn at once, a 1.3 MB module compiling beside the page's own
delayed the page (cold Ask tabs took ~0.9 s longer in a paired measurement). So the first call
draws an idle signal in a fragment; the browser's requestIdleCallback answers, which reruns
that fragment alone, and that run draws the hidden elements.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence

import streamlit as st

_KEY = re.compile(r"^[a-z][a-z0-9-]*$")  # used as is in the container's CSS class


def _table(key: str) -> None:
    st.dataframe({"": []}, key=f"{key}-table", hide_index=True)


def _multiselect(key: str) -> None:
    st.multiselect("Prefetch", [], key=f"{key}-multiselect", disabled=True)


def _dates(key: str) -> None:
    st.date_input("Prefetch", value=dt.date(2000, 1, 1), key=f"{key}-dates", disabled=True)


def _segments(key: str) -> None:
    st.segmented_control("Prefetch", ["·"], key=f"{key}-segments", disabled=True)


def _chart(key: str) -> None:
    import plotly.graph_objects as go  # here: only a page about to draw a chart pays for it

    st.plotly_chart(go.Figure(), key=f"{key}-chart")


# What the History page draws first: its table (with its filters) and the replay speed.
HISTORY_ELEMENTS: tuple[Callable[[str], None], ...] = (_table, _multiselect, _dates, _segments)
# Plotly's code is 4.7 MB: fetched only where a chart is what comes next (the Embeddings page
# before a collection is open), not on every page a tab opens.
CHART_ELEMENTS: tuple[Callable[[str], None], ...] = (_chart,)


def show(
    key: str = "reelscope-prefetch", elements: Sequence[Callable[[str], None]] = HISTORY_ELEMENTS
) -> None:
    """Have the browser load `elements`' code once it is idle; call it after a page's content.

    `key` names the container (lower case, digits and dashes: it is used in a CSS class).
    """
    if not _KEY.match(key):
        raise ValueError(f"prefetch key {key!r}: use lower case letters, digits and dashes")
    if not st.session_state.get(_drawn(key)):
        _when_idle(key, tuple(elements))


@st.fragment
def _when_idle(key: str, elements: tuple[Callable[[str], None], ...]) -> None:
    st.html(f"<style>.st-key-{key} {{ display: none; }}</style>")
    with st.container(key=key):  # hidden: the signal too takes no room
        signal = _idle(key=f"{key}-idle", data={"key": key}, on_idle_change=_ignore)
        if signal.idle:
            draw_hidden(key, elements)


def draw_hidden(key: str, elements: Sequence[Callable[[str], None]]) -> None:
    """Draw `elements` (in the caller's hidden container), and remember that this session has."""
    for draw in elements:
        draw(key)
    st.session_state[_drawn(key)] = True


def _drawn(key: str) -> str:
    return f"{key}:drawn"


def _ignore() -> None:
    """The idle signal's callback: its rerun (of the fragment alone) is all it is for."""


# Tells the server, once per tab and key, that the browser has nothing better to do. The latest
# mount is the one told through: a page left before the browser was idle does not lose it.
_IDLE_JS = """
const signals = (window.__reelscopeIdle ??= {});

export default function ({ data, parentElement, setTriggerValue }) {
  const signal = (signals[data.key] ??= { told: false, waiting: false });
  signal.root = parentElement;
  signal.tell = () => setTriggerValue("idle", true);
  if (signal.told || signal.waiting) return;
  signal.waiting = true;
  const go = () => {
    signal.waiting = false;
    if (!signal.root.isConnected) return; // unmounted: the next mount waits again
    signal.told = true;
    signal.tell();
  };
  if (window.requestIdleCallback) window.requestIdleCallback(go, { timeout: 3000 });
  else setTimeout(go, 1000);
}
"""
_idle = st.components.v2.component("reelscope.idle", js=_IDLE_JS)
