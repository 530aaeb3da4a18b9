"""Benchmark: an embedding job against the emulator at 100 ms a call, over one call at a time.

200 text items, gemini-embedding-2 through the real google-genai SDK over HTTP to
tests/vertex_emulator.py, every call delayed 100 ms by the emulator. In the same run:
- `embed_job_serial_s`: the same 200 calls made one after the other with the same client;
- `embed_job_s`: `reelscope.embeddings.jobs.start_job` (bounded concurrency) to completion;
- `embed_job_speedup`: serial over job (goal >= 6);
- `embed_repeat_calls`: API calls made when the same job runs again (goal 0: all cached).
Run with `.venv/bin/python -m bench.embed_job` (part of `make bench`).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from reelscope.embeddings.items import plan_calls, text_items
from reelscope.embeddings.jobs import start_job
from reelscope.embeddings.models import GEMINI_EMBEDDING_2, make_embedder
from reelscope.embeddings.store import EmbeddingStore
from reelscope.settings import Settings
from tests.vertex_emulator import VertexEmulator, write_static_adc

ITEMS = 200
LATENCY_S = 0.1


def main() -> None:
    with (
        tempfile.TemporaryDirectory(prefix="reelscope-bench-") as folder,
        VertexEmulator() as vertex,
    ):
        root = Path(folder)
        settings = Settings(
            project="bench-project",
            vertex_base_url=vertex.base_url,
            credentials_file=str(write_static_adc(root / "adc.json")),
            data_dir=root / "data",
        )
        embedder = make_embedder(settings, GEMINI_EMBEDDING_2, 768)
        store = EmbeddingStore(settings.data_dir)
        items = text_items("\n".join(f"snippet number {i}" for i in range(ITEMS)))
        serial_items = text_items("\n".join(f"serial snippet {i}" for i in range(ITEMS)))
        embedder.embed(plan_calls(serial_items[0], embedder.model)[0])  # open the connection

        vertex.delay(LATENCY_S, times=ITEMS, rpc="embedContent")
        started = time.perf_counter()
        for item in serial_items:
            embedder.embed(plan_calls(item, embedder.model)[0])
        serial_s = time.perf_counter() - started

        info = store.create("bench", GEMINI_EMBEDDING_2, 768)
        vertex.clear()
        vertex.delay(LATENCY_S, times=ITEMS, rpc="embedContent")
        started = time.perf_counter()
        job = start_job(store, embedder, info.id, items)
        job.wait()
        job_s = time.perf_counter() - started
        first = job.details()
        assert first.items_done == ITEMS and first.calls == ITEMS, first

        vertex.clear()
        again = start_job(store, embedder, info.id, items)
        again.wait()
        repeat_calls = again.details().calls
        assert len([r for r in vertex.requests if r.rpc == "embedContent"]) == repeat_calls
    print(f"bench embed_job_serial_s: {serial_s:.2f}")
    print(f"bench embed_job_s: {job_s:.2f}")
    print(f"bench embed_job_speedup: {serial_s / job_s:.2f}")
    print(f"bench embed_repeat_calls: {repeat_calls}")


if __name__ == "__main__":
    main()
