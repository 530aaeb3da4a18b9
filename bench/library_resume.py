"""Benchmark: a collection built from a gs:// prefix by a server killed mid-job and resumed.

40 small generated videos under a prefix in gcp-storage-emulator, gemini-embedding-2 through
the real google-genai SDK to tests/vertex_emulator.py (every call delayed 100 ms). A server
process (tests/embed_server.py) starts the job and is SIGKILLed once half of the calls were
made; this process then resumes the job from the embedding store in a fresh registry (once the
dead server's heartbeat is stale, as another instance would). In the
same run:
- `library_resume_whole_job_calls`: the calls the whole job needs (the baseline);
- `library_resume_calls_before_kill`, `library_resume_calls_after_restart`: calls made by each;
- `library_resume_repeat_calls`: calls after the restart for windows already in the cache at
  the kill (goal 0: an item already embedded is never sent again);
- `library_resume_inflight_resent`: calls in flight at the kill (never answered into the
  cache) that the resumed job sent again: at most the server's concurrency.
Run with `.venv/bin/python -m bench.library_resume` (part of `make bench`).
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reelscope.embeddings.items import SegmentConfig, embeddable, items_from_prefix, plan_calls
from reelscope.embeddings.jobs import resume_jobs
from reelscope.embeddings.models import GEMINI_EMBEDDING_2, make_embedder
from reelscope.embeddings.store import EmbeddingStore
from reelscope.listing import list_media
from reelscope.settings import Settings
from reelscope.tasks import TaskRegistry
from reelscope.vertex import make_storage_client
from tests.conftest import run_storage_emulator
from tests.media_files import make_video
from tests.vertex_emulator import VertexEmulator, write_static_adc

VIDEOS = 40
SEGMENTS = SegmentConfig(0.0, 16.0, 8.0)  # two calls a video
DIMENSION = 768
CONCURRENCY = 4
LATENCY_S = 0.1
RPC = "embedContent"
ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    with (
        tempfile.TemporaryDirectory(prefix="reelscope-bench-") as folder,
        VertexEmulator() as vertex,
        run_storage_emulator() as storage_url,
    ):
        root = Path(folder)
        settings = Settings(
            project="bench-project",
            vertex_base_url=vertex.base_url,
            credentials_file=str(write_static_adc(root / "adc.json")),
            data_dir=root / "data",
            storage_emulator_host=storage_url,
        )
        prefix = _upload_prefix(settings, make_video(root / "clip.mp4"))
        files = make_storage_client(settings)
        listing = list_media(files, prefix, embeddable, limit=10_000)
        files.close()
        items = items_from_prefix(listing.files, SEGMENTS)
        embedder = make_embedder(settings, GEMINI_EMBEDDING_2, DIMENSION)
        calls = [c for n, item in enumerate(items) for c in plan_calls(item, embedder.model, n)]
        store = EmbeddingStore(settings.data_dir)
        info = store.create("Library", GEMINI_EMBEDDING_2, DIMENSION)

        vertex.delay(LATENCY_S, times=10_000, rpc=RPC)
        spec = root / "spec.pickle"
        spec.write_bytes(pickle.dumps(
            (settings, info.id, GEMINI_EMBEDDING_2, DIMENSION, items, CONCURRENCY)
        ))  # fmt: skip
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.embed_server", str(spec)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while len(_requests(vertex)) < len(calls) // 2:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server ended early: {server.communicate()[1]}")
            time.sleep(0.01)
        os.kill(server.pid, signal.SIGKILL)
        server.communicate()
        before = _requests(vertex)
        cached = sum(store.cache.get(c.cache_key, DIMENSION) is not None for c in calls)
        store.db.close()

        vertex.clear()
        again = EmbeddingStore(settings.data_dir)
        tasks = TaskRegistry()
        while not (resumed := resume_jobs(  # once the dead server's heartbeat is stale
            again, lambda m, d: make_embedder(settings, m, d), tasks=tasks
        )):  # fmt: skip
            time.sleep(0.2)
        (job,) = resumed
        job.wait()
        progress = job.details()
        assert progress.items_done == VIDEOS and not progress.failures, progress
        after = _requests(vertex)
        inflight_resent = len({_key(r) for r in before} & {_key(r) for r in after})
        again.db.close()
    repeat = len(after) - (len(calls) - cached)
    print(f"bench library_resume_whole_job_calls: {len(calls)}")
    print(f"bench library_resume_calls_before_kill: {len(before)}")
    print(f"bench library_resume_calls_after_restart: {len(after)}")
    print(f"bench library_resume_repeat_calls: {repeat}")
    print(f"bench library_resume_inflight_resent: {inflight_resent}")


def _upload_prefix(settings: Settings, video: Path) -> str:
    client = make_storage_client(settings)
    bucket = client.create_bucket("library-bench")
    for n in range(VIDEOS):
        bucket.blob(f"films/clip-{n:03d}.mp4").upload_from_filename(video)
    client.close()
    return "gs://library-bench/films/"


def _requests(vertex: VertexEmulator) -> list:
    return [r for r in vertex.requests if r.rpc == RPC]


def _key(request) -> str:
    return json.dumps(request.body, sort_keys=True)


if __name__ == "__main__":
    main()
