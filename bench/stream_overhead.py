"""Benchmark: the app's streaming pipeline against a raw google-genai loop, same emulated stream.

Both consume one 200-chunk stream from the local Vertex AI emulator over real HTTP, on the run
worker's event loop, awaited from the main thread: the baseline joins `chunk.text` with the async
SDK; the pipeline is a Run started by a session's runs and driven by the worker, its chunks
turned into typed events and folded, as the Ask page does. Runs alternate, and so does which
goes first, so drift and warm caches hit both alike. Prints medians and their ratio
(goal: at most 1.05), on Vertex AI and then on the Gemini Developer API (an API key, the
/v1beta path) in the same run. Run with `make bench` (python -m bench.stream_overhead).
"""

from __future__ import annotations

import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.pairing import alternate, ratios
from reelscope.catalog import load_catalog
from reelscope.generation.request import build_request
from reelscope.generation.runner import Target
from reelscope.media_rules import check_for_model
from reelscope.parameters import defaults_for
from reelscope.runs import Runs, RunSpec, worker
from reelscope.settings import Settings
from reelscope.tasks import TaskRegistry
from reelscope.vertex import make_genai_client
from tests.vertex_emulator import VertexEmulator, write_static_adc

CHUNKS = 200
ROUNDS = 100
WARMUP = 5


@dataclass(frozen=True)
class Measured:
    raw_s: float  # median of the raw google-genai loop
    app_s: float  # median of the Reelscope pipeline
    paired: list[float]  # pipeline / raw, round by round


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, VertexEmulator() as emulator:
        vertex = Settings(
            project="bench", vertex_base_url=emulator.base_url,
            credentials_file=str(write_static_adc(Path(folder) / "adc.json")),
        )  # fmt: skip
        # The Gemini Developer API (an API key alone): the same stream, on its /v1beta path.
        gemini_api = Settings(gemini_api_key=emulator.api_key, gemini_base_url=emulator.base_url)
        on_vertex = measure(vertex, emulator)
        on_gemini_api = measure(gemini_api, emulator)
    report("Vertex AI", on_vertex, "stream")
    report("Gemini Developer API", on_gemini_api, "stream_gemini_api")
    print(f"bench stream_overhead_ratio: {statistics.median(on_vertex.paired):.3f}")
    print(f"bench stream_overhead_ratio_gemini_api: {statistics.median(on_gemini_api.paired):.3f}")


def measure(settings: Settings, emulator: VertexEmulator) -> Measured:
    """Alternating rounds of the raw loop and the pipeline on `settings`' backend."""
    model = load_catalog().get("gemini-3.5-flash")
    params = defaults_for(model)
    request = build_request(
        model, check_for_model([], model, load_catalog().media), "Describe the video.", params
    )
    spec = RunSpec(model.id, "Describe the video.", params)
    reply = " ".join(f"token{i:04d}" for i in range(CHUNKS * 4))
    runs = Runs(TaskRegistry())
    client = make_genai_client(settings)

    async def raw_stream() -> str:
        stream = await client.aio.models.generate_content_stream(
            model=request.model_id, contents=request.contents, config=request.config
        )
        return "".join([chunk.text or "" async for chunk in stream])

    def raw_sdk() -> str:
        return worker().call(raw_stream(), timeout=60)  # the client's async side has one loop

    def pipeline() -> str:
        run = runs.start(spec, client, request, target=Target(settings.project, "global"))
        run.wait_done(timeout=60)
        return run.state().text

    emulator.set_reply(reply, chunks=CHUNKS)
    assert raw_sdk() == pipeline() == reply, "both must read the whole answer"
    # the request log would otherwise grow through the run
    piped, raws = alternate(pipeline, raw_sdk, rounds=ROUNDS, warmup=WARMUP,
                            between=emulator.clear)  # fmt: skip
    runs.stop_all()
    return Measured(statistics.median(raws), statistics.median(piped), ratios(piped, raws))


def report(backend: str, measured: Measured, name: str) -> None:
    raw, app, paired = measured.raw_s, measured.app_s, measured.paired
    quartiles = statistics.quantiles(paired, n=4)
    print(f"{backend}: stream of {CHUNKS} chunks, {ROUNDS} rounds each, medians:")
    print(f"  raw google-genai loop : {raw * 1000:8.2f} ms")
    print(f"  Reelscope pipeline    : {app * 1000:8.2f} ms")
    print(f"  per chunk, extra      : {(app - raw) / CHUNKS * 1e6:8.1f} µs")
    print(f"  paired ratio, median  : {statistics.median(paired):8.3f}  (goal <= 1.05)")
    print(f"  paired ratio, IQR     : {quartiles[0]:.3f} – {quartiles[2]:.3f}")
    print(f"bench {name}_raw_sdk_ms: {raw * 1000:.2f}")
    print(f"bench {name}_pipeline_ms: {app * 1000:.2f}")


if __name__ == "__main__":
    main()
