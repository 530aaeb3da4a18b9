"""Download buttons for a checked answer: WebVTT, SRT, YouTube description, Markdown, JSON."""

from __future__ import annotations

import re
from collections.abc import Sequence

import streamlit as st

from reelscope.chapters.exports import to_json, to_markdown, to_srt, to_webvtt, to_youtube
from reelscope.chapters.modes import Kind
from reelscope.chapters.parse import Segment
from reelscope.untrusted import safe_inline


def show(
    key: str,
    segments: Sequence[Segment],
    kind: Kind,
    *,
    name: str,
    duration_s: float | None,
    header: dict[str, str] | None = None,
) -> None:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "video"
    body = "title" if kind is Kind.CHAPTERS else "summary"
    files = [
        ("WebVTT", f"{stem}.{kind}.vtt", to_webvtt(segments, duration_s, body=body), "text/vtt"),
        (
            "SRT",
            f"{stem}.{kind}.srt",
            to_srt(segments, duration_s, body=body),
            "application/x-subrip",
        ),
        (
            "Markdown",
            f"{stem}.{kind}.md",
            to_markdown(segments, f"{name}: {kind}"),
            "text/markdown",
        ),
        ("JSON", f"{stem}.{kind}.json", to_json(segments, header), "application/json"),
    ]
    youtube = to_youtube(segments, duration_s) if kind is Kind.CHAPTERS else None
    columns = st.columns(len(files) + (1 if youtube else 0))
    for column, (label, filename, text, mime) in zip(columns, files, strict=False):
        column.download_button(
            label, text, file_name=filename, mime=mime, key=f"{key}.{label}",
            icon=":material/download:", width="stretch",
        )  # fmt: skip
    if youtube is None:
        return
    columns[-1].download_button(
        "YouTube",
        youtube.text or "",
        file_name=f"{stem}.youtube.txt",
        mime="text/plain",
        key=f"{key}.youtube",
        icon=":material/download:",
        disabled=youtube.text is None,
        width="stretch",
        help="A chapter list for a YouTube description: first at 0:00, at least 3, each 10 s+.",
    )
    for problem in youtube.problems:  # they quote the model's titles
        st.caption(f":material/info: YouTube list not offered: {safe_inline(problem)}")
    for note in youtube.notes:
        st.caption(f":material/info: {safe_inline(note)}")
