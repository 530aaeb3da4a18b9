"""Values a component owns, kept apart from its widgets so they outlive them.

Streamlit forgets a widget's value at the end of any run that does not draw the widget (a visit
to another page, a control hidden for this model). So a component keeps each value under a
plain session-state key it alone writes, `kept_key(key)`, and hands it to the widget `key`
when the widget has none; the user's changes come back through on_change, and again from the
widget itself at the next draw (an interrupted rerun can skip a callback).

    text = st.text_area("Prompt", **kept.bind("ask.prompt", ""))
    kept.put("ask.prompt", "")            # from a callback: a "Clear" button
    kept.say_once("ask.notes", ["Saved."]); for note in kept.take_once("ask.notes"): st.info(note)

What the widget shows is what is kept. Nothing app-wide lists other components' keys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

_SUFFIX = ":kept"


def kept_key(key: str) -> str:
    """The plain (non-widget) session-state key that holds the value of widget `key`."""
    return key + _SUFFIX


def value(key: str, default: Any = None) -> Any:
    """The value of `key`: the widget's while Streamlit holds one, else the kept one, else
    `default`."""
    state = st.session_state
    if state.get(key) is not None:
        return state[key]
    return state.get(kept_key(key), default)


def has(key: str) -> bool:
    return kept_key(key) in st.session_state


def put(key: str, new: Any, *, redraw: bool = False) -> None:
    """Keep `new` for `key` and show it in the widget if one is alive.

    Call it from a callback (on_change, on_click) or before the widget is drawn in this run:
    Streamlit refuses to change a widget that was already drawn. `redraw`: hand the widget its
    value even when it holds the same one, as when its bounds are about to change (another
    model's slider is a new widget to Streamlit, drawn at its own default otherwise).
    """
    state = st.session_state
    state[kept_key(key)] = new
    if key in state and (redraw or state[key] != new):  # a live widget, or one held for later
        if new is None:
            del state[key]  # the widget falls back to its own default when drawn again
        else:
            state[key] = new


def bind(
    key: str,
    default: Any = None,
    *,
    on_change: Callable[..., None] | None = None,
    args: tuple[Any, ...] = (),
) -> dict[str, Any]:
    """Widget arguments that tie widget `key` to its kept value: `st.slider(..., **bind(k))`.

    Before the widget is drawn: if Streamlit still holds the widget's value, that is what the
    user sees, so it is kept (this also repairs a change whose callback an interrupted rerun
    skipped). Otherwise (first draw, a control hidden until now, a page visit) the kept value is
    used, or `default` when nothing is kept. Either way the widget is handed that value. The
    returned arguments ask Streamlit to hold the value across pages too
    (persist_state="session") and give an on_change that keeps the user's change first, then
    calls `on_change(*args)` if given.
    Pass no `value=`/`index=` to the widget: its key is its value.
    """
    state = st.session_state
    current = state.get(key)
    if current is not None:
        # Streamlit holds what the user sees: keep it, and never write it back (a value set
        # here is pushed to the browser, where it would undo keys pressed since this rerun
        # began). A control whose bounds change is given its value by whoever changes them
        # (`put`, e.g. on a change of model).
        state[kept_key(key)] = current
    else:
        current = state.get(kept_key(key))
        if current is None:
            current = state[kept_key(key)] = default
        if current is not None:
            state[key] = current
    return {
        "key": key,
        "persist_state": "session",
        "on_change": _store,
        "args": (key, on_change, args),
    }


def _store(key: str, then: Callable[..., None] | None, args: tuple[Any, ...]) -> None:
    st.session_state[kept_key(key)] = st.session_state.get(key)
    if then is not None:
        then(*args)


def say_once(key: str, messages: list[str]) -> None:
    """Leave notices for the next time the component draws (e.g. from a callback)."""
    st.session_state[kept_key(key)] = list(messages)


def take_once(key: str) -> list[str]:
    """The notices left under `key`, removed as they are taken: shown once, then gone."""
    return st.session_state.pop(kept_key(key), None) or []
