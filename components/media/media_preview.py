"""The preview of one source, and the signed links the player loads media from.

Videos play in the seekable player, loaded in ranges from the media route that `serve.py`
mounts (`reelscope/media_server.py`). Started any other way (`streamlit run app.py`, AppTest)
the route does not exist, and the launcher's flag says so: a small upload then falls back to
st.video (which reads the file into memory, so only small ones), and a larger file, a `gs://`
video or an https link gets a caption saying to start Reelscope with `make run`.

An https link is never loaded by the browser itself: the route fetches it through the guarded
fetch (`reelscope/linkfetch.py`), so a link that redirects to a private address, or a name that
resolves to one later, reaches nothing inside the user's network.
"""

from __future__ import annotations

import streamlit as st

from components.common import resources
from components.media import player
from components.media.player import PlayerState
from reelscope import media_server
from reelscope.media import MediaSource, SourceKind
from reelscope.untrusted import safe_inline

# Set by serve.py through st.App(secrets=...): process-wide, and it survives module reloads.
ROUTE_FLAG = "reelscope_media_route"
FALLBACK_MAX_BYTES = 20_000_000  # st.video reads the whole file into memory
LAUNCH_HINT = "start Reelscope with `make run` (it serves videos in ranges from serve.py)"


def show(source: MediaSource, *, key: str) -> PlayerState | None:
    """Preview `source`; the player's state for a video in the player, else None."""
    if source.is_image:
        _image(source)
        return None
    if source.kind is SourceKind.YOUTUBE:
        st.video(source.uri)  # YouTube's own embed
        return None
    if source.kind is SourceKind.HTTPS and not source.previewable:
        st.caption(_not_previewed(source))
        return None
    url = media_url(source)
    if url is not None:
        return player.show(
            key,
            url,
            mime_type=source.mime_type,
            clip=_clip_range(source),
            media_id=source.key,
            report_every_s=None,  # a preview needs no reruns
        )
    _without_route(source)
    return None


def media_url(source: MediaSource, *, base_path: str | None = None) -> str | None:
    """The URL a browser loads this source from, or None when this server cannot serve it.

    Uploads, gs:// objects and https links the link guard passed get a signed link to the media
    route (with server.baseUrlPath in front, for the player).
    """
    token = sign(source)
    if token is None:
        return None
    base = _base_path() if base_path is None else base_path
    return media_server.url_path(token, base)


def sign(source: MediaSource) -> str | None:
    """A media route token for an upload, a gs:// object or a checked https link; None
    without the route."""
    if not route_mounted():
        return None
    if source.sha256 is not None and source.path is not None:  # staged too: the local copy
        try:
            target = media_server.library_source(source.sha256)
        except media_server.MediaLinkError:
            return None
    elif source.kind is SourceKind.GCS and source.uri:
        target = source.uri
    elif source.kind is SourceKind.HTTPS and source.previewable and source.uri:
        target = media_server.link_source(source.uri)  # fetched by the server, every hop checked
    else:
        return None
    return sign_for_user(target, source.mime_type)


def sign_for_user(target: str, mime_type: str) -> str:
    """A media route token for `target`, good for this session's user alone (the route refuses
    it to anyone else)."""
    return media_server.sign(target, mime_type, link_key(), user=resources.owner())


def link_key() -> bytes:
    """The media link key: from Streamlit's cookie secret, random per process unless set.

    serve.py builds the route with the same key; setting server.cookieSecret makes links
    valid across replicas.
    """
    return media_server.link_key(str(st.config.get_option("server.cookieSecret")))


def route_mounted() -> bool:
    """Whether this process serves the media route (the app was started through serve.py)."""
    try:
        return bool(st.secrets.get(ROUTE_FLAG))
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        return False


def _base_path() -> str:
    return str(st.config.get_option("server.baseUrlPath") or "")


def _clip_range(source: MediaSource) -> player.Clip | None:
    """The clip the request sends, shaded on the timeline; None for the whole video."""
    clip = source.clip
    if clip is None or (clip.start_s is None and clip.end_s is None):
        return None
    end = clip.end_s if clip.end_s is not None else source.duration_s
    return (clip.start_s or 0.0, end) if end is not None else None


def _image(source: MediaSource) -> None:
    if source.path is not None:
        st.image(str(source.path))
    elif (token := sign(source)) is not None:
        st.image(media_server.url_path(token))  # st.image adds the base path itself
    else:
        st.caption(_not_previewed(source))


def _without_route(source: MediaSource) -> None:
    small = source.size is not None and source.size <= FALLBACK_MAX_BYTES
    if source.path is not None and small:
        st.video(str(source.path), format=source.mime_type)
    elif source.path is not None:
        st.caption(f"No preview of a file this large here; to preview it, {LAUNCH_HINT}.")
    else:
        st.caption(_not_previewed(source))


def _not_previewed(source: MediaSource) -> str:
    """Why a link has no preview here: unchecked, or no media route to fetch it through."""
    link = safe_inline(source.uri or source.label)
    if source.kind is SourceKind.HTTPS and not source.previewable:
        return f"{link} is sent to Vertex AI as a link; no preview of an unchecked host."
    return f"{link}: Vertex AI reads it; to preview it here, {LAUNCH_HINT}."
