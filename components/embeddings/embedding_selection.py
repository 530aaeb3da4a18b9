"""What the selected points are: video segments play from their start to their end, images
show, texts print (as text: they are user data, never rendered as HTML or Markdown). Captions
name a row by its label, source or link, which an imported file may have written: they go
through `untrusted.safe_inline`.

A video segment plays in the seekable player (components/media/player.py) with the segment as its
clip range when the media route can serve the file; otherwise (started without serve.py, or a
file the route does not serve) in st.video with the same start and end times.
"""

from __future__ import annotations

import math

import streamlit as st

from components.common import resources
from components.media import media_preview, player
from reelscope import media_server
from reelscope.embeddings.store import Collection
from reelscope.untrusted import safe_inline

SHOWN_MAX = 6  # segments drawn at once; a lasso over thousands names the rest


def show(key: str, collection: Collection, ids: list[int]) -> None:
    """Each selected row: its segment playing, its image, or its text."""
    if not ids:
        st.caption(
            "Click a point on the map to see what it is; to take many, pick Box or Lasso "
            "Select in the map's toolbar and drag around them."
        )
        return
    rows = collection.rows
    st.markdown(f"**{len(ids):,} selected**")
    columns = st.columns(3)  # one segment takes a third: a video, not a wall
    for n, row in enumerate(ids[:SHOWN_MAX]):
        with columns[n % len(columns)], st.container(border=True, key=f"{key}-row-{row}"):
            kind = str(rows.kind[row])
            st.caption(safe_inline(rows.hover(row)))
            if kind == "video":
                _segment(f"{key}.player.{row}", collection, row)
            elif kind == "image":
                _image(collection, row)
            else:
                st.text(rows.text[row] or rows.label[row])
    if len(ids) > SHOWN_MAX:
        st.caption(f"…and {len(ids) - SHOWN_MAX:,} more: select fewer points to see them all.")


def clip_of(collection: Collection, row: int) -> tuple[float, float | None]:
    """The segment's start and end in seconds (end None when not known)."""
    start = float(collection.rows.start_s[row])
    end = float(collection.rows.end_s[row])
    return (0.0 if math.isnan(start) else start), (None if math.isnan(end) else end)


def _segment(key: str, collection: Collection, row: int) -> None:
    start, end = clip_of(collection, row)
    mime = collection.rows.mime_type[row] or "video/mp4"
    path = collection.blob_path(row)
    uri = collection.rows.uri[row]
    url = _route_url(collection, row, mime)
    if url is not None:
        clip = (start, end) if end is not None else None
        player.show(key, url, mime_type=mime, clip=clip, start=start, report_every_s=None)
    elif path is not None and path.exists():
        st.video(str(path), format=mime, start_time=start, end_time=end)
    elif uri:
        st.caption(f"{safe_inline(uri)}: to play it here, {media_preview.LAUNCH_HINT}.")
    else:
        st.caption("This video's file is gone from the data folder; add it again to play it.")


def _route_url(collection: Collection, row: int, mime: str) -> str | None:
    """A signed media-route link, when this server has the route and can serve the video."""
    token = _route_token(collection, row, mime)
    if token is None:
        return None
    return media_server.url_path(token, str(st.config.get_option("server.baseUrlPath") or ""))


def _route_token(collection: Collection, row: int, mime: str) -> str | None:
    if not media_preview.route_mounted():
        return None
    uri, sha = collection.rows.uri[row], collection.rows.blob_sha[row]
    if uri and uri.startswith("gs://"):
        target = uri
    elif sha and (_held(collection, row) or resources.settings().bucket):
        target = media_server.library_source(sha)  # the library's copy (here, or the bucket's)
    else:
        return None
    return media_preview.sign_for_user(target, mime)


def _held(collection: Collection, row: int) -> bool:
    path = collection.blob_path(row)
    return path is not None and path.is_file()


def _image(collection: Collection, row: int) -> None:
    path = collection.blob_path(row)
    mime = collection.rows.mime_type[row] or "image/png"
    if path is not None and path.exists():
        st.image(str(path))
    elif (token := _route_token(collection, row, mime)) is not None:
        st.image(media_server.url_path(token))  # from the bucket; st.image adds the base path
    else:
        name = collection.rows.uri[row] or collection.rows.label[row]
        st.caption(f"{safe_inline(name)} (not stored here)")
