"""Deletes with undo: what was deleted, and Undo (the last delete) / Undo all, until the page
is left. The runs are hidden at once; the page calls `pending(...).finish()` when it opens
after a visit elsewhere (reelscope.store.deletions.PendingDeletes holds the steps).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from reelscope.store import Store
from reelscope.store.deletions import PendingDeletes
from reelscope.untrusted import safe_inline

Restored = Callable[[list[str]], None]
_LABEL_CHARS = 60


def pending(key: str, store: Store, owner: str) -> PendingDeletes:
    """This session's pending deletes of `owner`'s runs in `store`, made on first use."""
    current = st.session_state.get(key)
    if (
        not isinstance(current, PendingDeletes)
        or current.repo is not store.runs
        or current.owner != owner
    ):
        current = st.session_state[key] = PendingDeletes(store.runs, owner)
    return current


def show(key: str, store: Store, owner: str, on_restore: Restored) -> None:
    """The notice, while any delete can be undone; `on_restore(ids)` hears what came back."""
    deletes = pending(key, store, owner)
    steps = deletes.steps
    if not steps:
        return
    note, undo, undo_all = st.columns([8, 1, 1])
    note.info(describe(store, steps), icon=":material/delete:")
    undo.button(
        "Undo", key=f"{key}.undo", icon=":material/undo:", width="stretch",
        on_click=_undo, args=(deletes, PendingDeletes.undo, on_restore),
    )  # fmt: skip
    if len(steps) > 1:
        undo_all.button(
            "Undo all", key=f"{key}.undo_all", width="stretch",
            on_click=_undo, args=(deletes, PendingDeletes.undo_all, on_restore),
        )  # fmt: skip


def describe(store: Store, steps: list[tuple[str, ...]]) -> str:
    """What the notice says: what is deleted, what Undo brings back, until when."""
    last = steps[-1]
    what = _runs_label(store, last)
    if len(steps) == 1:
        them = "it" if len(last) == 1 else "them"
        return (
            f"Deleted {what}. Undo brings {them} back until you leave this page; "
            "then the delete is final."
        )
    total = sum(len(step) for step in steps)
    return (
        f"Deleted {total} runs in {len(steps)} steps. Undo brings back the last step: {what}; "
        "Undo all brings back every one. Both work until you leave this page; then the "
        "deletes are final."
    )


def _runs_label(store: Store, ids: tuple[str, ...]) -> str:
    if len(ids) > 1:
        return f"{len(ids)} runs"
    rows = store.runs.rows(list(ids))
    if not rows:
        return "1 run"
    prompt = " ".join(rows[0].prompt.split())
    shown = prompt[:_LABEL_CHARS] + ("…" if len(prompt) > _LABEL_CHARS else "")
    return f"the run “{safe_inline(shown) or '(no prompt)'}” ({safe_inline(rows[0].model_id)})"


def _undo(
    deletes: PendingDeletes, how: Callable[[PendingDeletes], list[str]], on_restore: Restored
) -> None:
    on_restore(how(deletes))
