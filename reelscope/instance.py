"""This app process as one instance among several sharing a run history.

Each process is an instance with an id of its own, decided here once: the runs it streams carry
it in the shared table, with a heartbeat it refreshes while they stream (reelscope/store/
liveness.py). Another instance lists them in its Running list, asks for a stop through the
table, and marks a run interrupted once its heartbeat is older than STALE_AFTER_S: its instance
died with it. Heartbeats are wall-clock times (time.time()) of the instances, which Cloud Run
keeps in step; STALE_AFTER_S leaves room for a few seconds of drift.
"""

from __future__ import annotations

import os
import secrets
import socket

INSTANCE_ID = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
HEARTBEAT_S = 2.0  # how often an instance says its live runs are still streaming
STOP_POLL_S = 0.25  # how often it looks for stop requests on them (a Stop ends them within 2 s)
STALE_AFTER_S = 3 * HEARTBEAT_S + 2.0  # a live run's heartbeat older than this: its instance died
