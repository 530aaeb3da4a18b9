"""Deleting a lab: behind a popover, refused while any of its cells or jobs is still going.

What goes is the lab's definition, its grid and its batch jobs' records; its cells stay in
History as runs (each says it was a lab's cell), so nothing anyone ran is lost.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from reelscope.store.labs import LabRow
from reelscope.untrusted import safe_inline


def show(key: str, lab: LabRow, *, live: bool, delete: Callable[[str], None]) -> None:
    """A "Delete lab" popover whose button calls `delete(lab.id)` before the next run."""
    with st.popover("Delete lab", icon=":material/delete:", key=key):
        st.caption(
            f"Delete {safe_inline(lab.name)}? Its grid and its batch jobs' records go; "
            "its cells stay in History as runs."
        )
        st.button(
            "Delete this lab",
            key=f"{key}.confirm",
            type="primary",
            disabled=live,
            help="Stop its cells and batch jobs first (the Running list)." if live else None,
            on_click=delete,
            args=(lab.id,),
        )
