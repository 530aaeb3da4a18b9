"""Collections: open one that exists, or build a new one from videos, images and texts.

`open_collection` lists the collections in the data folder (they persist across sessions and
restarts) and returns the one the user opened. `build` lays out a new collection — its name,
its model (Gemini Embedding 2 by default, multimodalembedding@001 one choice away, each with
what it is for), its dimension, the videos' segment settings, the items — checks every item
against the model before any call, and on "Build" starts the core's embedding job.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from components.common import kept
from components.embeddings import prefix_source
from components.media import source_picker
from reelscope.catalog import MediaFacts
from reelscope.embeddings.items import (
    EmbeddingError,
    Item,
    ItemKind,
    SegmentConfig,
    check_item,
    item_from_source,
    items_from_prefix,
    text_items,
)
from reelscope.embeddings.models import (
    EMBEDDING_MODELS,
    GEMINI_EMBEDDING_2,
    EmbeddingModel,
    embedding_model,
)
from reelscope.embeddings.store import CollectionInfo, EmbeddingStore
from reelscope.media import MediaSource
from reelscope.settings import BACKEND_NAMES, BACKEND_VERTEX
from reelscope.untrusted import safe_inline

NEW = ""  # the "open" picker's value when no collection is open
TEXT_FILE_MAX_BYTES = 2_000_000
NAME_SHOWN_MAX = 80
REFUSED_SHOWN = 5  # of a prefix's files the model cannot take, the reasons shown by name


@dataclass
class Plan:
    """What "Build" would do: the collection's name, model and size, its items, any problems."""

    name: str
    model: EmbeddingModel
    dimension: int
    items: list[Item] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # a prefix's files the model refuses

    @property
    def ready(self) -> bool:
        return bool(self.items) and not self.problems

    def summary(self) -> str:
        counts = {kind: sum(i.kind is kind for i in self.items) for kind in ItemKind}
        parts = [f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in counts.items() if n]
        return ", ".join(parts) or "nothing yet"


# The picker's height on the page (its label and its box, in Streamlit's theme): its stand-in
# takes the same, so nothing under it moves when the picker comes.
PICKER_PX = 68


def open_collection(
    key: str, store: EmbeddingStore, *, stand_in: bool = False
) -> CollectionInfo | None:
    """A picker of the stored collections; the one open now, or None.

    With `stand_in`, an open collection's name is written in the picker's place instead,
    until a later run draws the picker (a cold tab: the picker's code, ~20 files, would load
    beside the map's picture and hold it back)."""
    infos = {info.id: info for info in store.collections()}
    pending = st.session_state.pop(_pending_key(key), None)
    if pending is not None:  # asked for by request_open in an earlier part of the page
        kept.put(key, pending)
    current = kept.value(key, NEW)
    if current not in infos:  # deleted, or never there: nothing open
        kept.put(key, NEW)
        current = NEW
    if not infos:
        st.caption("No collections yet: build one below, or import a file of vectors.")
        return None
    info = infos.get(current)
    if stand_in and info is not None:
        with st.container(height=PICKER_PX, border=False, gap=None):
            st.caption("Open a collection")
            st.markdown(safe_inline(_describe(info)))
        st.caption(f"{info.count:,} row{'s' if info.count != 1 else ''}")
        return info
    st.selectbox(
        "Open a collection",
        [NEW, *infos],
        format_func=lambda cid: "— none —" if cid == NEW else _describe(infos[cid]),
        **kept.bind(key, NEW),
    )
    info = infos.get(kept.value(key, NEW))
    if info is not None:
        st.caption(f"{info.count:,} row{'s' if info.count != 1 else ''}")
    return info


def request_open(key: str, collection_id: str) -> None:
    """Open `collection_id` in the picker `key` at the next run (then call st.rerun()).

    The picker may already be drawn in this run, and Streamlit refuses to change a drawn
    widget: so the wish is kept and applied before the picker is drawn again.
    """
    st.session_state[_pending_key(key)] = collection_id


def _pending_key(key: str) -> str:
    return f"{key}.pending"


def _describe(info: CollectionInfo) -> str:
    """One option of the picker. Options are plain text (never Markdown) in Streamlit, but an
    imported file names its collection: kept to one short line.

    Nothing that changes goes in it (its row count does, while a job adds rows): Streamlit
    holds a selectbox's value as the option's label, and a label that changed under it no
    longer names an option, so the collection would close."""
    name = " ".join(info.name.split())
    name = name if len(name) <= NAME_SHOWN_MAX else name[: NAME_SHOWN_MAX - 1] + "…"
    return f"{name} · {info.model_label} · {info.dimension}-d"


def build(
    key: str,
    media: MediaFacts,
    default_model_id: str,
    blobs,
    lister: prefix_source.Lister | None = None,
    backend: str = BACKEND_VERTEX,
) -> Plan:
    """The new collection's settings and items; `Plan.problems` says what blocks building,
    `Plan.left_out` which of a prefix's files the model cannot take (built without them).
    Only `backend`'s models are offered."""
    name = st.text_input("Name", **kept.bind(f"{key}.name", "My collection"))
    model = _model_choice(key, default_model_id, backend)
    dimension = st.selectbox(
        "Dimension",
        model.dimensions,
        help="The length of each vector. Smaller is cheaper to store and compare; larger "
        "keeps more detail. A collection holds one model and one dimension.",
        **kept.bind(f"{key}.dimension.{model.id}", model.default_dimension),
    )
    if model.video_dimension is not None and dimension != model.video_dimension:
        st.caption(
            f"{model.label} makes {model.video_dimension}-d video vectors whatever the size: "
            f"a {dimension}-d collection takes texts and images only."
        )
    plan = Plan(name.strip(), model, int(dimension))
    if not plan.name:
        plan.problems.append("Give the collection a name.")

    st.markdown("**Videos and images**")
    sources, refused = source_picker.show(f"{key}.media", media)
    plan.problems.extend(refused)
    st.markdown("**From a Cloud Storage prefix**")
    listed = prefix_source.show(f"{key}.prefix", lister)
    videos = any(s.is_video for s in sources) or any(f.source.is_video for f in listed)
    interval = _interval(key, model) if videos else None
    for source in sources:
        segments = segments_of(source, interval) if source.is_video and interval else None
        try:
            plan.items.append(item_from_source(source, blobs, segments))
        except EmbeddingError as problem:
            plan.problems.append(str(problem))

    st.markdown("**Texts**")
    plan.items.extend(_texts(key, plan.problems))
    for item in plan.items:
        plan.problems.extend(check_item(item, model, plan.dimension))
    if listed:
        _add_listed(key, plan, listed, interval)
    return plan


def _add_listed(key: str, plan: Plan, listed, interval: float | None) -> None:
    """A prefix's files as items, each checked against the model: those it cannot take are
    left out, and the page says which and why."""
    segments = None
    if interval is not None and any(f.source.is_video for f in listed):
        end = st.number_input(
            "Embed the first … s of each listed video",
            min_value=1.0,
            step=10.0,
            help="Their lengths are unknown until embedded (probing thousands of videos would "
            "take minutes): each is embedded from its start to this, or to its end if shorter.",
            **kept.bind(f"{key}.prefix_end", 120.0),
        )
        segments = SegmentConfig(0.0, float(end), interval)
    for item in items_from_prefix(listed, segments):
        problems = check_item(item, plan.model, plan.dimension)
        if problems:
            plan.left_out.append(" ".join(problems))
        else:
            plan.items.append(item)
    if plan.left_out:
        shown = safe_inline("; ".join(plan.left_out[:REFUSED_SHOWN]))  # object names
        more = len(plan.left_out) - REFUSED_SHOWN
        st.warning(
            f"{len(plan.left_out):,} listed files are left out, {plan.model.label} cannot take "
            f"them: {shown}{f' … and {more:,} more' if more > 0 else ''}",
            icon=":material/block:",
        )


def _model_choice(key: str, default_model_id: str, backend: str) -> EmbeddingModel:
    """The backend's embedding models; the others named with where they are served."""
    offered = [m.id for m in EMBEDDING_MODELS.values() if backend in m.backends]
    default = default_model_id if default_model_id in offered else GEMINI_EMBEDDING_2
    if kept.value(f"{key}.model") not in offered:  # chosen on another backend
        kept.put(f"{key}.model", default)
    model_id = st.radio(
        "Model",
        offered,
        format_func=lambda mid: EMBEDDING_MODELS[mid].label,
        horizontal=True,
        **kept.bind(f"{key}.model", default),
    )
    model = embedding_model(model_id)
    st.caption(model.good_for)
    for other in EMBEDDING_MODELS.values():
        if other.id == model.id:
            continue
        if other.id not in offered:
            served = " and ".join(BACKEND_NAMES[b] for b in other.backends)
            st.caption(f"{other.label} is served only by {served}: not offered here.")
            continue
        with st.expander(f"What {other.label} is for"):
            st.caption(other.good_for)
    return model


def _interval(key: str, model: EmbeddingModel) -> float:
    """The segment length for every video; the model's limits are checked per video."""
    st.caption(_limits(model))
    return float(
        st.number_input(
            "Interval (s)",
            min_value=0.0,
            step=1.0,
            help="One vector per interval of video. Each video's Start and End above choose "
            "the part of it to embed (Frames / s and resolution are for the Ask page: the "
            "embedding models do not take them).",
            **kept.bind(f"{key}.interval.{model.id}", float(model.default_interval_s)),
        )
    )


def segments_of(source: MediaSource, interval: float) -> SegmentConfig:
    """A video's segment settings: its clip's start and end (from the picker), the interval."""
    clip = source.clip
    start = clip.start_s if clip is not None and clip.start_s is not None else 0.0
    end = clip.end_s if clip is not None else None
    return SegmentConfig(float(start), end, interval)


def _limits(model: EmbeddingModel) -> str:
    if model.video_dimension is not None:
        return (
            f"{model.label}: one vector per interval, at least {model.min_interval_s:g} s; "
            f"at most {model.max_window_s:g} s of video per request, so longer videos are "
            "split into several requests and their segments joined."
        )
    return (
        f"{model.label}: one call per interval, each at most {model.max_window_with_audio_s:g} s "
        f"of video with sound ({model.max_window_s:g} s without)."
    )


def _texts(key: str, problems: list[str]) -> list[Item]:
    typed = st.text_area(
        "Text snippets, one per line",
        placeholder="a red scene\na dog on a beach",
        height=100,
        **kept.bind(f"{key}.texts", ""),
    )
    items = text_items(typed)
    upload = st.file_uploader(
        "…or a .txt file, one snippet per line", type=["txt"], key=f"{key}.text_file"
    )
    if upload is not None:
        if upload.size > TEXT_FILE_MAX_BYTES:
            problems.append(f"{upload.name}: larger than 2 MB; split it into several files.")
        else:
            try:
                items.extend(text_items(upload.getvalue().decode("utf-8")))
            except UnicodeDecodeError:
                problems.append(
                    f"{upload.name}: not UTF-8 text; save it as UTF-8 and add it again."
                )
    return items
