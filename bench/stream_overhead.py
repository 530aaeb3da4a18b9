"""Benchmark: the app's streaming pipeline against a raw google-genai loop, same emulated stream.

Both consume one 200-chunk stream from the local Vertex AI emulator over real HTTP: the baseline
joins `chunk.text`; the pipeline turns chunks into typed events (run_generation) and folds them
into a RunState, as the Ask page does. Runs alternate so drift hits both alike. Prints medians
and their ratio (goal: at most 1.05). Run with `make bench` (python -m bench.stream_overhead).
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
ROUNDS = 40
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
            for name, run in (("raw", raw_sdk), ("pipeline", pipeline)):
                started = time.perf_counter()
                run()
                if round_number >= WARMUP:
                    timings[name].append(time.perf_counter() - started)
                emulator.clear()  # the request log would otherwise grow through the run

    raw, app = statistics.median(timings["raw"]), statistics.median(timings["pipeline"])
    print(f"stream of {CHUNKS} chunks, {ROUNDS} rounds each, medians:")
    print(f"  raw google-genai loop : {raw * 1000:8.2f} ms")
    print(f"  Reelscope pipeline    : {app * 1000:8.2f} ms")
    print(f"  ratio pipeline / raw  : {app / raw:8.3f}  (goal <= 1.05)")


if __name__ == "__main__":
    main()
