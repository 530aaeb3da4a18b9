"""Pick an analysis mode, edit its prompt, keep the edit as your own mode.

The prompt is kept per mode (`{key}.prompt.<mode id>`), so switching modes and back keeps an
edit. Saved modes live in the store's database (`reelscope.store.modes.ModeStore`), the same on
every instance; without a store (its database cannot be opened) only the built-in modes show.
"""

from __future__ import annotations

import streamlit as st

from components.common import kept, resources
from reelscope.chapters.modes import BUILTIN_MODES, Mode, ModeError
from reelscope.owners import NotYours
from reelscope.store import ModeStore
from reelscope.untrusted import safe_inline


def show(key: str, store: ModeStore | None) -> tuple[Mode, str]:
    """The chosen mode and the prompt to send (the mode's, or the user's edit of it)."""
    owner = resources.owner()
    modes = store.all(owner) if store is not None else list(BUILTIN_MODES)
    by_id = {m.id: m for m in modes}
    for note in kept.take_once(f"{key}.saved"):
        st.success(note, icon=":material/bookmark_added:")
    if kept.value(f"{key}.mode") not in by_id:
        kept.put(f"{key}.mode", modes[0].id)
    mode_id = st.selectbox(
        "Analysis",
        options=list(by_id),
        format_func=lambda i: by_id[i].name + ("" if by_id[i].builtin else " (yours)"),
        **kept.bind(f"{key}.mode", modes[0].id),
    )
    mode = by_id[mode_id]
    prompt = st.text_area("Prompt", height=130, **kept.bind(f"{key}.prompt.{mode.id}", mode.prompt))
    reset, save = st.columns(2)
    reset.button(
        "Back to the mode's prompt",
        key=f"{key}.reset.{mode.id}",
        on_click=kept.put,
        args=(f"{key}.prompt.{mode.id}", mode.prompt),
        disabled=prompt == mode.prompt,
        type="tertiary",
    )
    with save.popover("Save as my mode", icon=":material/bookmark_add:"):
        if store is None:
            st.warning(_NO_STORE, icon=":material/warning:")
            return mode, prompt
        name = st.text_input("Name", **kept.bind(f"{key}.new_name", ""))
        st.caption(f"Keeps this prompt with the {mode.kind} schema.")
        if st.button("Save", key=f"{key}.save"):
            _save(key, store, name, mode, prompt, owner)
        if not mode.builtin and st.button(f"Delete '{mode.name}'", key=f"{key}.delete"):
            try:
                store.delete(mode.id, owner=owner)
            except NotYours as refused:  # not this user's (the store decides, not the button)
                st.error(safe_inline(str(refused)))
                return mode, prompt
            kept.put(f"{key}.mode", modes[0].id)
            st.rerun()
    return mode, prompt


_NO_STORE = (
    "Your modes are kept with the run history, which cannot be opened now: the History page "
    "says why. The built-in modes and your edits of their prompts still work."
)


def _save(key: str, store: ModeStore, name: str, mode: Mode, prompt: str, owner: str) -> None:
    try:
        saved = store.save(name, mode.kind, prompt, owner=owner)
    except ModeError as problem:
        st.error(str(problem))
        return
    st.session_state[kept.kept_key(f"{key}.prompt.{saved.id}")] = saved.prompt
    st.session_state.pop(f"{key}.prompt.{saved.id}", None)
    st.session_state[kept.kept_key(f"{key}.mode")] = saved.id
    st.session_state.pop(f"{key}.mode", None)
    kept.say_once(f"{key}.saved", [f"Saved '{saved.name}' as your mode."])
    st.rerun()
