"""Mine or the team's: the switch that History and the Library share, kept like any choice.

    team = whose.show("history.whose", "runs")     # False: the user's own (the default)

The team's records are shown read-only: a page offers deletes only for the user's own
(`all_mine`), and the stores refuse the rest anyway (reelscope/owners.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import streamlit as st

from components.common import kept

MINE, TEAM = "Mine", "Team"


class Owned(Protocol):
    owner: str


def show(key: str, what: str) -> bool:
    """The switch; True when the user asked for the team's `what` (runs, files)."""
    whose = st.segmented_control(
        f"Whose {what}",
        [MINE, TEAM],
        help=f"Your own {what}, or everyone's on your team (read-only).",
        **kept.bind(key, MINE),
    )
    return whose == TEAM  # deselected: back to the default, Mine


def all_mine(records: Iterable[Owned], user: str) -> bool:
    """Whether every one of these records is `user`'s: only then may they be deleted."""
    return all(record.owner == user for record in records)


def owner_label(owner: str, user: str) -> str:
    """An owner as a table shows it: "you", or their email on one line (as text: the data
    grid renders no Markdown or HTML)."""
    return "you" if owner == user else " ".join(owner.split())
