"""The media library as a table: what is kept, its length and size, where it is used; delete or
put on the Ask page.

The user's own files by default; the team's on the switch (components/common/whose.py), with
their owner, read-only: anyone puts a teammate's file on the Ask page, only its owner deletes it.
Names are the user's file names and links; the table shows them as text (the data grid never
renders Markdown or HTML).
"""

from __future__ import annotations

import streamlit as st

from components.common import kept, whose
from components.media import source_picker
from reelscope.clock import clock
from reelscope.library import LibraryItem, MediaLibrary
from reelscope.media import SourceError, format_size
from reelscope.owners import NotYours
from reelscope.untrusted import safe_inline

ASK_SOURCES_KEY = "ask.sources"
ASK_PAGE = "pages/ask.py"


def show(key: str, library: MediaLibrary, owner: str) -> list[LibraryItem]:
    """The table and what can be done with the rows picked in it; the picked items."""
    for notice in kept.take_once(f"{key}.notices"):
        st.success(notice, icon=":material/check_circle:")
    for refusal in kept.take_once(f"{key}.refusals"):
        st.error(refusal, icon=":material/block:")
    team = whose.show(f"{key}.whose", "files")
    items = library.items(None if team else owner)
    used = library.usage()
    _space(library, items)
    if not items:
        st.info(
            "Nothing kept yet: upload a video or paste a link on any page, and it is kept here.",
            icon=":material/video_library:",
        )
        return []
    event = st.dataframe(
        _columns(items, used, owner if team else None),
        key=f"{key}.table",
        on_select="rerun",
        selection_mode="multi-row",
        hide_index=True,
        width="stretch",
        column_config={
            "Added (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "Last used (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "Name": st.column_config.TextColumn(width="large"),
        },
    )
    rows = sorted(event.selection.rows) if event is not None else []
    picked = [items[i] for i in rows if i < len(items)]
    if picked:
        _actions(key, library, picked, used, owner)
    else:
        st.caption("Pick rows to delete them or to put them on the Ask page.")
    return picked


def _space(library: MediaLibrary, items: list[LibraryItem]) -> None:
    uploads = sum(1 for item in items if item.is_upload)
    links = len(items) - uploads
    used, cap = library.used_bytes(), library.max_bytes
    st.progress(
        min(used / cap, 1.0) if cap else 0.0,
        text=f"{format_size(used)} of {format_size(cap)} used · {uploads:,} uploads · "
        f"{links:,} links (REELSCOPE_LIBRARY_MAX_GB sets the size)",
    )


def _columns(
    items: list[LibraryItem], used: dict[str, dict[str, int]], team_of: str | None
) -> dict[str, list]:
    owners = {"Owner": [whose.owner_label(i.owner, team_of) for i in items]} if team_of else {}
    return {
        "Name": [item.name for item in items],
        "Kind": [_kind(item) for item in items],
        "Length": [_length(item) for item in items],
        "Size": [format_size(item.size) if item.size is not None else "–" for item in items],
        "Used by": [_uses(used.get(item.key, {})) for item in items],
        "Added (UTC)": [item.added_at.replace(tzinfo=None) for item in items],
        "Last used (UTC)": [item.used_at.replace(tzinfo=None) for item in items],
        **owners,
    }


def _length(item: LibraryItem) -> str:
    return clock(item.duration_s) if item.duration_s is not None else "–"


def _kind(item: LibraryItem) -> str:
    if not item.is_upload:
        return f"{item.kind} link"
    kind = "video" if item.mime_type.startswith("video/") else "image"
    return f"{kind} upload" + (" (staged)" if item.staged_uri else "")


def _uses(counts: dict[str, int]) -> str:
    words = {"runs": ("run", "runs"), "collections": ("collection", "collections")}
    parts = [
        f"{count} {words.get(name, (name, name))[count != 1]}"
        for name, count in sorted(counts.items())
        if count
    ]
    return " · ".join(parts) or "–"


def _actions(
    key: str,
    library: MediaLibrary,
    picked: list[LibraryItem],
    used: dict[str, dict[str, int]],
    owner: str,
) -> None:
    notice = st.container()  # above the buttons, as what it warns about
    ask, delete = st.columns([2, 1])
    if ask.button(f"Put {len(picked)} on the Ask page", key=f"{key}.to_ask"):
        source_picker.add_keys(ASK_SOURCES_KEY, [(item.name, item.key) for item in picked])
        st.switch_page(ASK_PAGE)
    if not whose.all_mine(picked, owner):
        st.caption("Only a file's owner can delete it: your team's files are read-only here.")
        return
    in_use = [item for item in picked if used.get(item.key)]
    if in_use:
        names = ", ".join(safe_inline(item.name) for item in in_use[:5])
        notice.warning(
            f"Used by kept runs or collections: {names}. Deleting removes the file here; runs "
            "keep their record and answer, and a collection can no longer play what it used.",
            icon=":material/warning:",
        )
    delete.button(
        f"Delete {len(picked)}",
        key=f"{key}.delete",
        on_click=_delete,
        args=(key, library, [item.key for item in picked], [item.name for item in picked], owner),
        icon=":material/delete:",
    )


def _delete(key: str, library: MediaLibrary, keys: list[str], names: list[str], owner: str) -> None:
    removed, refused = [], []
    for item_key, name in zip(keys, names, strict=True):
        try:
            if library.delete(item_key, owner=owner):
                removed.append(name)
        except (NotYours, SourceError) as problem:  # not theirs; the bucket refused
            refused.append(safe_inline(str(problem)))
    if removed:
        names = ", ".join(safe_inline(name) for name in removed)
        kept.say_once(f"{key}.notices", [f"Deleted {len(removed)}: {names}."])
    kept.say_once(f"{key}.refusals", refused)
