"""Adding videos and images: upload, or a gs://, https:// or YouTube link; each one previewed.

The picker owns its list of items under `{key}.items`, outside any widget, so what the user added
survives reruns and visits to other pages. An upload is taken in once: its bytes go to the
session spool, it is probed, and the uploader is emptied. One above the inline limit is staged
to the Cloud Storage bucket (REELSCOPE_BUCKET) with a progress bar, and is then sent by its
gs:// URI. A refused file stays listed with its reason until the user removes it, and the page
keeps Run disabled meanwhile. Each video carries its clip settings (components/clip_settings).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import streamlit as st

from components.common import kept, resources
from components.media import clip_settings, media_preview
from reelscope.catalog import MediaFacts, Model
from reelscope.media import (
    MediaSource,
    SourceError,
    SourceKind,
    accept_upload,
    clock,
    format_size,
    source_from_link,
)
from reelscope.media_rules import (
    check_gcs_access,
    gcs_checked_by_vertex,
    too_large_to_send,
)
from reelscope.mime import EXTENSION_MIME_TYPES
from reelscope.probe import VideoProbe
from reelscope.settings import Settings
from reelscope.spool import Spool
from reelscope.storage import StagingError, stage_file


@dataclass(frozen=True)
class Item:
    """One thing the user added: a usable source, or a refused file and why."""

    name: str
    source: MediaSource | None = None
    refusal: str | None = None
    note: str | None = None  # worth knowing, not blocking (e.g. who checks a gs:// object)

    @property
    def key(self) -> str:
        return self.source.key if self.source else f"refused:{self.name}:{self.refusal}"


def show(
    key: str, media: MediaFacts, model: Model | None = None, *, video_previews: bool = True
) -> tuple[list[MediaSource], list[str]]:
    """The sources the user added, in order (videos with their clip settings), and one problem
    per refused item or unreadable clip offset. `model` decides whether a video offers its own
    media resolution. `video_previews` False: a page that plays the video in its own player."""
    items_key = f"{key}.items"
    st.session_state.setdefault(items_key, [])

    upload_tab, link_tab = st.tabs(["Upload", "Link (gs:// · https · YouTube)"])
    with upload_tab:
        _uploader(key, items_key, media)
    with link_tab:
        _link_form(key, items_key)
    for notice in kept.take_once(f"{key}.notices"):
        st.info(notice, icon=":material/cloud_done:")
    items: list[Item] = st.session_state[items_key]
    sources, problems = _previews(key, items, items_key, model, video_previews)
    refused = [f"{item.name}: {item.refusal} Remove it to run." for item in items if item.refusal]
    return sources, refused + problems


def _uploader(key: str, items_key: str, media: MediaFacts) -> None:
    round_key = f"{key}.upload_round"  # a new uploader widget after each intake: it empties
    st.session_state.setdefault(round_key, 0)
    settings = resources.settings()
    uploaded = st.file_uploader(
        "Videos or images",
        type=[ext.lstrip(".") for ext in EXTENSION_MIME_TYPES],
        accept_multiple_files=True,
        key=f"{key}.uploads.{st.session_state[round_key]}",
        help=_upload_help(media, settings),
    )
    if not uploaded:
        return
    spool = resources.session_spool()
    notices: list[str] = []
    with st.spinner("Checking the files…"):
        for file in uploaded:
            item = _intake(spool, file, media)
            if item.source is not None and too_large_to_send(item.source, media):
                item = _stage(spool, item, settings, media, notices)
            _add(items_key, item)
    kept.say_once(f"{key}.notices", notices)
    st.session_state[round_key] += 1
    st.rerun()


def _upload_help(media: MediaFacts, settings: Settings) -> str:
    inline = format_size(media.inline_limit_bytes)
    if settings.bucket:
        return (
            f"Checked by their bytes. Files up to {inline} go inline; larger ones are staged to "
            f"gs://{settings.bucket}/reelscope/ (once per content) and sent by their gs:// URI."
        )
    return (
        f"Checked by their bytes and sent inline, up to {inline} per file. For larger files "
        "set a staging bucket (REELSCOPE_BUCKET): they are then sent through Cloud Storage."
    )


def _intake(spool: Spool, file, media: MediaFacts) -> Item:
    try:
        return Item(file.name, source=accept_upload(spool, file.name, file, media))
    except SourceError as problem:
        return Item(file.name, refusal=str(problem))


def _stage(
    spool: Spool, item: Item, settings: Settings, media: MediaFacts, notices: list[str]
) -> Item:
    """Send an upload above the inline limit to gs://BUCKET/reelscope/<sha256>.<ext>."""
    source = item.source
    assert source is not None and source.sha256 is not None and source.path is not None
    refusal = too_large_to_send(source, media, settings.bucket)
    client = resources.storage_client(settings) if settings.bucket else None
    if settings.bucket and client is None:
        refusal += " (Cloud Storage is not connected: see the sidebar.)"
    if not settings.bucket or client is None:
        spool.discard(source.sha256)
        return Item(item.name, refusal=refusal)
    total = format_size(source.size or 0)
    bar = st.progress(0.0, text=f"Uploading {item.name} to gs://{settings.bucket}… 0 of {total}")

    def progress(sent: int, size: int) -> None:  # called on this thread, between chunks
        text = f"Uploading {item.name} to gs://{settings.bucket}… {format_size(sent)} of {total}"
        bar.progress(sent / size if size else 1.0, text=text)

    try:
        staged = stage_file(
            client, settings.bucket, source.path, source.sha256, source.mime_type, progress
        )
    except StagingError as problem:
        spool.discard(source.sha256)
        return Item(item.name, refusal=f"{problem} Remove it and add it again to retry.")
    bar.empty()
    done = "uploaded to" if staged.uploaded else "already in Cloud Storage (not uploaded again):"
    notices.append(f"{item.name} is {format_size(staged.size)}: {done} {staged.uri}")
    return Item(item.name, source=dataclasses.replace(source, kind=SourceKind.GCS, uri=staged.uri))


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
    note = None
    if source.kind is SourceKind.GCS:
        finding = _gcs_finding(str(source.uri))
        if finding is not None and finding.blocking:
            st.error(finding.message, icon=":material/block:")
            return
        note = finding.message if finding is not None else None
    if not _add(items_key, Item(source.label, source=source, note=note)):
        st.info(f"{source.label} is already added.")


def _gcs_finding(uri: str):
    """Look a gs:// object up where Cloud Storage is set up for Reelscope (a staging bucket or
    an emulator); else Vertex AI checks the project's access when it runs."""
    settings = resources.settings()
    if not (settings.bucket or settings.storage_emulator_host):
        return gcs_checked_by_vertex(uri)
    client = resources.storage_client(settings)
    if client is None:
        return gcs_checked_by_vertex(uri)
    with st.spinner(f"Looking up {uri}…"):
        return check_gcs_access(client, uri)


def _add(items_key: str, item: Item) -> bool:
    items: list[Item] = st.session_state[items_key]
    if any(existing.key == item.key for existing in items):
        return False
    items.append(item)
    return True


def _previews(
    key: str, items: list[Item], items_key: str, model: Model | None, video_previews: bool
) -> tuple[list[MediaSource], list[str]]:
    """Each item with its facts, and each video with its clip settings; the sources to send."""
    if not items:
        st.caption("Add one or more videos (and images, if you like) to ask about.")
        return [], []
    sources: list[MediaSource] = []
    problems: list[str] = []
    columns = st.columns(min(len(items), 2))
    for index, item in enumerate(items):
        with columns[index % len(columns)], st.container(border=True):
            if item.source is not None:
                preview = st.empty()  # filled once the clip is known: the player shades it
                if item.note:
                    st.caption(item.note)
                source = item.source
                if source.is_video:
                    clip, unreadable = clip_settings.show(f"{key}.clip.{source.key}", source, model)
                    source = dataclasses.replace(source, clip=clip)
                    problems += unreadable
                with preview.container():
                    _preview(source, key=f"{key}.preview.{source.key}", play=video_previews)
                sources.append(source)
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
    return sources, problems


def _remove(items_key: str, item_key: str) -> None:
    st.session_state[items_key] = [i for i in st.session_state[items_key] if i.key != item_key]


def _preview(source: MediaSource, *, key: str, play: bool) -> None:
    st.markdown(f"**{source.label}**")
    st.caption(" · ".join(probe_facts(source)))
    for note in source.probe.notes if source.probe else ():
        st.caption(note)
    if source.kind is SourceKind.GCS and source.sha256:
        st.caption(f"Staged: sent as {source.uri}")
    if play or not source.is_video:
        media_preview.show(source, key=key)


def probe_facts(source: MediaSource) -> list[str]:
    """What the probe found: type, size, length, frame size and rate, codecs, sound."""
    facts = [source.mime_type]
    if source.size is not None:
        facts.append(format_size(source.size))
    probe = source.probe
    if isinstance(probe, VideoProbe):
        facts.append(clock(probe.duration_s))
        facts.append(f"{probe.width}×{probe.height}")
        if probe.fps:
            facts.append(f"{probe.fps:g} fps")
        codecs = probe.video_codec + (f" + {probe.audio_codec}" if probe.audio_codec else "")
        facts.append(codecs)
        facts.append("with audio" if probe.has_audio else "no audio")
    elif probe is not None:
        facts.append(f"{probe.width}×{probe.height}")
    return facts
