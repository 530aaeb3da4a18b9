"""The prompt library: pick a ready or saved prompt, fill its variables, save your own.

    prompt_library.show("ask.library", prompt_key="ask.prompt")   # before the prompt text area

"Use this prompt" writes the filled prompt into the kept value of the prompt widget
`prompt_key` (from its callback, so the text area shows it in the same run); "Save" keeps the
text of that widget as a named prompt in the store. The component owns the keys `{key}.…`.
"""

from __future__ import annotations

import streamlit as st

from components.common import kept, resources
from reelscope import prompts
from reelscope.database import DATABASE_ERRORS
from reelscope.owners import NotYours
from reelscope.store import Prompt, Store
from reelscope.untrusted import safe_inline, safe_markdown

_SAVED = "saved"


def show(key: str, prompt_key: str | None = None) -> str | None:
    """An expander with the library; the filled prompt on the run it was chosen, else None.

    Without `prompt_key` the caller puts the returned text where it wants; saving is then off.
    """
    store = _store()
    with st.expander("Prompt library", icon=":material/library_books:"):
        items = {item.id: item for item in prompts.library(store)}
        choice_key = f"{key}.choice"
        if kept.value(choice_key) not in items:
            kept.put(choice_key, prompts.READY_PROMPTS[0].id)
        chosen = items[
            st.selectbox(
                "Ready or saved prompt",
                list(items),
                format_func=lambda pid: _label(items[pid]),
                **kept.bind(choice_key),
            )
        ]
        st.caption(safe_markdown(chosen.text).replace("\n", "  \n"))
        for name in prompts.parse_variables(chosen.text):
            st.text_input(f"{{{name}}}", **kept.bind(f"{key}.var.{name}", _default(name)))
        row = st.container(horizontal=True)  # each button as wide as its label: none cut
        row.button(
            "Use this prompt",
            key=f"{key}.use",
            type="primary",
            on_click=_use,
            args=(key, items, prompt_key),
            icon=":material/input:",
        )
        owner = resources.owner()
        if isinstance(chosen, Prompt) and _deletable(chosen, owner) and store is not None:
            row.button(
                "Delete",
                key=f"{key}.delete",
                on_click=_delete,
                args=(key, store, chosen, owner),
                icon=":material/delete:",
            )
        for message in kept.take_once(f"{key}.notices"):
            st.info(message)
        for message in kept.take_once(f"{key}.errors"):
            st.error(message)
        if prompt_key is not None:
            _save_form(key, store, prompt_key)
    return st.session_state.pop(f"{key}.used", None)


def _save_form(key: str, store: Store | None, prompt_key: str) -> None:
    st.divider()
    if store is None:
        st.caption("Saving prompts needs the history database, which could not be opened.")
        return
    st.text_input(
        "Save the current prompt as",
        placeholder="e.g. Product demo recap",
        help="Write {name} in the prompt for a value to fill in each time, e.g. {language}.",
        **kept.bind(f"{key}.save_name", ""),
    )
    st.button(
        "Save prompt",
        key=f"{key}.save",
        on_click=_save,
        args=(key, store, prompt_key),
        icon=":material/bookmark_add:",
    )


# Callbacks read what the widgets hold when the click arrives, not what they held when drawn:
# a value typed just before the click comes in the same rerun.


def _use(key: str, items: dict[str, Prompt | prompts.ReadyPrompt], prompt_key: str | None) -> None:
    chosen = items.get(kept.value(f"{key}.choice"))
    if chosen is None:
        return
    names = prompts.parse_variables(chosen.text)
    values = {name: kept.value(f"{key}.var.{name}", _default(name)) or "" for name in names}
    try:
        filled = prompts.fill(chosen.text, values)
    except prompts.PromptError as problem:
        kept.say_once(f"{key}.errors", [str(problem)])
        return
    if prompt_key is not None:
        kept.put(prompt_key, filled)
    st.session_state[f"{key}.used"] = filled


def _save(key: str, store: Store, prompt_key: str) -> None:
    name = kept.value(f"{key}.save_name") or ""
    try:
        saved = prompts.save(store, name, kept.value(prompt_key) or "", owner=resources.owner())
    except prompts.PromptError as problem:
        kept.say_once(f"{key}.errors", [str(problem)])
        return
    kept.put(f"{key}.choice", saved.id)
    kept.put(f"{key}.save_name", "")
    variables = ", ".join("{" + v + "}" for v in saved.variables)
    kept.say_once(
        f"{key}.notices",
        [f"Saved “{saved.name}”" + (f" with {variables}." if variables else ".")],
    )


def _deletable(prompt: Prompt, owner: str) -> bool:
    """The team's saved prompts are everyone's to use; only their owner deletes them."""
    return not prompt.built_in and prompt.owner == owner


def _delete(key: str, store: Store, prompt: Prompt, owner: str) -> None:
    try:
        store.prompts.delete(prompt.id, owner=owner)
    except NotYours as refused:
        kept.say_once(f"{key}.errors", [safe_inline(str(refused))])
        return
    kept.put(f"{key}.choice", prompts.READY_PROMPTS[0].id)
    kept.say_once(f"{key}.notices", [f"Deleted “{prompt.name}”."])


def _label(item: Prompt | prompts.ReadyPrompt) -> str:
    return item.name if isinstance(item, prompts.ReadyPrompt) else f"{item.name} · {_SAVED}"


def _default(name: str) -> str:
    return prompts.VARIABLE_DEFAULTS.get(name, "")


def _store() -> Store | None:
    """The app's store with the ready prompts in it; None when its file cannot be opened."""
    data_dir = resources.settings().data_dir
    try:
        store = resources.store(data_dir)
    except (OSError, RuntimeError, *DATABASE_ERRORS):
        return None
    _install_ready(str(data_dir), store)
    return store


@st.cache_resource(show_spinner=False)
def _install_ready(data_dir: str, _store: Store) -> None:
    """Once per process and store: the ready prompts' rows follow the code."""
    prompts.install_ready(_store)
