"""Buttons that start live work: their click is kept until the page has acted on it.

A click reaches the page as a trigger that lasts one script run. Streamlit starts a new script
run at once for any newer event (runner.fastReruns) and drops the one going, and a browser
clears a trigger as soon as it has sent it: an event of the page's own right after the click
(the player reporting a video's length, a fragment's timer) would cut the click's run short
before it started the run, and the click was lost (seen in Chromium: Get chapters pressed while
a linked video was loading did nothing). So the button's callback, which Streamlit runs as the
script run begins and before any point where it can be cut short, marks the click; the page
reads the mark (`pressed`), draws the button once, disabled if the click starts work, and
clears the mark (`handled`) only in the same stretch of plain Python that starts the work, so a
cut-short run leaves it for the next one.

Drawing the button once also matters: drawn again under another key (a widget key is used once
a script run), the first stayed in the browser, greyed out beside the second, for as long as
the script run lasted (a run's whole stream), and when the browser dropped it the row moved
under the pointer: a Stop pressed in that instant landed on "Count tokens".
"""

from __future__ import annotations

import time

import streamlit as st

# A run cut short is followed by the next at once; a mark older than this is a click whose page
# the user left before it acted (a page visit right after Run): it must not start work later.
FRESH_S = 5.0


def pressed(key: str) -> bool:
    """Whether the button `key` was pressed moments ago and the page has not yet acted on it."""
    at = st.session_state.get(_mark(key))
    return at is not None and time.monotonic() - at <= FRESH_S


def remember(key: str) -> None:
    """The button's on_click: mark the click (pass `args=(key,)`)."""
    st.session_state[_mark(key)] = time.monotonic()


def handled(key: str) -> None:
    """The page has acted on the click (started the work, or said why not)."""
    st.session_state.pop(_mark(key), None)


def _mark(key: str) -> str:
    return f"{key}:pressed"
