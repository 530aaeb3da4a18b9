"""Defining a lab grid: its videos (library or gs:// prefix), prompt variants with their
variables, the models with their own parameters, and how the answer is asked for.

Every value is kept (components/common/kept.py), so a visit to another page loses nothing.
`show` returns the grid as defined so far; the page checks it (reelscope/lab/grid.check_grid).
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from components.common import kept, model_params
from components.media import prefix_picker
from reelscope.catalog import Catalog
from reelscope.chapters.modes import Mode
from reelscope.lab.grid import (
    MAX_MODELS,
    MAX_ROWS,
    MAX_VARIANTS,
    ROW_VARIABLE,
    VARIANT_NAMES,
    GridSpec,
    ModelColumn,
    VideoRow,
)
from reelscope.lab.sources import prefix_rows
from reelscope.library import LibraryItem
from reelscope.settings import BACKEND_VERTEX
from reelscope.untrusted import safe_inline

FROM_LIBRARY = "Library"
FROM_PREFIX = "Cloud Storage prefix"
FREE_TEXT = "free text"


def show(
    key: str,
    catalog: Catalog,
    today: dt.date,
    location: str,
    *,
    backend: str = BACKEND_VERTEX,
    items: list[LibraryItem],
    lister: prefix_picker.Lister | None,
    modes: list[Mode],
) -> GridSpec:
    """The grid as the user defined it (perhaps incomplete: the page checks it)."""
    st.text_input("Lab name", placeholder="e.g. Product shots, Nov", **kept.bind(f"{key}.name", ""))
    rows = _videos(key, items, lister)
    mode = _answer_mode(key, modes)
    variants, values = _prompt(key, mode)
    models = _models(key, catalog, today, location, backend)
    return GridSpec(
        variants=variants,
        models=models,
        rows=rows,
        values=values,
        mode_id=mode.id if mode else None,
        name=str(kept.value(f"{key}.name") or ""),
    )


def concurrency(key: str) -> int:
    """How many cells may be in flight at once (the quota limiter's cap)."""
    return int(
        st.number_input(
            "Cells at once",
            min_value=1,
            max_value=32,
            help="How many cells are sent at the same time. A 429 (quota) slows the whole grid "
            "down and halves this for the model that answered it, then it grows back.",
            **kept.bind(f"{key}.concurrency", 16),
        )
    )


def concurrency_value(key: str) -> int:
    """The cap the user set, where the launch reads it."""
    return int(kept.value(f"{key}.concurrency", 16) or 16)


def _videos(
    key: str, items: list[LibraryItem], lister: prefix_picker.Lister | None
) -> tuple[VideoRow, ...]:
    st.markdown("**Videos** (a row each)")
    where = st.segmented_control(
        "Videos from", [FROM_LIBRARY, FROM_PREFIX], **kept.bind(f"{key}.from", FROM_LIBRARY)
    )
    if where == FROM_PREFIX:
        return _prefix(key, lister)
    videos = {item.key: item for item in items if item.mime_type.startswith("video/")}
    if not videos:
        st.info("The library has no videos yet: add some on Ask or Library.",
                icon=":material/info:")  # fmt: skip
    chosen = st.multiselect(
        f"Videos from the library (up to {MAX_ROWS})",
        list(videos),
        format_func=lambda k: videos[k].name if k in videos else k,  # options are text
        **kept.bind(f"{key}.library", []),
    )
    return tuple(VideoRow(k, videos[k].name) for k in chosen if k in videos)


def _prefix(key: str, lister: prefix_picker.Lister | None) -> tuple[VideoRow, ...]:
    listing = prefix_picker.show(key, lister, button="List videos")
    if listing is None:
        return ()
    rows = prefix_rows(listing)
    notes = [f"{len(rows)} videos under {safe_inline(listing.uri)}"]
    if listing.skipped:
        notes.append(f"{listing.skipped} other files left out")
    if listing.more:
        notes.append(f"only the first {MAX_ROWS}: a grid takes no more; narrow the prefix")
    st.caption(" · ".join(notes))
    return rows


def _answer_mode(key: str, modes: list[Mode]) -> Mode | None:
    by_id = {mode.id: mode for mode in modes}
    choice = st.selectbox(
        "Answer as",
        [FREE_TEXT, *by_id],
        format_func=lambda i: "Free text" if i == FREE_TEXT else by_id[i].name,
        help="An analysis mode (chapters, key moments, …) asks for its JSON shape in every cell: "
        "its schema goes with the prompt, and a cell opens like a Chapters run.",
        **kept.bind(f"{key}.mode", FREE_TEXT, on_change=_mode_prompt, args=(key, by_id)),
    )
    return by_id.get(choice)


def _mode_prompt(key: str, by_id: dict[str, Mode]) -> None:
    """A mode just chosen fills the variants still empty with its own prompt."""
    mode = by_id.get(kept.value(f"{key}.mode"))
    if mode is None:
        return
    for index in range(MAX_VARIANTS):
        if not str(kept.value(f"{key}.variant.{index}") or "").strip():
            kept.put(f"{key}.variant.{index}", mode.prompt)


def _prompt(key: str, mode: Mode | None) -> tuple[tuple[str, ...], dict[str, str]]:
    st.markdown("**Prompt**")
    count = st.segmented_control(
        "Variants", list(range(1, MAX_VARIANTS + 1)), **kept.bind(f"{key}.variant_count", 1)
    )
    count = count or 1
    default = mode.prompt if mode else ""
    variants = []
    for index in range(count):
        variants.append(
            st.text_area(
                f"Variant {VARIANT_NAMES[index]}",
                placeholder="Describe what happens in {video}. Give timestamps as MM:SS.",
                height=100,
                **kept.bind(f"{key}.variant.{index}", default),
            )
        )
    st.caption(
        f"Write `{{name}}` for a value you fill in below; `{{{ROW_VARIABLE}}}` is each video's "
        "name. `{{` and `}}` are literal braces."
    )
    spec = GridSpec(tuple(variants), (), ())
    values = {}
    for name in spec.variables():
        values[name] = st.text_input(f"{{{name}}}", **kept.bind(f"{key}.value.{name}", ""))
    return tuple(variants), values


def _models(
    key: str, catalog: Catalog, today: dt.date, location: str, backend: str
) -> tuple[ModelColumn, ...]:
    st.markdown("**Models** (each with its own parameters)")
    count = st.segmented_control(
        "Models", list(range(1, MAX_MODELS + 1)), **kept.bind(f"{key}.model_count", 2)
    )
    first = catalog.default_model_on(backend, today).id
    current = [m.id for m in catalog.models if m.is_callable(today, backend) and m.on(backend)]
    defaults = [first] + [i for i in current if i != first]
    columns = []
    for index, column in enumerate(st.columns(count or 1, gap="small")):
        shown_key = f"{key}.model.{index}"
        shown = model_params.chosen_model(shown_key, catalog) or catalog.get(
            defaults[index % len(defaults)]
        )
        with column, model_params.panel(shown_key, f"Model {index + 1}: {shown.name}"):
            model, params = model_params.show(
                shown_key,
                catalog,
                today,
                location,
                backend=backend,
                default_model_id=defaults[index % len(defaults)],
                system_instructions=True,
            )
        columns.append(ModelColumn(model.id, params))
    return tuple(columns)
