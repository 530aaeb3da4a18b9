"""Warms the browser with the frontend code other pages need, while the user is on this one.

Streamlit's frontend loads an element's code the first time a page shows one. The data grid
and its Arrow helpers are ~1.3 MB of JavaScript: loading and compiling them made the first
visit to History take ~1.1 s in a tab where the page itself takes ~0.4 s (measured by
bench/history_open.py). `show()` draws those elements themselves, empty and disabled, in a
container that a style rule hides, so the browser loads their code while the user is still on
this page and the first visit finds it ready. Public APIs only: a keyed container styled
through its `st-key-…` class (st.html with a style rule alone takes no space) and a fragment
on a timer.

When: once per tab (session), as the code stays loaded, and only a moment after the page has
painted: drawn at once, a 1.3 MB module compiling beside the page's own delayed the page (cold
Ask tabs took ~0.9 s longer in a paired measurement). So the first call draws an empty
fragment on a timer (`run_every`); its first tick draws the hidden elements, its second
reruns the app once, which stops the timer (a page no longer draws it).

A page that needs other elements' code soon (the Embeddings page: Plotly's) asks with
`also(key, elements)`: app.py's one prefetcher then draws them too, first, in their own hidden
container `key`. One timer per page, so one rerun of the app at its end (two prefetchers
ticked together, and the first to end reran the app under the other's tick).

`loaded(key)` says that second tick has reached the server: the browser drew the elements at
least AFTER_S before, and was free to run a timer since (compiling a module holds the page's
one thread, so no tick fires during it). The signal is the timer's, sent on its own, never a
widget event that a user's click could be batched with. Over a link slow enough that Plotly's
code takes longer than AFTER_S to download, the chart that follows shows Streamlit's own
placeholder for the rest of that time. The Embeddings page shows a picture of its map until
`loaded` (components/embeddings/embedding_map.py). A page script run before the tick (the user
did something) draws the fragment again, so the tick still comes.

Why a timer and not a signal from the browser when it is idle (what this did before): a
widget event from inside a fragment is flushed with whatever the user did in the same instant,
and Streamlit's frontend sends that batch as a rerun of the fragment alone
(WidgetStateManager.scheduleFlush keeps the first fragment id it sees; streamlit PR #12747),
so the user's click or upload never reached the page. Browsers call an idle callback exactly
when an event handler has just finished, so it happened often (a Stop click or an upload lost
in ~1 of 25 page loads). A fragment's timer is sent on its own, outside that batch.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Callable, Sequence

import streamlit as st

_KEY = re.compile(r"^[a-z][a-z0-9-]*$")  # used as is in the container's CSS class
# How long after the page the elements are drawn: the page's own code has compiled by then.
AFTER_S = 1.5


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


# A transparent 1×1 PNG.
_PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGBgAAAABQABpfZFQAAAAABJRU5ErkJggg=="
)


def _image(key: str) -> None:
    st.image(_PIXEL)


# What the History page draws first: its table (with its filters) and the replay speed.
HISTORY_ELEMENTS: tuple[Callable[[str], None], ...] = (_table, _multiselect, _dates, _segments)
# Plotly's code is 4.7 MB: fetched only where a chart is what comes next (the Embeddings page
# before a collection is open), not on every page a tab opens. The image's code too: a big
# map's picture shows under its chart while Plotly draws.
CHART_ELEMENTS: tuple[Callable[[str], None], ...] = (_chart, _image)


Group = tuple[str, tuple[Callable[[str], None], ...]]  # a container's key and its elements
_ASKED = "prefetch:asked"  # the groups the page asked for in this script run (`also`)
DEFAULT_KEY = "reelscope-prefetch"


def also(key: str, elements: Sequence[Callable[[str], None]]) -> None:
    """Have the prefetcher app.py draws after the page load `elements`' code too, in a hidden
    container `key` (lower case, digits and dashes: it is used in a CSS class). One timer for
    the page, not one per wish: each timer's last tick reruns the app."""
    _check(key)
    if not loaded(key):
        st.session_state.setdefault(_ASKED, {})[key] = tuple(elements)


def show(
    key: str = DEFAULT_KEY, elements: Sequence[Callable[[str], None]] = HISTORY_ELEMENTS
) -> None:
    """Have the browser load `elements`' code a moment after the page, with whatever the page
    asked for (`also`); call it after a page's content.

    `key` names the container (lower case, digits and dashes: it is used in a CSS class).
    """
    _check(key)
    asked = {**st.session_state.pop(_ASKED, {}), key: tuple(elements)}  # the page's first
    groups = tuple((name, group) for name, group in asked.items() if not loaded(name))
    if not groups:
        return
    for name, _elements in groups:
        st.session_state[_with_page(name)] = True
    st.fragment(tick, run_every=AFTER_S)(groups)


def tick(groups: Sequence[Group]) -> None:
    """The prefetcher's fragment: nothing with the page, each group's elements on the first
    tick, and on the second (their code has had AFTER_S to load) a rerun of the app that
    stops it."""
    done = False
    for key, elements in groups:
        with_page = st.session_state.pop(_with_page(key), False)
        drawn = st.session_state.get(_drawn(key), False)
        if drawn and not with_page:
            st.session_state[loaded_key(key)] = True
            done = True
            continue
        st.html(f"<style>.st-key-{key} {{ display: none; }}</style>")
        with st.container(key=key):  # hidden
            if drawn or not with_page:  # once drawn, kept drawn until the tick that ends it
                draw_hidden(key, elements)
    if done:
        st.rerun(scope="app")


def _check(key: str) -> None:
    if not _KEY.match(key):
        raise ValueError(f"prefetch key {key!r}: use lower case letters, digits and dashes")


def loaded(key: str) -> bool:
    """Whether this tab has had the elements' code loaded by the prefetcher `key`."""
    return bool(st.session_state.get(loaded_key(key)))


def draw_hidden(key: str, elements: Sequence[Callable[[str], None]]) -> None:
    """Draw `elements` (in the caller's hidden container), and remember that this session has."""
    for draw in elements:
        draw(key)
    st.session_state[_drawn(key)] = True


def _drawn(key: str) -> str:
    return f"{key}:drawn"


def loaded_key(key: str) -> str:
    """The session state's key for `loaded(key)`."""
    return f"{key}:loaded"


def _with_page(key: str) -> str:
    """Set while the page's own script run draws the prefetcher, so its fragment knows that
    this is not yet a tick."""
    return f"{key}:with-page"
