"""Get code, proven on the wire: the app's run, the Python script and the curl command each send
the same request to the emulator, and the script and command run as they are.

The script sends google-genai's own body, byte for byte the app's. The curl body is written by
reelscope.codegen from the project's request with public APIs (camelCase throughout), while
google-genai writes some nested keys in snake_case (`fileData.file_uri`, `thinkingConfig`'s
keys; SDK-NOTES.md) and the service reads both spellings: so those two bodies are compared
with every field name in camelCase, and with nothing else changed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from google.genai import types

from reelscope import codegen
from reelscope.catalog import load_catalog
from reelscope.generation.request import GenerationRequest, build_request
from reelscope.generation.runner import Target
from reelscope.media import accept_upload, source_from_link
from reelscope.parameters import GenerationParams
from reelscope.runs import Runs, RunSpec
from reelscope.spool import Spool
from reelscope.tasks import TaskRegistry
from reelscope.vertex import make_genai_client
from tests.requests import checked

CATALOG = load_catalog()
MODEL = CATALOG.get("gemini-3.5-flash")
PROMPT = "What happens? Answer with 'MM:SS' timestamps.\nEOF\nand \"quotes\", {braces} $HOME"
SCHEMA = types.Schema(
    type=types.Type.OBJECT,
    properties={
        "moments": types.Schema(
            type=types.Type.ARRAY,
            items=types.Schema(
                type=types.Type.OBJECT,
                properties={
                    "time": types.Schema(type=types.Type.STRING),
                    "what": types.Schema(type=types.Type.STRING),
                },
                required=["time", "what"],
            ),
        )
    },
)
REPLY = "00:01 a red square. 00:05 a green circle."


@pytest.fixture
def sources(tmp_path, video_file, image_file):
    spool = Spool(tmp_path / "spool", 10**8)
    return [
        accept_upload(spool, "my clip.mp4", video_file.open("rb"), CATALOG.media),
        source_from_link("gs://my-bucket/clips/a.mov"),
        accept_upload(spool, "frame.png", image_file.open("rb"), CATALOG.media),
    ]


@pytest.fixture
def request_(sources) -> GenerationRequest:
    """A request with every kind of field: inline video and image, a file URI with a clip
    (videoMetadata), sampling, stop sequences, thinking, safety, a system instruction and a
    response schema."""
    params = GenerationParams(
        temperature=0.3,
        top_p=0.8,
        max_output_tokens=777,
        stop_sequences=("THE END",),
        thinking_level="LOW",
        safety={"HARM_CATEGORY_DANGEROUS_CONTENT": "BLOCK_ONLY_HIGH"},
        system_instruction="You are a sports analyst.\nAnswer in French.",
    )
    request = build_request(MODEL, checked(MODEL, sources), PROMPT, params)
    parts = list(request.contents[0].parts)
    clipped = next(p for p in parts if p.file_data is not None)
    clipped.video_metadata = types.VideoMetadata(start_offset="2s", end_offset="7.5s", fps=2.0)
    config = request.config.model_copy(
        update={"response_mime_type": "application/json", "response_schema": SCHEMA}
    )
    return replace(request, config=config)


def app_body(vertex, settings, request, stream=True) -> dict:
    """The body the app itself sends for `request` (a run through the worker)."""
    client = make_genai_client(settings)
    runs = Runs(TaskRegistry())
    spec = RunSpec(request.model_id, PROMPT, GenerationParams(), stream=stream)
    run = runs.start(spec, client, request, target=Target(settings.project, settings.location))
    assert run.wait_done(timeout=20), run
    assert run.state().completed, run.state().error
    return vertex.last_request().body


# Maps whose keys are the user's names, not field names: left as they are.
DATA_MAPS = frozenset({"properties", "labels"})


def camel_case(body: object) -> object:
    """`body` with every field name in camelCase (`file_uri` -> `fileUri`), values unchanged."""
    if isinstance(body, list):
        return [camel_case(item) for item in body]
    if not isinstance(body, dict):
        return body
    return {
        re.sub(r"_([a-z])", lambda m: m.group(1).upper(), key): (
            {name: camel_case(v) for name, v in value.items()}
            if key in DATA_MAPS
            else camel_case(value)
        )
        for key, value in body.items()
    }


def test_camel_case_renames_field_names_only():
    body = {"file_data": {"file_uri": "gs://a_b"}, "properties": {"start_time": {"type": "x"}}}
    assert camel_case(body) == {
        "fileData": {"fileUri": "gs://a_b"},
        "properties": {"start_time": {"type": "x"}},
    }


def test_the_body_built_from_the_request_is_what_the_app_sends(vertex, emulator_settings, request_):
    sent = app_body(vertex, emulator_settings, request_)
    built = codegen.request_body(request_)
    assert built != sent, "the SDK writes some keys in snake_case: this test must normalise them"
    assert json.loads(json.dumps(built)) == camel_case(sent)
    assert sent["generationConfig"]["responseSchema"]["properties"]["moments"]["type"] == "ARRAY"
    assert any("videoMetadata" in part for part in sent["contents"][0]["parts"])


def test_the_emulator_sees_the_system_instruction(vertex, emulator_settings, request_):
    sent = app_body(vertex, emulator_settings, request_)
    assert sent["systemInstruction"] == {
        "parts": [{"text": "You are a sports analyst.\nAnswer in French."}]
    }
    assert "systemInstruction" not in sent["generationConfig"]


@pytest.mark.parametrize("stream", [True, False])
def test_python_script_runs_and_sends_the_same_body(
    vertex, emulator_settings, adc_file, request_, sources, tmp_path, stream
):
    vertex.set_reply(REPLY, chunks=3)
    sent = app_body(vertex, emulator_settings, request_, stream)
    script = codegen.python_snippet(
        request_,
        project=emulator_settings.project,
        location="global",
        stream=stream,
        names=codegen.file_names(sources),
    )
    folder = tmp_path / "user"
    folder.mkdir()
    for source in sources:  # the user's own files, under the names the script expects
        if source.path is not None:
            shutil.copyfile(source.path, folder / source.label)
    (folder / "ask.py").write_text(script)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "GOOGLE_VERTEX_BASE_URL": vertex.base_url,
        "GOOGLE_APPLICATION_CREDENTIALS": str(adc_file),
        "NO_GCE_CHECK": "true",
    }
    done = subprocess.run(
        [sys.executable, "ask.py"], cwd=folder, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == REPLY
    script_request = vertex.last_request()
    assert script_request.rpc == ("streamGenerateContent" if stream else "generateContent")
    assert script_request.body == sent
    assert "my clip.mp4" in script and "frame.png" in script


def stub_gcloud(folder: Path) -> Path:
    """A `gcloud` on PATH that prints a token, as `gcloud auth print-access-token` does."""
    folder.mkdir(parents=True, exist_ok=True)
    gcloud = folder / "gcloud"
    gcloud.write_text('#!/bin/sh\n[ "$1 $2" = "auth print-access-token" ] && echo test-token\n')
    gcloud.chmod(0o755)
    return folder


def answer_text(output: str) -> str:
    """The text of a REST answer: one JSON object, or server-sent events of them."""
    lines = [line.removeprefix("data: ") for line in output.splitlines() if line.strip()]
    chunks = (
        [json.loads(line) for line in lines] if output.startswith("data:") else [json.loads(output)]
    )
    return "".join(
        part.get("text", "")
        for chunk in chunks
        for candidate in chunk.get("candidates", [])
        for part in candidate.get("content", {}).get("parts", [])
    )


@pytest.mark.parametrize("body_file", [None, "request.json"])
@pytest.mark.parametrize("stream", [True, False])
def test_curl_command_runs_and_sends_the_same_body(
    vertex, emulator_settings, request_, tmp_path, body_file, stream
):
    vertex.set_reply(REPLY, chunks=3)
    sent = app_body(vertex, emulator_settings, request_, stream)
    app_request = vertex.last_request()
    command = codegen.curl_command(
        request_,
        endpoint=emulator_settings.endpoint,
        project=emulator_settings.project,
        location="global",
        stream=stream,
        body_file=body_file,
    )
    if body_file:
        body = codegen.request_json(request_)
        (tmp_path / body_file).write_text(body)
    path = f"{stub_gcloud(tmp_path / 'bin')}:{os.environ['PATH']}"
    (tmp_path / "ask.sh").write_text(command)  # as pasted into a shell
    done = subprocess.run(
        ["bash", "ask.sh"], cwd=tmp_path, env={"PATH": path}, capture_output=True,
        text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert answer_text(done.stdout) == REPLY
    curl_request = vertex.last_request()
    assert curl_request.body == camel_case(sent)
    assert curl_request.headers["authorization"] == "Bearer test-token"
    # the same URL as the SDK's: API version, path and query
    assert (curl_request.path, curl_request.query) == (app_request.path, app_request.query)


@pytest.fixture
def key_request(sources) -> GenerationRequest:
    """Inline media only (the Developer API reads no gs://), with a system instruction."""
    model = CATALOG.get("gemini-3.8-flash")
    inline = [s for s in sources if s.path is not None]
    params = GenerationParams(temperature=0.3, system_instruction="Answer in French.")
    return build_request(model, checked(model, inline), PROMPT, params)


def test_on_the_developer_api_the_script_reads_the_key_and_sends_the_same_body(
    vertex, api_key_settings, key_request, sources, tmp_path
):
    vertex.set_reply(REPLY, chunks=3)
    sent = app_body(vertex, api_key_settings, key_request)
    app_request = vertex.last_request()
    script = codegen.python_snippet(key_request, project=None, location="global",
                                    names=codegen.file_names(sources),
                                    backend="gemini-api")  # fmt: skip
    assert vertex.api_key not in script and "GEMINI_API_KEY" in script
    folder = tmp_path / "user"
    folder.mkdir()
    for source in sources:
        if source.path is not None:
            shutil.copyfile(source.path, folder / source.label)
    (folder / "ask.py").write_text(script)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "GEMINI_API_KEY": vertex.api_key,
           "GOOGLE_GEMINI_BASE_URL": vertex.base_url}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "ask.py"], cwd=folder, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == REPLY
    script_request = vertex.last_request()
    assert (script_request.backend, script_request.path) == ("gemini-api", app_request.path)
    assert script_request.body == sent


def test_on_the_developer_api_curl_sends_the_key_from_the_environment(
    vertex, api_key_settings, key_request, tmp_path
):
    vertex.set_reply(REPLY, chunks=3)
    sent = app_body(vertex, api_key_settings, key_request)
    app_request = vertex.last_request()
    command = codegen.curl_command(key_request, endpoint=vertex.base_url, project=None,
                                   location="global", backend="gemini-api")  # fmt: skip
    assert vertex.api_key not in command
    (tmp_path / "ask.sh").write_text(command)
    done = subprocess.run(
        ["bash", "ask.sh"], cwd=tmp_path, capture_output=True, text=True, timeout=30,
        env={"PATH": os.environ["PATH"], "GEMINI_API_KEY": vertex.api_key},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert answer_text(done.stdout) == REPLY
    curl_request = vertex.last_request()
    assert curl_request.headers["x-goog-api-key"] == vertex.api_key
    assert (curl_request.path, curl_request.query) == (app_request.path, app_request.query)
    assert curl_request.body == camel_case(sent)
