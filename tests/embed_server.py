"""A server process that starts one embedding job and runs until it is killed (or the job ends):
what the library contract test and bench/library_resume.py kill mid-job.

Run as `python -m tests.embed_server SPEC` where SPEC is a pickle of
(settings, collection_id, model_id, dimension, items, concurrency).
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from reelscope.embeddings.jobs import start_job
from reelscope.embeddings.models import make_embedder
from reelscope.embeddings.store import EmbeddingStore


def main(spec_path: str) -> None:
    settings, collection_id, model_id, dimension, items, concurrency = pickle.loads(
        Path(spec_path).read_bytes()
    )
    store = EmbeddingStore(settings.data_dir)
    embedder = make_embedder(settings, model_id, dimension)
    job = start_job(store, embedder, collection_id, items, concurrency=concurrency)
    print("started", job.id, flush=True)
    job.wait()


if __name__ == "__main__":
    main(sys.argv[1])
