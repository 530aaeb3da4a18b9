"""Warms the browser with the frontend code other pages need, while the user is on this one.

Streamlit's frontend loads an element's code the first time a page shows one. The data grid
and its Arrow helpers are ~1.3 MB of JavaScript: loading and compiling them made the first
visit to History take ~1.1 s in a tab where the page itself takes ~0.4 s (measured by
bench/history_open.py). `show()`, drawn once in the sidebar of every page, imports those
modules once per tab when the browser is idle, so the first visit finds them ready.

The modules are Streamlit's own, found by name in the installed Streamlit's static folder;
a name that is not there is skipped, and a failed import is ignored: a prefetch only warms.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import streamlit as st

# Element modules of the pages one is likely to open next: the History table (DataFrame), its
# filters (Multiselect, DateInput) and the replay speed (ReorderedSegments: segmented control).
ELEMENT_MODULES = ("DataFrame", "Multiselect", "DateInput", "ReorderedSegments")
_STATIC_JS = Path(st.__file__).parent / "static" / "static" / "js"

_JS = """
export default function ({ data }) {
  if (window.__reelscopePrefetched) return;
  window.__reelscopePrefetched = true;
  // Streamlit's chunks are resolved against its entry script: the same URLs, the same modules.
  const entry = document.querySelector('script[src*="/static/js/index."]');
  if (!entry || !data.files.length) return;
  const load = () => {
    for (const name of data.files) import(new URL(name, entry.src).href).catch(() => {});
  };
  if (window.requestIdleCallback) window.requestIdleCallback(load, { timeout: 3000 });
  else setTimeout(load, 1000);
}
"""

_prefetch = st.components.v2.component("reelscope.prefetch", html="", js=_JS)


@functools.cache
def module_files(folder: Path = _STATIC_JS) -> tuple[str, ...]:
    """The installed Streamlit's file for each of ELEMENT_MODULES that it has."""
    pattern = re.compile(rf"^(?:{'|'.join(ELEMENT_MODULES)})\.[\w-]+\.js$")
    try:
        return tuple(sorted(p.name for p in folder.iterdir() if pattern.match(p.name)))
    except OSError:
        return ()


def show(key: str = "reelscope.prefetch") -> None:
    """Draw the (invisible) prefetcher; it does its work once per browser tab."""
    _prefetch(key=key, data={"files": list(module_files())})
