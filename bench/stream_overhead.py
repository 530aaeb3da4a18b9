"""Benchmark: the app's streaming pipeline against a raw google-genai loop, same emulated stream.

Both consume one 200-chunk stream from the local Vertex AI emulator over real HTTP: the baseline
joins `chunk.text`; the pipeline turns chunks into typed events (run_generation) and folds them
into a RunState, as the Ask page does. Runs alternate, and so does which goes first, so drift
and warm caches hit both alike. Prints medians and their ratio (goal: at most 1.05).
Run with `make bench` (python -m bench.stream_overhead).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from reelscope.catalog import load_catalog
from reelscope.generation.request import build_request
from reelscope.generation.runner import run_generation
from reelscope.generation.state import RunState
from reelscope.parameters import defaults_for
from reelscope.settings import Settings
from reelscope.vertex import make_genai_client
from tests.vertex_emulator import VertexEmulator, write_static_adc

CHUNKS = 200
ROUNDS = 100
WARMUP = 5


def main() -> None:
    model = load_catalog().get("gemini-3.5-flash")
    request = build_request(model, [], "Describe the video.", defaults_for(model))
    reply = " ".join(f"token{i:04d}" for i in range(CHUNKS * 4))

    def raw_sdk() -> str:
        stream = client.models.generate_content_stream(
            model=request.model_id, contents=request.contents, config=request.config
        )
        return "".join(chunk.text or "" for chunk in stream)

    def pipeline() -> str:
        run = RunState(model_id=request.model_id)
        for event in run_generation(client, request):
            run.apply(event)
        run.finish()
        return run.text

    with tempfile.TemporaryDirectory() as folder, VertexEmulator() as emulator:
        emulator.set_reply(reply, chunks=CHUNKS)
        settings = Settings(
            project="bench", vertex_base_url=emulator.base_url,
            credentials_file=str(write_static_adc(Path(folder) / "adc.json")),
        )  # fmt: skip
        client = make_genai_client(settings)
        assert raw_sdk() == pipeline() == reply, "both must read the whole answer"
        timings: dict[str, list[float]] = {"raw": [], "pipeline": []}
        for round_number in range(WARMUP + ROUNDS):
            order = (("raw", raw_sdk), ("pipeline", pipeline))
            for name, run in order if round_number % 2 else order[::-1]:
                started = time.perf_counter()
                run()
                if round_number >= WARMUP:
                    timings[name].append(time.perf_counter() - started)
                emulator.clear()  # the request log would otherwise grow through the run

    raw, app = statistics.median(timings["raw"]), statistics.median(timings["pipeline"])
    # Each round's two runs are neighbours in time: their ratio cancels most machine drift.
    paired = sorted(a / r for a, r in zip(timings["pipeline"], timings["raw"], strict=True))
    quartiles = statistics.quantiles(paired, n=4)
    print(f"stream of {CHUNKS} chunks, {ROUNDS} rounds each, medians:")
    print(f"  raw google-genai loop : {raw * 1000:8.2f} ms")
    print(f"  Reelscope pipeline    : {app * 1000:8.2f} ms")
    print(f"  per chunk, extra      : {(app - raw) / CHUNKS * 1e6:8.1f} µs")
    print(f"  paired ratio, median  : {statistics.median(paired):8.3f}  (goal <= 1.05)")
    print(f"  paired ratio, IQR     : {quartiles[0]:.3f} – {quartiles[2]:.3f}")


if __name__ == "__main__":
    main()
