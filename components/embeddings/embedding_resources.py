"""The embeddings page's shared pieces: the store, embedders, this session's job.

Cached the Streamlit way around pure core objects: one EmbeddingStore per data folder and one
embedder per (settings, model, dimension) for the process; the job a session started is kept
in its session state (the job itself runs on the core's threads, not in the script run).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import streamlit as st

from components.common import resources
from components.embeddings import prefix_source
from reelscope.database import DATABASE_ERRORS
from reelscope.embeddings.items import embeddable
from reelscope.embeddings.jobs import EmbedJob, resume_jobs
from reelscope.embeddings.models import Embedder, make_embedder
from reelscope.embeddings.store import EmbeddingStore
from reelscope.instance import STALE_AFTER_S
from reelscope.listing import list_media
from reelscope.settings import Settings
from reelscope.vertex import NotConnected

JOB_KEY = "emb.job"


def store(data_dir: Path) -> EmbeddingStore:
    return resources.embedding_store(data_dir)


@st.cache_resource(show_spinner=False)
def _embedder(settings: Settings, model_id: str, dimension: int) -> Embedder:
    return make_embedder(settings, model_id, dimension)


def connected_embedder(settings: Settings, model_id: str, dimension: int) -> Embedder | None:
    """The embedder, or None after telling the user what to set up (not cached: a fix works)."""
    try:
        return _embedder(settings, model_id, dimension)
    except NotConnected as problem:
        fixes = "\n".join(problem.fixes)
        st.error(f"{problem} Run this in the shell that starts Reelscope, then restart it:")
        st.code(fixes, language="bash", wrap_lines=True)
        return None


def session_job() -> EmbedJob | None:
    """The embedding job this session started last, if any (running or finished)."""
    job = resources.tasks().get(st.session_state.get(JOB_KEY))
    return job if isinstance(job, EmbedJob) else None


def keep_job(job: EmbedJob) -> None:
    st.session_state[JOB_KEY] = job.id  # the job lives in the core's registry


def collection_job(collection_id: str, owner: str) -> EmbedJob | None:
    """`owner`'s newest job on a collection, from any session (a resumed one included)."""
    job = resources.tasks().find(EmbedJob.kind, collection_id)
    return job if isinstance(job, EmbedJob) and job.owner == owner else None


def prefix_lister(settings: Settings) -> prefix_source.Lister | None:
    """Lists a gs:// prefix's images and videos through Cloud Storage; None until connected."""
    files = resources.storage_client(settings)
    if files is None:
        return None
    return lambda text: list_media(files, text, embeddable, prefix_source.MAX_FILES)


def resume_stored_jobs(settings: Settings) -> None:
    """Start again the jobs no instance runs any more: a server before this one, or another
    instance, stopped mid-job (looked for at most every STALE_AFTER_S; until Reelscope is
    connected, on each run)."""
    with contextlib.suppress(NotConnected, *DATABASE_ERRORS):
        _resume_stored_jobs(settings)


@st.cache_resource(show_spinner=False, ttl=STALE_AFTER_S)  # a dead server's claim goes stale
def _resume_stored_jobs(settings: Settings) -> int:
    jobs = resume_jobs(
        store(settings.data_dir),
        lambda model_id, dimension: _embedder(settings, model_id, dimension),
        tasks=resources.tasks(),
    )
    return len(jobs)
