"""Benchmark: the first map of 10k points in a freshly started server, in Chromium.

A collection of 10,000 x 1408 vectors (20 clusters, as in bench/projection.py), with no map
stored yet. Each measurement starts a new Reelscope server (`serve.py`, the umap warm-up on,
as `make run` starts it), opens /embeddings in a new tab and picks the collection; the clock
starts at the page load.

- `first_preview_10k_s`: until the PCA preview is on screen (the plot, and the note that the
  UMAP map is coming). Goal: at most 2 s. Beside it, `first_preview_stored_10k_s`: the same
  collection with its map already stored, so nothing is computed: the page's own floor.
- `first_umap_10k_s`: until the UMAP map has replaced the preview, on a first launch opened at
  once (an empty numba cache: UMAP's worker imports umap and compiles numba meanwhile); and
  `first_umap_warm_10k_s` on a later launch over the same data folder (numba's cache there),
  the page opened a minute after the server started, as people do: the warm-up is over.
  Beside them, `first_umap_naive_10k_s`: a fresh Python process that imports umap-learn and
  runs its default `fit_transform` on the same vectors, as an app that fits on demand would
  make a user wait, with nothing on screen meanwhile.

Run with `make bench` (python -m bench.first_map). Takes a few minutes: every cold start
compiles numba again.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from playwright.sync_api import Page, expect, sync_playwright

from bench.projection import clustered
from reelscope.embeddings.store import EmbeddingStore, NewRow
from reelscope.projection import ProjectionParams, pca
from tests.e2e.conftest import CHROMIUM_ARGS, DEBIAN_CHROMIUM, running_app, wait_idle
from tests.vertex_emulator import write_static_adc

N = 10_000
ROUNDS = 2
UMAP_WAIT_MS = 600_000
WARM_UP_S = 60.0  # how long after the server starts a later launch's page is opened
NAIVE = """
import sys, time
import numpy as np
started = time.perf_counter()
import umap
umap.UMAP(metric="cosine").fit_transform(np.load(sys.argv[1]))
print(time.perf_counter() - started)
"""


def seed(data_dir: Path, vectors: np.ndarray, *, stored_map: bool) -> str:
    """A collection of `vectors` in a new data folder, with or without its map stored."""
    store = EmbeddingStore(data_dir)
    info = store.create("ten thousand", "multimodalembedding@001", vectors.shape[1])
    rows = [
        NewRow(kind="video", label=f"clip{i // 100}.mp4", source=f"clip{i // 100}.mp4",
               source_key=f"sha256:{i // 100}", start_s=(i % 100) * 4.0,
               end_s=(i % 100) * 4.0 + 4, mime_type="video/mp4")
        for i in range(len(vectors))
    ]  # fmt: skip
    info = store.add(info.id, rows, vectors)
    if stored_map:
        params = ProjectionParams()
        coords = pca(vectors, 2)  # a stand-in: what matters is that nothing is computed
        store.save_projection(info.id, params.key(info.content_hash), coords, "umap", None, "{}")
    store.db.close()
    return info.name


def first_map(page: Page, url: str, name: str, *, wait_umap: bool) -> tuple[float, float | None]:
    """Seconds from the page load to the first map on screen, and to the UMAP map."""
    started = time.perf_counter()
    page.goto(f"{url}/embeddings")
    picker = page.get_by_label("Open a collection")
    picker.click()
    page.get_by_role("option").filter(has_text=name).click()
    # the map on screen: the chart, or in a tab without Plotly's code yet its picture
    drawn = page.locator(".st-key-emb-map .js-plotly-plot, .st-key-emb-map-picture img")
    expect(drawn.first).to_be_visible(timeout=60_000)
    shown = time.perf_counter() - started
    if not wait_umap:
        return shown, None
    # What came first must be the preview: a stored map here would time the wrong thing.
    assert page.get_by_text("PCA preview").count() > 0, "the first map is not the PCA preview"
    umap_note = page.get_by_text(f"UMAP map of {N:,} rows")
    expect(umap_note).to_be_visible(timeout=UMAP_WAIT_MS)
    return shown, time.perf_counter() - started


def naive_umap(vectors_path: Path) -> float:
    """umap-learn's default fit in a fresh process with an empty numba cache."""
    with tempfile.TemporaryDirectory(prefix="reelscope-numba-") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        result = subprocess.run(
            [sys.executable, "-c", NAIVE, str(vectors_path)],
            capture_output=True, text=True, env=env, check=True,
        )  # fmt: skip
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    vectors, _ = clustered(N)
    timings: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="reelscope-bench-") as folder:
        root = Path(folder)
        fresh, stored = root / "fresh", root / "stored"
        name = seed(fresh, vectors, stored_map=False)
        seed(stored, vectors, stored_map=True)
        np.save(root / "vectors.npy", vectors)
        env = {
            "GOOGLE_CLOUD_PROJECT": "bench",
            "GOOGLE_VERTEX_BASE_URL": "http://127.0.0.1:9",  # never called: nothing is embedded
            "GOOGLE_APPLICATION_CREDENTIALS": str(write_static_adc(root / "adc.json")),
            "CLOUDSDK_CONFIG": str(root / "gcloud"),
            "REELSCOPE_WARM_UP_UMAP": "true",
        }
        executable = str(DEBIAN_CHROMIUM) if DEBIAN_CHROMIUM.exists() else None
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)

            def measure(
                data: Path, label: str, *, wait_umap: bool, after_s: float = 0.0
            ) -> tuple[float, float | None]:
                app_env = {**env, "REELSCOPE_DATA_DIR": str(data)}
                with running_app(app_env, root / f"{label}.log") as url:
                    time.sleep(after_s)
                    context = browser.new_context(viewport={"width": 1400, "height": 1000})
                    page = context.new_page()
                    try:
                        shown, umap_s = first_map(page, url, name, wait_umap=wait_umap)
                        wait_idle(page, timeout_ms=UMAP_WAIT_MS)
                    finally:
                        context.close()
                return shown, umap_s

            for round_number in range(ROUNDS):
                cold = root / f"cold-{round_number}"  # a first launch: no numba cache
                shutil.copytree(fresh, cold)
                shown, umap_s = measure(cold, "cold", wait_umap=True)
                timings.setdefault("preview", []).append(shown)
                timings.setdefault("umap", []).append(umap_s)
                later = root / f"later-{round_number}"  # the same folder, its numba cache kept
                shutil.copytree(fresh, later)
                shutil.copytree(cold / "numba-cache", later / "numba-cache")
                _, warm_s = measure(later, "later", wait_umap=True, after_s=WARM_UP_S)
                timings.setdefault("umap_warm", []).append(warm_s)
                floor, _ = measure(stored, "stored", wait_umap=False)
                timings.setdefault("preview_stored", []).append(floor)
                print(f"round {round_number}: " + ", ".join(
                    f"{k} {v[-1]:.2f} s" for k, v in timings.items()), flush=True)  # fmt: skip
            browser.close()
        timings["umap_naive"] = [naive_umap(root / "vectors.npy")]

    medians = {key: statistics.median(values) for key, values in timings.items()}
    print(f"{ROUNDS} fresh servers each, medians; the naive fit once:")
    print(f"bench first_preview_stored_10k_s: {medians['preview_stored']:.2f}")
    print(f"bench first_preview_10k_s: {medians['preview']:.2f}")
    print(f"bench first_umap_naive_10k_s: {medians['umap_naive']:.1f}")
    print(f"bench first_umap_10k_s: {medians['umap']:.1f}")
    print(f"bench first_umap_warm_10k_s: {medians['umap_warm']:.1f}")


if __name__ == "__main__":
    main()
