"""Benchmark: a batch job's 10,000-line predictions.jsonl read into a lab's cells and the store.

A 10,000-cell grid (2,500 gs:// videos × 4 variants × 1 model) is submitted as one batch job to
the Vertex emulator, which writes predictions.jsonl to gcp-storage-emulator; then `ingest` reads
it into 10,000 kept runs (one transaction) and points every cell at its run. Beside it, in the
same run, the baseline: reading and parsing the same file alone (`read_results`), which any
ingest must do. Prints `bench batch_ingest_10k_lines_s` (goal: at most 5) and the baseline.
Run with `python -m bench.lab_batch`.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from reelscope.catalog import load_catalog
from reelscope.lab import batch, batch_jobs
from reelscope.lab.batch import Clients
from reelscope.lab.grid import GridSpec, ModelColumn, VideoRow
from reelscope.lab.launch import new_lab
from reelscope.lab.plan import BATCH, RowSource, plan_grid
from reelscope.media import source_from_link
from reelscope.parameters import defaults_for
from reelscope.settings import Settings
from reelscope.store import open_store
from reelscope.vertex import make_genai_client, make_storage_client
from tests.conftest import run_storage_emulator
from tests.vertex_emulator import BatchPace, VertexEmulator, write_static_adc

VIDEOS = 2_500
VARIANTS = ("Describe {video}.", "List the objects in {video}.", "What is said in {video}?",
            "Give {video} a title.")  # fmt: skip


def main() -> None:
    catalog = load_catalog()
    model = catalog.get("gemini-3.5-flash")
    spec = GridSpec(
        VARIANTS,
        (ModelColumn(model.id, defaults_for(model)),),
        tuple(VideoRow(f"gs://library/v{i}.mp4", f"v{i}.mp4") for i in range(VIDEOS)),
    )
    rows = [RowSource(source_from_link(r.key)) for r in spec.rows]
    with (
        tempfile.TemporaryDirectory() as folder,
        VertexEmulator() as emulator,
        run_storage_emulator() as storage_url,
    ):
        os.environ["STORAGE_EMULATOR_HOST"] = storage_url
        settings = Settings(
            project="bench", vertex_base_url=emulator.base_url, storage_emulator_host=storage_url,
            credentials_file=str(write_static_adc(Path(folder) / "adc.json")),
        )  # fmt: skip
        emulator.use_storage(storage_url)
        emulator.set_batch_pace(BatchPace())
        emulator.set_reply("A kitchen; a dog waits by its bowl, then eats.", chunks=1)
        clients = Clients(make_genai_client(settings), make_storage_client(settings))
        bucket = clients.storage.create_bucket("bench-lab").name
        store = open_store(Path(folder) / "data", price_of=lambda i, b: catalog.get(i).price_on(b))
        plan = plan_grid(spec, rows, catalog, how=BATCH)
        lab_id = new_lab(store, spec, plan, rows, owner="bench")
        (job,) = batch.launch(store, clients, bucket=bucket, lab_id=lab_id, owner="bench",
                              cells=plan.runnable)  # fmt: skip
        info = batch_jobs.job_status(clients.genai, job.name)
        while not info.done:
            time.sleep(0.2)
            info = batch_jobs.job_status(clients.genai, job.name)
        keys = [c.cell.key for c in plan.runnable]

        started = time.perf_counter()
        parsed = batch_jobs.read_results(clients.storage, info, keys)
        parse_s = time.perf_counter() - started
        assert len(parsed.results) == len(keys), parsed.errors[:3]

        started = time.perf_counter()
        filled = batch.ingest(store, clients.storage, job, info, app_version="bench")
        ingest_s = time.perf_counter() - started
        cells = store.labs.cells(lab_id)
        assert filled == len(keys) and {c.status for c in cells} == {"completed"}
        store.close()
        clients.genai.close()
        clients.storage.close()

    print(f"{len(keys):,} lines of predictions.jsonl:")
    print(f"  read and parsed alone     : {parse_s:6.2f} s")
    print(f"  read into cells and store : {ingest_s:6.2f} s  (goal <= 5)")
    print(f"bench batch_parse_10k_lines_s: {parse_s:.2f}")
    print(f"bench batch_ingest_10k_lines_s: {ingest_s:.2f}")


if __name__ == "__main__":
    main()
