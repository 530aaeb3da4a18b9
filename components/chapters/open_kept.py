"""Open a kept analysis run (a lab's chapters cell, say) on the Chapters page, with its player.

The Chapters page shows the runs its session started, by video and mode. A kept run is put
there as it would have been: its video back on the picker (from the media library, as
History's "Open in Ask" does), its mode chosen, and its events replayed at once into a live run
(reelscope/runs/replay.py, which the history does not keep again) in the video's slot.
"""

from __future__ import annotations

import streamlit as st

from components.common import kept
from components.media import source_picker
from reelscope.chapters.modes import Mode
from reelscope.library import MediaLibrary
from reelscope.runs import Runs
from reelscope.runs.replay import start_replay
from reelscope.store import StoredRun

SOURCES_KEY = "chapters.sources"  # the page's source picker
MODES_KEY = "chapters.mode"  # the page's mode picker (its choice: MODES_KEY + ".mode")
RUNS_KEY = "chapters.runs"  # the page's runs, "<video key>|<mode id>" -> (run id, mode)
INSTANT = 1_000_000.0  # a replay speed at which every event arrives at once


def open_kept(run: StoredRun, mode: Mode, library: MediaLibrary, runs: Runs, owner: str) -> bool:
    """Put `run` on the Chapters page; False when its video is no longer in the library."""
    found, _missing = library.sources_again(run.spec.sources, owner=owner)
    videos = [(source, clip) for source, clip in found if source.is_video]
    if not videos:
        return False
    source, clip = videos[0]
    source_picker.add_sources(SOURCES_KEY, [source], [clip])
    kept.put(f"{MODES_KEY}.mode", mode.id)
    replay = start_replay(runs, run.spec, run.events, original_id=run.id,
                          started_at=run.started_at, speed=INSTANT)  # fmt: skip
    st.session_state.setdefault(RUNS_KEY, {})[f"{source.key}|{mode.id}"] = (replay.id, mode)
    return True
