"""Reelscope's launcher: `streamlit run serve.py` serves app.py plus the media route.

The route (reelscope/media_server.py) streams uploads and gs:// objects to the player in byte
ranges. `streamlit run app.py` still works, without it: previews then fall back to st.video
for small files (components/media/media_preview.py says so where it matters).

With REELSCOPE_AUTH=iap the whole app sits behind reelscope/iap_gate.py: a request without a
valid IAP assertion gets no page and no session. With REELSCOPE_AUTH=oidc, st.login signs
users in with the provider in secrets.toml's [auth]: pages show only the sign-in until then
(components/common/sign_in.py) and the media route reads the same sign-in
(reelscope/sign_in.py). Settings that cannot say who the users are, or which backend answers
(REELSCOPE_BACKEND), stop the server here, before it answers anything.
"""

from __future__ import annotations

import gc
import importlib
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import streamlit as st
from starlette.middleware import Middleware

import components
import reelscope
from components.common import resources
from components.media import media_preview
from reelscope import iap_gate, identity, media_server, projection, sign_in
from reelscope.settings import AUTH_OIDC, choose_backend

# What pages import on first use, imported before the server answers instead: they made a fresh
# server's first Embeddings map ~2.5 s slower (scikit-learn for the PCA preview, ~1.5 s;
# aiplatform's prediction client, ~1 s).
PRELOAD = (
    "sklearn.decomposition",
    "google.cloud.aiplatform_v1.services.prediction_service",
    "plotly.graph_objects",
)


@asynccontextmanager
async def lifespan(_app: st.App) -> AsyncIterator[None]:
    for name in PRELOAD:
        importlib.import_module(name)
    for package in (components, reelscope):  # what the pages import on their first run
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            importlib.import_module(module.name)
    # What is imported by now lives as long as the server: out of the collector's way.
    # Streamlit collects all generations after every script run (runner.postScriptGC), which
    # walked these ~390k objects each time: ~0.2 s holding the GIL, while a new tab's
    # browser waited for the code of the elements that run had just sent.
    gc.collect()
    gc.freeze()
    # umap-learn costs ~13 s to import and ~30 s of numba compiling before its first fit: its
    # worker process pays that now, while the server already answers (the Embeddings page
    # shows its PCA preview meanwhile).
    settings = resources.settings()
    if settings.warm_up_umap:
        projection.warm_up_in_background(settings.data_dir / "numba-cache")
    yield


def middleware() -> list[Middleware]:
    """The IAP gate in IAP mode, nothing locally; AuthConfigError stops the server."""
    verifier = identity.check_auth_settings(resources.settings())
    if verifier is None:
        return []
    base_url_path = str(st.config.get_option("server.baseUrlPath") or "")
    return [
        Middleware(
            iap_gate.IapGate, verifier=verifier, open_paths=iap_gate.open_paths(base_url_path)
        )
    ]


def sign_in_cookie() -> sign_in.SignInCookie | None:
    """With OIDC, the reader of st.login's cookie for the media route; SignInConfigError stops
    the server when secrets.toml's [auth] cannot sign anyone in."""
    if resources.settings().auth != AUTH_OIDC:
        return None
    port = int(st.config.get_option("server.port"))
    return sign_in.check_auth_section(st.secrets.get("auth"), port)


# An unknown REELSCOPE_BACKEND raises BackendSettingError, which says what to set: the server
# must not guess which service (and whose bill) the user meant.
choose_backend(resources.settings())

app = st.App(
    "app.py",
    routes=media_server.routes(
        media_preview.link_key(),
        resources.settings,
        str(st.config.get_option("server.baseUrlPath") or ""),
        sign_in=sign_in_cookie(),
    ),
    middleware=middleware(),
    lifespan=lifespan,
    # A flag the pages read through st.secrets: process-wide, kept across module reloads.
    secrets={media_preview.ROUTE_FLAG: True},
)
