"""Adding videos and images: upload, or a gs://, https:// or YouTube link; each one previewed.

The picker owns its list of items under `{key}.items`, outside any widget, so what the user added
survives reruns and visits to other pages. An upload is taken in once: its bytes go to the
session spool, it is probed, and the uploader is emptied. A refused file stays listed with its
reason until the user removes it, and the page keeps Run disabled meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from components import kept, resources
from reelscope.catalog import MediaFacts
from reelscope.media import (
    EXTENSION_MIME_TYPES,
    MediaSource,
    SourceError,
    SourceKind,
    accept_upload,
    format_size,
    source_from_link,
)
from reelscope.probe import VideoProbe


@dataclass(frozen=True)
class Item:
    """One thing the user added: a usable source, or a refused file and why."""

    name: str
    source: MediaSource | None = None
    refusal: str | None = None

    @property
    def key(self) -> str:
        return self.source.key if self.source else f"refused:{self.name}:{self.refusal}"


def show(key: str, media: MediaFacts) -> tuple[list[MediaSource], list[str]]:
    """The sources the user added, in order, and one problem per refused item."""
    items_key = f"{key}.items"
    st.session_state.setdefault(items_key, [])

    upload_tab, link_tab = st.tabs(["Upload", "Link (gs:// · https · YouTube)"])
    with upload_tab:
        _uploader(key, items_key, media)
    with link_tab:
        _link_form(key, items_key)
    items: list[Item] = st.session_state[items_key]
    _previews(items, items_key)
    sources = [item.source for item in items if item.source is not None]
    refused = [f"{item.name}: {item.refusal} Remove it to run." for item in items if item.refusal]
    return sources, refused


def _uploader(key: str, items_key: str, media: MediaFacts) -> None:
    round_key = f"{key}.upload_round"  # a new uploader widget after each intake: it empties
    st.session_state.setdefault(round_key, 0)
    uploaded = st.file_uploader(
        "Videos or images",
        type=[ext.lstrip(".") for ext in EXTENSION_MIME_TYPES],
        accept_multiple_files=True,
        key=f"{key}.uploads.{st.session_state[round_key]}",
        help=f"Checked by their bytes; sent inline, up to {format_size(media.inline_limit_bytes)} "
        "per file.",
    )
    if not uploaded:
        return
    spool = resources.session_spool()
    with st.spinner("Checking the files…"):
        for file in uploaded:
            _add(items_key, _intake(spool, file, media))
    st.session_state[round_key] += 1
    st.rerun()


def _intake(spool, file, media: MediaFacts) -> Item:
    try:
        return Item(file.name, source=accept_upload(spool, file.name, file, media))
    except SourceError as problem:
        return Item(file.name, refusal=str(problem))


def _link_form(key: str, items_key: str) -> None:
    link = st.text_input(
        "Link",
        placeholder="gs://bucket/video.mp4 · https://…/clip.mp4 · https://youtu.be/…",
        **kept.bind(f"{key}.link_text", ""),
    )
    if not st.button("Add link", key=f"{key}.add_link"):
        return
    try:
        source = source_from_link(link)
    except SourceError as problem:
        st.error(str(problem), icon=":material/block:")  # the text stays in the box to fix
        return
    if not _add(items_key, Item(source.label, source=source)):
        st.info(f"{source.label} is already added.")


def _add(items_key: str, item: Item) -> bool:
    items: list[Item] = st.session_state[items_key]
    if any(existing.key == item.key for existing in items):
        return False
    items.append(item)
    return True


def _previews(items: list[Item], items_key: str) -> None:
    if not items:
        st.caption("Add one or more videos (and images, if you like) to ask about.")
        return
    columns = st.columns(3)
    for index, item in enumerate(items):
        with columns[index % len(columns)]:
            if item.source is not None:
                _preview(item.source)
            else:
                st.markdown(f"**{item.name}**")
                st.error(item.refusal, icon=":material/block:")
            st.button(
                "Remove",
                key=f"{items_key}.remove.{index}.{item.key}",
                type="tertiary",
                on_click=_remove,
                args=(items_key, item.key),
            )


def _remove(items_key: str, item_key: str) -> None:
    st.session_state[items_key] = [i for i in st.session_state[items_key] if i.key != item_key]


def _preview(source: MediaSource) -> None:
    facts = [source.mime_type]
    if source.size is not None:
        facts.append(format_size(source.size))
    if isinstance(source.probe, VideoProbe):
        probe = source.probe
        facts.append(f"{probe.duration_s:.1f} s · {probe.width}×{probe.height}")
        facts.append("with audio" if probe.has_audio else "no audio")
    st.markdown(f"**{source.label}** · " + " · ".join(facts))
    for note in source.probe.notes if source.probe else ():
        st.caption(note)
    if not source.previewable:
        st.caption(_no_preview_reason(source))
        return
    media = source.path if source.path is not None else source.uri
    if source.is_image:
        st.image(str(media))
    else:
        st.video(str(media), format=source.mime_type)


def _no_preview_reason(source: MediaSource) -> str:
    if source.kind is SourceKind.GCS:
        return f"{source.uri} (gs:// objects are not previewed yet; Vertex AI reads them)"
    return f"{source.uri} is sent to Vertex AI as a link; no preview of an unchecked host."
