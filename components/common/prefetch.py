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
# Plotly's module is 4.7 MB: fetched only where a chart is what comes next (the Embeddings
# page before a collection is open), not on every page a tab opens.
CHART_MODULES = ("PlotlyChart",)
_STATIC_JS = Path(st.__file__).parent / "static" / "static" / "js"

_JS = """
export default function ({ data }) {
  const done = (window.__reelscopePrefetched ??= new Set());
  const files = data.files.filter((name) => !done.has(name));
  // Streamlit's chunks are resolved against its entry script: the same URLs, the same modules.
  const entry = document.querySelector('script[src*="/static/js/index."]');
  if (!entry || !files.length) return;
  files.forEach((name) => done.add(name));
  const load = () => {
    for (const name of files) import(new URL(name, entry.src).href).catch(() => {});
  };
  if (window.requestIdleCallback) window.requestIdleCallback(load, { timeout: 3000 });
  else setTimeout(load, 1000);
}
"""

_prefetch = st.components.v2.component("reelscope.prefetch", html="", js=_JS)


@functools.cache
def module_files(
    folder: Path = _STATIC_JS, modules: tuple[str, ...] = ELEMENT_MODULES
) -> tuple[str, ...]:
    """The installed Streamlit's file for each of `modules` that it has."""
    pattern = re.compile(rf"^(?:{'|'.join(modules)})\.[\w-]+\.js$")
    try:
        return tuple(sorted(p.name for p in folder.iterdir() if pattern.match(p.name)))
    except OSError:
        return ()


def show(key: str = "reelscope.prefetch", modules: tuple[str, ...] = ELEMENT_MODULES) -> None:
    """Draw the (invisible) prefetcher; each module is imported once per browser tab."""
    _prefetch(key=key, data={"files": list(module_files(_STATIC_JS, modules))})
