"""Adding videos and images: upload, or a gs://, https:// or YouTube link; each one previewed."""

from __future__ import annotations

import streamlit as st

from reelscope.catalog import MediaFacts
from reelscope.media import (
    EXTENSION_MIME_TYPES,
    MediaSource,
    SourceError,
    SourceKind,
    source_from_link,
    source_from_upload,
)


def show(key: str, media: MediaFacts) -> list[MediaSource]:
    """The sources the user added, in order. Refused ones are explained, never kept."""
    links_key = f"{key}.links"
    st.session_state.setdefault(links_key, [])

    upload_tab, link_tab = st.tabs(["Upload", "Link (gs:// · https · YouTube)"])
    with upload_tab:
        uploaded = st.file_uploader(
            "Videos or images",
            type=[ext.lstrip(".") for ext in EXTENSION_MIME_TYPES],
            accept_multiple_files=True,
            key=f"{key}.uploads",
            help=f"Sent inline, up to {media.inline_limit_bytes / 1_000_000:.0f} MB per file.",
        )
        sources = _uploaded_sources(uploaded or [], media)
    with link_tab:
        _link_form(key, links_key)
    sources += st.session_state[links_key]
    _previews(sources, links_key)
    return sources


def _uploaded_sources(files: list, media: MediaFacts) -> list[MediaSource]:
    sources = []
    for file in files:
        try:
            sources.append(source_from_upload(file.name, file.getvalue(), media))
        except SourceError as problem:
            st.error(str(problem), icon=":material/block:")
    return sources


def _link_form(key: str, links_key: str) -> None:
    with st.form(f"{key}.link_form", clear_on_submit=False, border=False):
        link = st.text_input(
            "Link",
            placeholder="gs://bucket/video.mp4 · https://…/clip.mp4 · https://youtu.be/…",
            key=f"{key}.link_text",
        )
        added = st.form_submit_button("Add link")
    if not added:
        return
    try:
        source = source_from_link(link)
    except SourceError as problem:
        st.error(
            str(problem), icon=":material/block:"
        )  # the typed text stays in the box to be corrected
        return
    links: list[MediaSource] = st.session_state[links_key]
    if any(existing.key == source.key for existing in links):
        st.info(f"{source.label} is already added.")
        return
    links.append(source)


def _previews(sources: list[MediaSource], links_key: str) -> None:
    if not sources:
        st.caption("Add one or more videos (and images, if you like) to ask about.")
        return
    columns = st.columns(3)
    for index, source in enumerate(sources):
        with columns[index % len(columns)]:
            _preview(source)
            if source.kind is not SourceKind.UPLOAD and st.button(
                "Remove", key=f"{links_key}.remove.{source.key}", type="tertiary"
            ):
                st.session_state[links_key] = [
                    s for s in st.session_state[links_key] if s.key != source.key
                ]
                st.rerun()


def _preview(source: MediaSource) -> None:
    caption = f"**{source.label}** · {source.mime_type}"
    if source.size is not None:
        caption += f" · {source.size / 1_000_000:.1f} MB"
    st.markdown(caption)
    if source.kind is SourceKind.GCS:
        st.caption(f"{source.uri} (preview of gs:// objects comes with Cloud Storage staging)")
        return
    media = source.data if source.data is not None else source.uri
    if source.is_image:
        st.image(media)
    else:
        st.video(media, format=source.mime_type)
