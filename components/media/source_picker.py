"""Adding videos and images: from the media library, an upload, or a gs://, https or YouTube link.

Everything added is kept in the media library (reelscope/library.py), once, by content hash or
URI: so every page offers what was added on any other, after a reload or a restart too. The
picker owns the list of what this page uses under `{key}.items` (library keys, and refused
files with their reasons), outside any widget; each run reads the sources back from the
library, probed once. An upload above the inline limit is staged to the Cloud Storage bucket
(REELSCOPE_BUCKET) by a background task (reelscope/staging.py) whose progress bar is followed
in place: it survives reruns, page visits and reloads, and the upload is sent by its gs:// URI
once there. On the Gemini Developer API it goes to the Files API instead (files_api). A
refused file stays listed with its reason until the user removes it, and the page
keeps its action disabled meanwhile. Each video carries its clip settings (clip_settings).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import streamlit as st

from components.common import follow, kept, resources
from components.media import clip_settings, direct_upload, files_api, media_preview
from reelscope.bucket_copies import Progress
from reelscope.catalog import MediaFacts, Model
from reelscope.clock import clock
from reelscope.library import LibraryItem, MediaLibrary
from reelscope.media import (
    Clip,
    MediaSource,
    SourceError,
    SourceKind,
    format_size,
    source_from_link,
)
from reelscope.media_rules import check_gcs_access, gcs_checked_by_vertex, too_large_to_send
from reelscope.mime import EXTENSION_MIME_TYPES
from reelscope.probe import VideoProbe
from reelscope.settings import Settings
from reelscope.staging import StagingTask
from reelscope.tasks import Task, TaskState
from reelscope.untrusted import safe_inline


@dataclass(frozen=True)
class Item:
    """One thing the user added: a library item (by key), or a refused file and why."""

    name: str
    key: str | None = None  # the library key: "sha256:<hex>" or the link's URI
    refusal: str | None = None
    note: str | None = None  # worth knowing, not blocking (e.g. who checks a gs:// object)

    @property
    def id(self) -> str:
        return self.key or f"refused:{self.name}:{self.refusal}"


def show(
    key: str, media: MediaFacts, model: Model | None = None, *, video_previews: bool = True
) -> tuple[list[MediaSource], list[str]]:
    """The sources the user added, in order (videos with their clip settings), and one problem
    per refused item, unreadable clip offset or upload still on its way to Cloud Storage.
    `model` decides whether a video offers its own media resolution. `video_previews` False: a
    page that plays the video in its own player."""
    items_key = f"{key}.items"
    st.session_state.setdefault(items_key, [])
    library = resources.library()
    owner = resources.owner()

    kept_items = library.items(owner)
    tabs = st.tabs(["Upload", "Link (gs:// · https · YouTube)", f"Library ({len(kept_items)})"])
    with tabs[0]:
        _uploader(key, items_key, media, library)
    with tabs[1]:
        _link_form(key, items_key, library)
    with tabs[2]:
        _library_form(key, items_key, kept_items)
    for notice in kept.take_once(f"{key}.notices"):
        st.info(notice, icon=":material/inventory_2:")
    items: list[Item] = st.session_state[items_key]
    sources, problems = _previews(key, items, items_key, model, library, media, video_previews)
    refused = [f"{item.name}: {item.refusal} Remove it to run." for item in items if item.refusal]
    return sources, refused + problems


def add_sources(key: str, sources: Sequence[MediaSource], clips: Sequence[Clip | None]) -> None:
    """Put sources on the picker `key` instead of what it had (a kept run opened again), each
    video with its clip. Call it before the picker is drawn (a callback, or another page)."""
    st.session_state[f"{key}.items"] = [Item(s.label, key=s.key) for s in sources]
    for source, clip in zip(sources, clips, strict=True):
        if source.is_video and clip is not None:
            clip_settings.load(f"{key}.clip.{source.key}", clip)


def add_keys(key: str, named_keys: Sequence[tuple[str, str]]) -> None:
    """Add library items (name, library key) to the picker `key`, after what it has."""
    items_key = f"{key}.items"
    st.session_state.setdefault(items_key, [])
    for name, item_key in named_keys:
        _add(items_key, Item(name, key=item_key))


LARGE_FILE = "Large file (straight to Cloud Storage)"
THROUGH_APP = "Through the app"


def _uploader(key: str, items_key: str, media: MediaFacts, library: MediaLibrary) -> None:
    """With a bucket, a choice: the browser sends a large file straight to Cloud Storage
    (Cloud Run takes no request over 32 MiB), or st.file_uploader as on a laptop."""
    if resources.settings().bucket:
        way = st.radio(
            "How to upload", [THROUGH_APP, LARGE_FILE], horizontal=True, key=f"{key}.upload_way"
        )
        if way == LARGE_FILE:
            _direct_uploader(key, items_key, media)
            return
    _app_uploader(key, items_key, media, library)


def _direct_uploader(key: str, items_key: str, media: MediaFacts) -> None:
    finished = direct_upload.show(f"{key}.direct", media)
    if finished is None:
        return
    if finished.evicted:
        kept.say_once(f"{key}.notices", [_evicted_notice(finished.evicted)])
    _add(items_key, Item(finished.item.name, key=finished.item.key))
    st.rerun()


def _evicted_notice(names: Sequence[str]) -> str:
    return "To make room in the library, removed what no run or collection uses: " + ", ".join(
        safe_inline(name) for name in names
    )


def _app_uploader(key: str, items_key: str, media: MediaFacts, library: MediaLibrary) -> None:
    round_key = f"{key}.upload_round"  # a new uploader widget after each intake: it empties
    st.session_state.setdefault(round_key, 0)
    uploaded = st.file_uploader(
        "Videos or images",
        type=[ext.lstrip(".") for ext in EXTENSION_MIME_TYPES],
        accept_multiple_files=True,
        key=f"{key}.uploads.{st.session_state[round_key]}",
        help=_upload_help(media, resources.settings()),
    )
    if not uploaded:
        return
    notices: list[str] = []
    with st.spinner("Checking the files…"):
        for file in uploaded:
            try:
                with _bucket_progress(library, file.name) as heard:
                    added = library.add_upload(
                        file.name,
                        file,
                        media,
                        owner=resources.owner(),
                        size_hint=file.size,
                        progress=heard,
                    )
            except SourceError as problem:
                _add(items_key, Item(file.name, refusal=str(problem)))
                continue
            if added.evicted:
                notices.append(_evicted_notice(added.evicted))
            _add(items_key, Item(added.source.label, key=added.source.key))
    kept.say_once(f"{key}.notices", notices)
    st.session_state[round_key] += 1
    st.rerun()


def _library_source(library: MediaLibrary, item: Item) -> tuple[MediaSource | None, str | None]:
    """The item's source, and why there is none when reading it failed. An upload this
    instance does not hold is read from the bucket first, with its progress shown."""
    if not item.key:
        return None, None
    try:
        if not library.must_fetch(item.key):
            return library.source(item.key), None
        label = f"Fetching {safe_inline(item.name)} from the bucket…"
        with _progress_bar(label) as heard:
            return library.source(item.key, heard), None
    except SourceError as problem:
        return None, str(problem)


@contextlib.contextmanager
def _bucket_progress(library: MediaLibrary, name: str) -> Iterator[Progress | None]:
    """A progress bar while an upload goes to the library's bucket (none without one)."""
    if library.copies is None:
        yield None
        return
    with _progress_bar(f"Keeping {safe_inline(name)} in gs://{library.copies.bucket}…") as heard:
        yield heard


@contextlib.contextmanager
def _progress_bar(label: str) -> Iterator[Progress]:
    bar = st.progress(0.0, text=label)

    def heard(done: int, total: int) -> None:
        bar.progress(min(done / total, 1.0) if total else 0.0, text=label)

    try:
        yield heard
    finally:
        bar.empty()


def _kept_in_bucket(library: MediaLibrary, source: MediaSource, media: MediaFacts) -> MediaSource:
    """An upload too large to go inline is sent by the library's own copy in the bucket: it is
    there already (reelscope/bucket_copies.py), so there is nothing to stage."""
    item = library.get(source.key)
    uri = library.bucket_uri(item) if item is not None else None
    if uri is None or not too_large_to_send(source, media) or source.sha256 is None:
        return source
    if item is not None and item.staged_uri == uri:
        return source  # named so already: no write on every script run
    library.set_staged(source.sha256, uri)
    return library.source(source.key) or source


def _upload_help(media: MediaFacts, settings: Settings) -> str:
    inline = format_size(media.inline_limit_bytes)
    kept_note = " Every file is kept in your library, for every page."
    if files_api.applies():
        return (
            f"Checked by their bytes. Files up to {inline} go inline; larger ones are uploaded "
            "to the Gemini Files API (once per content; it keeps them 48 hours) and sent by "
            "their Files API URI." + kept_note
        )
    if settings.bucket:
        return (
            f"Checked by their bytes. Files up to {inline} go inline; larger ones are staged to "
            f"gs://{settings.bucket}/reelscope/ (once per content) and sent by their gs:// URI."
            + kept_note
        )
    return (
        f"Checked by their bytes and sent inline, up to {inline} per file. For larger files "
        "set a staging bucket (REELSCOPE_BUCKET): they are then sent through Cloud Storage."
        + kept_note
    )


def _link_form(key: str, items_key: str, library: MediaLibrary) -> None:
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
    library.add_link(source, owner=resources.owner())
    if not _add(items_key, Item(source.label, key=source.key, note=note)):
        st.info(f"{source.label} is already added.")


def _library_form(key: str, items_key: str, kept_items: list[LibraryItem]) -> None:
    """Pick what was added before, on any page (most recently used first)."""
    if not kept_items:
        st.caption("Everything you upload or link is kept here, for every page.")
        return
    on_page = {item.key for item in st.session_state[items_key]}
    offered = {item.key: item for item in kept_items if item.key not in on_page}
    if not offered:
        st.caption("Everything in your library is on this page already.")
        return
    chosen = st.multiselect(
        "From your library",
        list(offered),
        format_func=lambda k: _describe(offered[k]),
        key=f"{key}.from_library",
        placeholder="Choose videos and images you added before",
    )
    if st.button("Add from library", key=f"{key}.add_library", disabled=not chosen):
        for item_key in chosen:
            _add(items_key, Item(offered[item_key].name, key=item_key))
            resources.library().touch(item_key)
        st.rerun()


def _describe(item: LibraryItem) -> str:
    facts = [item.name]
    if item.duration_s is not None:
        facts.append(clock(item.duration_s))
    if item.size is not None:
        facts.append(format_size(item.size))
    if not item.is_upload:
        facts.append(str(item.kind))
    return " · ".join(facts)


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
    if any(existing.id == item.id for existing in items):
        return False
    items.append(item)
    return True


def _previews(
    key: str,
    items: list[Item],
    items_key: str,
    model: Model | None,
    library: MediaLibrary,
    media: MediaFacts,
    video_previews: bool,
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
            source, problem = _library_source(library, item)
            if source is not None:
                if files_api.applies():
                    source, staging = files_api.show(source, media)
                else:
                    source = _kept_in_bucket(library, source, media)
                    staging = _staging(source, media)
                preview = st.empty()  # filled once the clip is known: the player shades it
                if item.note:
                    st.caption(item.note)
                if source.is_video:
                    clip, unreadable = clip_settings.show(f"{key}.clip.{source.key}", source, model)
                    source = dataclasses.replace(source, clip=clip)
                    problems += unreadable
                with preview.container():
                    _preview(source, key=f"{key}.preview.{source.key}", play=video_previews)
                if staging is None:
                    sources.append(source)
                else:
                    problems.append(staging)
            else:
                st.markdown(f"**{safe_inline(item.name)}**")
                refusal = problem or item.refusal or "it is no longer in the library: add it again."
                st.error(refusal, icon=":material/block:")
                if item.refusal is None:
                    problems.append(f"{item.name}: {refusal}")
            st.button(
                "Remove",
                key=f"{items_key}.remove.{index}.{item.id}",
                type="tertiary",
                on_click=_remove,
                args=(items_key, item.id),
            )
    return sources, problems


def _staging(source: MediaSource, media: MediaFacts) -> str | None:
    """An upload too large to go inline is staged to the bucket, in the background; while it
    is on its way, the problem that keeps the page's action disabled (None once it can go)."""
    settings = resources.settings()
    task = resources.tasks().find(StagingTask.kind, source.sha256 or "")
    if task is not None and task.status is TaskState.DONE:
        st.caption(task.progress().text)  # said while the registry remembers the upload
    if not settings.bucket or not too_large_to_send(source, media) or source.sha256 is None:
        return None  # small enough, staged already, or no bucket (the check says what to do)
    client = resources.storage_client(settings)
    if client is None:
        return (
            f"{source.label}: Cloud Storage is not connected (see the sidebar), so it cannot "
            "be staged."
        )
    tasks = resources.tasks()
    if task is None or (task.status is TaskState.FAILED and _retry(source)):
        task = tasks.add(
            StagingTask(
                resources.library(),
                client,
                settings.bucket,
                sha256=source.sha256,
                name=source.label,
                mime_type=source.mime_type,
                owner=resources.owner(),
            ).start()
        )
    progress = task.progress()
    if task.status is TaskState.DONE:
        return None  # the library has its gs:// URI now: the next run sends it so
    follow.poll(task, _staging_line)
    if progress.running:
        return f"{source.label} is being staged to gs://{settings.bucket}: wait for it to finish."
    return progress.text


def _staging_line(task: Task) -> None:
    now = task.progress()
    if now.running:
        st.progress(now.fraction or 0.0, text=now.text)
    else:
        st.caption(now.text)


def _retry(source: MediaSource) -> bool:
    return st.button("Stage it again", key=f"staging.retry.{source.sha256}")


def _remove(items_key: str, item_id: str) -> None:
    st.session_state[items_key] = [i for i in st.session_state[items_key] if i.id != item_id]


def _preview(source: MediaSource, *, key: str, play: bool) -> None:
    st.markdown(f"**{safe_inline(source.label)}**")
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
        facts.append(clock(probe.duration_s, decimals=1))
        facts.append(f"{probe.width}×{probe.height}")
        if probe.fps:
            facts.append(f"{probe.fps:g} fps")
        codecs = probe.video_codec + (f" + {probe.audio_codec}" if probe.audio_codec else "")
        facts.append(codecs)
        facts.append("with audio" if probe.has_audio else "no audio")
    elif probe is not None:
        facts.append(f"{probe.width}×{probe.height}")
    return facts
