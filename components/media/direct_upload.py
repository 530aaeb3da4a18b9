"""The large-file uploader: the browser sends a file straight to Cloud Storage, then the server
takes it into the media library (reelscope/direct_upload.py).

Cloud Run refuses requests over 32 MiB, so st.file_uploader cannot take a large video there.
This Components v2 component (its script in direct_upload.js, next to this file; no CDN) asks
the server for a resumable upload session for the chosen file, sends the bytes to the session
URL in 8 MiB chunks with a progress bar and a Cancel, and after a dropped chunk asks the session
what it has and continues from there. The browser never holds credentials, only the session URL
the server opened for this user, this size and this type.

The conversation goes through trigger values, each tagged with the upload's nonce:
`request` (name, size, type, page origin) -> the server opens a session and answers in
`data.answer` (the URL or a refusal); `done` -> the server checks the object and adds it to the
library, answering in `data.result`; `failed`, `cancelled` -> the server forgets the session.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import streamlit as st

from components.common import resources
from reelscope.catalog import MediaFacts
from reelscope.direct_upload import (
    BROWSER_CHUNK_BYTES,
    FinishedUpload,
    UploadRefused,
    UploadSession,
    finish_upload,
    start_upload,
)
from reelscope.media import format_size
from reelscope.untrusted import safe_inline

_HTML = """
<div class="ru-uploader">
  <label class="ru-label">Large file (straight to Cloud Storage)
    <input class="ru-file" type="file" accept="video/*,image/*">
  </label>
  <progress class="ru-progress" max="1" value="0" hidden></progress>
  <div class="ru-row">
    <div class="ru-status" aria-live="polite"></div>
    <button class="ru-cancel" type="button" hidden>Cancel</button>
  </div>
</div>
"""

_CSS = """
.ru-uploader { font-family: var(--st-font, sans-serif); color: var(--st-text-color, inherit); }
.ru-label { display: flex; flex-direction: column; gap: 0.4rem; font-size: 0.875rem; }
.ru-file { font: inherit; color: inherit; }
.ru-progress { width: 100%; height: 0.6rem; margin-top: 0.6rem;
  accent-color: var(--st-primary-color, #ff4b4b); }
.ru-row { display: flex; align-items: center; gap: 0.75rem; margin-top: 0.4rem; }
.ru-status { flex: 1; font-size: 0.875rem; overflow-wrap: anywhere; }
.ru-status[data-kind="error"] { color: var(--st-red-color, #ff4b4b); }
.ru-status[data-kind="success"] { color: var(--st-green-color, #21c354); }
.ru-cancel { font: inherit; color: inherit; cursor: pointer; padding: 0.25rem 0.75rem;
  background: transparent; border: 1px solid var(--st-border-color, rgba(128,128,128,0.4));
  border-radius: var(--st-button-radius, 0.5rem); }
"""

_JS = (Path(__file__).with_name("direct_upload.js")).read_text(encoding="utf-8")

_uploader = st.components.v2.component("reelscope.direct_upload", html=_HTML, css=_CSS, js=_JS)


def show(key: str, media: MediaFacts) -> FinishedUpload | None:
    """Draw the uploader; the library item an upload became, on the run it was added (else
    None). Needs a bucket (REELSCOPE_BUCKET) and a Cloud Storage client."""
    settings = resources.settings()
    client = resources.storage_client(settings)
    if not settings.bucket or client is None:
        st.caption("Cloud Storage is not connected (see the sidebar): large files cannot go there.")
        return None
    sessions_key, answer_key, result_key = f"{key}.sessions", f"{key}.answer", f"{key}.result"
    sessions: dict[str, UploadSession] = st.session_state.setdefault(sessions_key, {})
    result = _uploader(
        key=key,
        data={
            "chunk_bytes": BROWSER_CHUNK_BYTES,
            "answer": st.session_state.get(answer_key),
            "result": st.session_state.get(result_key),
        },
        on_request_change=_ignore,
        on_done_change=_ignore,
        on_failed_change=_ignore,
        on_cancelled_change=_ignore,
    )
    st.caption(
        f"Up to {format_size(settings.upload_max_bytes)}, sent from your browser to "
        f"gs://{settings.bucket}/uploads/ and then kept in your library."
    )
    owner = resources.owner()
    request = _asked(result.get("request"))
    if request is not None and request["nonce"] not in sessions:
        try:
            session = start_upload(
                client,
                settings.bucket,
                owner=owner,
                name=str(request.get("name") or ""),
                size=_int(request.get("size")),
                mime_type=str(request.get("type") or ""),
                media=media,
                max_bytes=settings.upload_max_bytes,
                origin=str(request.get("origin") or "") or None,
            )
        except UploadRefused as refused:
            st.session_state[answer_key] = {"nonce": request["nonce"], "error": str(refused)}
        else:
            sessions[request["nonce"]] = session
            st.session_state[answer_key] = {"nonce": request["nonce"], "url": session.url}
        st.rerun()  # the browser gets its answer with the next draw
    for ended in (result.get("failed"), result.get("cancelled")):
        if (told := _asked(ended)) is not None:
            sessions.pop(told["nonce"], None)
    done = _asked(result.get("done"))
    if done is None or done["nonce"] not in sessions:
        return None
    session = sessions.pop(done["nonce"])
    try:
        # A spinner's text is Markdown; a file's name is not: through the one sanitiser.
        with st.spinner(f"Adding {safe_inline(session.name)} to your library…"):
            finished = finish_upload(client, resources.library(), session, media, owner=owner)
    except UploadRefused as refused:
        st.session_state[result_key] = {"nonce": done["nonce"], "error": str(refused)}
        st.rerun()
    message = f"{session.name} is in your library ({format_size(session.size)})."
    st.session_state[result_key] = {"nonce": done["nonce"], "message": message}
    return finished


def _asked(value: object) -> Mapping[str, Any] | None:
    """A trigger's value from the browser, if it is one of ours (a mapping with a nonce)."""
    if isinstance(value, Mapping) and isinstance(value.get("nonce"), str):
        return value
    return None


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else -1


def _ignore() -> None:
    """Triggers need a callback to reach Python; the run reads them from the result."""
