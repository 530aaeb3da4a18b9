"""Settings, catalog and clients for the UI, cached the Streamlit way around pure core calls."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path

import streamlit as st

from components.common import sign_in
from reelscope import identity
from reelscope.bucket_copies import BucketCopies
from reelscope.catalog import Catalog, load_catalog
from reelscope.database import DATABASE_ERRORS
from reelscope.embeddings.store import EmbeddingStore
from reelscope.library import MediaLibrary, library_dir, move_old_files
from reelscope.runs import Runs
from reelscope.settings import AUTH_OIDC, Settings, load_settings
from reelscope.store import Recorder, Store, app_version, open_store
from reelscope.tasks import TaskRegistry, registry
from reelscope.vertex import (
    GenaiClient,
    NotConnected,
    describe_connection,
    make_genai_client,
    make_storage_client,
)


def settings() -> Settings:
    """Read on every run (cheap), so a changed environment or secrets file shows at once."""
    return load_settings(os.environ, _secrets())


def backend(current: Settings) -> str:
    """The backend that answers (settings.BACKENDS); Vertex AI while the setting is unknown
    (the sidebar says what to fix meanwhile)."""
    return describe_connection(current).backend


@st.cache_resource
def catalog() -> Catalog:
    return load_catalog()


@st.cache_resource(show_spinner=False)
def genai_client(current: Settings) -> GenaiClient:
    """One client per settings value; NotConnected is raised, not cached, so a fix takes effect."""
    return make_genai_client(current)


def connected_client(current: Settings) -> GenaiClient | None:
    """The client, or None after telling the user what to set up."""
    try:
        return genai_client(current)
    except NotConnected as problem:
        fixes = "\n".join(problem.fixes)
        st.error(f"{problem} Run this in the shell that starts Reelscope, then restart it:")
        st.code(fixes, language="bash", wrap_lines=True)
        return None


@st.cache_resource(show_spinner=False)
def _storage_client(current: Settings):  # -> google.cloud.storage.Client (imported lazily)
    return make_storage_client(current)


def storage_client(current: Settings):
    """The Cloud Storage client for these settings, or None when it cannot be built yet."""
    try:
        return _storage_client(current)
    except NotConnected:
        return None


def owner() -> str:
    """Who is using Reelscope: locally its one user; behind IAP, the email serve.py's gate
    verified for this session's connection (reelscope/identity.py); with OIDC, the user
    st.login signed in (until then the sign-in screen, and the script run ends)."""
    if settings().auth == AUTH_OIDC:
        return sign_in.user_or_stop()
    user = identity.acting_user(settings().auth, st.context.headers)
    if user is None:
        # No gate saw this session (`streamlit run app.py` in IAP mode): nobody to act for, and
        # never the local user, whose work everyone would then share.
        st.error(
            "Reelscope cannot tell who you are: in IAP mode it must be started with "
            "`streamlit run serve.py`, whose gate verifies each user."
        )
        st.stop()
    return user


def tasks() -> TaskRegistry:
    """The process's background work: runs, jobs, map fits, shot cuts, staging."""
    return registry()


def runs() -> Runs:
    """Starts runs and finds them again (by id, by owner), whichever session started them."""
    return _runs(settings().data_dir)


@st.cache_resource(show_spinner=False)
def _runs(data_dir: Path) -> Runs:
    return Runs(registry(), on_start=_recorder(data_dir))


def store(data_dir: Path) -> Store:
    """The run history and saved prompts: in the PostgreSQL that REELSCOPE_DATABASE_URL names
    (shared by every instance), else in the data folder; opened once per process."""
    return _store(data_dir, settings().database_url)


@st.cache_resource(show_spinner=False)
def _store(data_dir: Path, database_url: str | None) -> Store:
    models = catalog()

    def price_of(model_id: str, backend: str):
        try:
            return models.get(model_id).price_on(backend)
        except KeyError:
            return None

    return open_store(data_dir, price_of=price_of, database_url=database_url)


def _recorder(data_dir: Path) -> Recorder | None:
    """Runs go on without history if its file cannot be opened (the History page says why)."""
    history = store_if_open(data_dir)
    return history.recorder if history is not None else None


def store_if_open(data_dir: Path) -> Store | None:
    """The run history, or None when it cannot be opened (the History page says why)."""
    try:
        return store(data_dir)
    except (OSError, RuntimeError, *DATABASE_ERRORS):
        return None


def bucket_copies(bucket: str | None) -> BucketCopies | None:
    """The bucket that holds what the data folder keeps (REELSCOPE_BUCKET), or None."""
    if not bucket:
        return None
    return BucketCopies(lambda: _storage_client(settings()), bucket)


def library() -> MediaLibrary:
    """The media library of the data folder: every upload and link, kept once by hash."""
    current = settings()
    return _library(
        current.data_dir, current.library_max_bytes, current.database_url, current.bucket
    )


@st.cache_resource(show_spinner=False)
def _library(
    data_dir: Path, max_bytes: int, database_url: str | None, bucket: str | None
) -> MediaLibrary:
    # With REELSCOPE_DATABASE_URL the index is shared; with REELSCOPE_BUCKET the bytes too.
    kept = MediaLibrary(library_dir(data_dir), max_bytes, database_url, bucket_copies(bucket))
    move_old_files(data_dir, kept)
    kept.add_references("collections", embedding_store(data_dir).media_references)
    # Without a readable history there are no runs to count (the History page says why).
    with contextlib.suppress(OSError, RuntimeError, *DATABASE_ERRORS):
        kept.add_references("runs", store(data_dir).runs.media_references)
    return kept


def embedding_store(data_dir: Path) -> EmbeddingStore:
    """The embedding collections of a data folder (their metadata in the shared PostgreSQL when
    REELSCOPE_DATABASE_URL is set, their files in REELSCOPE_BUCKET when that is): opened once per
    process."""
    current = settings()
    return _embedding_store(data_dir, current.database_url, current.bucket)


@st.cache_resource(show_spinner=False)
def _embedding_store(
    data_dir: Path, database_url: str | None, bucket: str | None
) -> EmbeddingStore:
    return EmbeddingStore(data_dir, database_url, bucket_copies(bucket))


def lab_clients():  # -> reelscope.lab.batch.Clients, or None when not connected yet
    """What the lab's batch jobs need: the google-genai and Cloud Storage clients."""
    from reelscope.lab.batch import Clients

    current = settings()
    files = storage_client(current)
    try:
        return Clients(genai_client(current), files) if files is not None else None
    except NotConnected:
        return None


def resume_lab_jobs() -> None:
    """Follow again the batch jobs a server before this one submitted (once per process; until
    Reelscope is connected, tried again on each page)."""
    with contextlib.suppress(NotConnected, *DATABASE_ERRORS):
        _resume_lab_jobs(settings().data_dir)


@st.cache_resource(show_spinner=False)
def _resume_lab_jobs(data_dir: Path) -> int:
    from reelscope.lab import batch

    history = store_if_open(data_dir)
    if history is None or not history.labs.jobs(open_only=True):
        return 0
    clients = lab_clients()
    if clients is None:
        raise NotConnected("Not connected yet: the lab's batch jobs are followed once it is.")
    watches = batch.resume(history, lambda: clients, registry(),
                           poll_s=settings().batch_poll_s, app_version=app_version())  # fmt: skip
    return len(watches)


def today() -> dt.date:
    return dt.date.today()


def _secrets() -> Mapping[str, object]:
    try:
        return dict(st.secrets)
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        return {}
