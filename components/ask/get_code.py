"""Get code: the current request as a Python script and a curl command, ready to copy.

Both come from reelscope.codegen: the curl body is Vertex AI's REST body for the request the app
sends, so what a user copies asks exactly what the app asks. Each code block has Streamlit's copy
button; the script and the body can also be downloaded (a body with large inline media only
that way, so the page does not carry megabytes of base64).
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from components.common import resources
from reelscope import codegen
from reelscope.generation.request import GenerationRequest
from reelscope.media import MediaSource
from reelscope.settings import BACKEND_GEMINI_API, BACKEND_NAMES, Settings

BODY_FILE = "request.json"


def show(
    key: str,
    request: GenerationRequest,
    settings: Settings,
    *,
    stream: bool = True,
    sources: Sequence[MediaSource] = (),
) -> None:
    """An expander with Python and curl tabs for `request`, sent to `settings`' project.

    `sources` (optional) names the files the script reads inline media from.
    """
    backend = resources.backend(settings)
    with st.expander("Get code", icon=":material/code:"):
        if backend == BACKEND_GEMINI_API:
            st.caption(
                f"For the Gemini Developer API: the code reads your key from "
                f"`{codegen.KEY_VARIABLE}` and never contains it."
            )
        elif not settings.project:
            st.caption(
                f"No project is set: the code says `{codegen.PROJECT_PLACEHOLDER}`. Set "
                "GOOGLE_CLOUD_PROJECT (or replace it in the code) before running it."
            )
        python_tab, curl_tab = st.tabs(["Python", "curl"], key=f"{key}.tabs")
        with python_tab:
            _python(key, request, settings, stream, sources, backend)
        with curl_tab:
            _curl(key, request, settings, stream, backend)


def _python(
    key: str,
    request: GenerationRequest,
    settings: Settings,
    stream: bool,
    sources: Sequence[MediaSource],
    backend: str,
) -> None:
    script = codegen.python_snippet(
        request,
        project=settings.project,
        location=settings.location,
        stream=stream,
        names=codegen.file_names(sources),
        backend=backend,
    )
    st.caption(f"google-genai on {BACKEND_NAMES[backend]}, with the same contents and "
               "configuration.")  # fmt: skip
    st.code(script, language="python")
    st.download_button(
        "Download reelscope_request.py",
        script,
        file_name="reelscope_request.py",
        mime="text/x-python",
        key=f"{key}.python_file",
        icon=":material/download:",
        on_click="ignore",
    )


def _curl(
    key: str, request: GenerationRequest, settings: Settings, stream: bool, backend: str
) -> None:
    on_key = backend == BACKEND_GEMINI_API
    where = {
        "endpoint": (settings.gemini_base_url or codegen.GEMINI_API_ENDPOINT)
        if on_key
        else settings.endpoint,
        "project": settings.project,
        "location": settings.location,
        "stream": stream,
        "backend": backend,
    }
    try:
        codegen.check_writable(request)
    except codegen.UnwritableRequest as problem:
        st.warning(f"{problem} Use the Python script instead.", icon=":material/code_off:")
        return
    if codegen.curl_fits_inline(request):
        credentials = f"the key from ${codegen.KEY_VARIABLE}" if on_key else "a token from gcloud"
        st.caption(f"The request the app sends, as REST JSON, with {credentials}.")
        st.code(codegen.curl_command(request, **where), language="bash")
    else:
        mb = codegen.inline_bytes(request) / 1e6
        st.caption(
            f"The body carries {mb:.1f} MB of inline media: download it as {BODY_FILE} next "
            "to where you run the command."
        )
        st.code(codegen.curl_command(request, body_file=BODY_FILE, **where), language="bash")
    st.download_button(
        f"Download {BODY_FILE}",
        lambda: codegen.request_json(request),  # encoded only when asked: it may be megabytes
        file_name=BODY_FILE,
        mime="application/json",
        key=f"{key}.body_file",
        icon=":material/download:",
        on_click="ignore",
    )
