"""The result of counting a prompt's tokens, against the model's input limit."""

from __future__ import annotations

import streamlit as st

from reelscope.catalog import Model
from reelscope.generation.events import RunError
from reelscope.untrusted import safe_inline


def show(result: int | RunError, model: Model) -> None:
    if isinstance(result, RunError):
        # the server's message is untrusted text; the hint is ours
        st.error(f"Could not count tokens. {safe_inline(result.message)}\n\n{result.hint}")
        return
    limit = model.input_token_limit
    if limit and result > limit:
        st.error(
            f"This prompt is {result:,} tokens; {model.name} takes at most {limit:,}. "
            "Clip a video, lower its frames a second or the media resolution, or use fewer videos."
        )
    else:
        share = f" ({result / limit:.1%} of {model.name}'s {limit:,})" if limit else ""
        st.info(f"Prompt: {result:,} tokens{share}.", icon=":material/token:")
