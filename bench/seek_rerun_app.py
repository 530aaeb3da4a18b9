"""Baseline for bench.chapter_seek: the chapter list as it was before it moved into the player.

Each chapter's time is a Streamlit button whose callback calls `player.seek`; the player and the
list sit in one fragment, which the click reruns, and only that run hands the seek to the
browser. The video is the file named by CHAPTER_SEEK_VIDEO. Not part of the app.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from bench.chapter_seek import CHAPTERS, VIDEO_ENV
from components.common import resources
from components.media import media_preview, player
from reelscope.chapters.timestamps import format_clock
from reelscope.media import MediaSource, SourceKind

PLAYER_KEY = "seek.player"


def video_source() -> MediaSource:
    path = Path(os.environ[VIDEO_ENV])
    spooled = resources.session_spool().put(path.read_bytes(), path.name)
    return MediaSource(
        SourceKind.UPLOAD, "video/mp4", path.name, sha256=spooled.sha256, path=spooled.path,
        size=path.stat().st_size,
    )  # fmt: skip


@st.fragment
def watch(source: MediaSource, url: str) -> None:
    player.show(
        PLAYER_KEY,
        url,
        mime_type=source.mime_type,
        chapters=CHAPTERS,
        media_id=source.key,
        height=380,
        report_every_s=0.5,
    )
    for index, (start, _end, title) in enumerate(CHAPTERS):
        time_col, text_col = st.columns([1, 7], vertical_alignment="top")
        time_col.button(
            format_clock(start),
            key=f"seek.{index}",
            on_click=player.seek,
            args=(PLAYER_KEY, start),
            width="stretch",
        )
        text_col.markdown(f"**{title}**")


source = st.session_state.get("source") or video_source()
st.session_state["source"] = source
url = media_preview.media_url(source)
assert url is not None, "start this app through seek_rerun_serve.py: it mounts the media route"
watch(source, url)
