"""Get code, offline: the script rebuilds the same SDK objects; the command quotes safely."""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from google.genai import types

from reelscope import codegen
from reelscope.catalog import load_catalog
from reelscope.generation.request import GenerationRequest, build_request
from reelscope.parameters import GenerationParams, defaults_for
from tests.requests import checked

CATALOG = load_catalog()
MODEL = CATALOG.get("gemini-3.5-flash")
VIDEO = b"\x00\x00\x00\x18ftypmp42 not really a video"
IMAGE = b"\x89PNG fake"


def sample_request(prompt: str = "Describe it.", blob: bytes = VIDEO) -> GenerationRequest:
    params = GenerationParams(
        temperature=0.2,
        max_output_tokens=900,
        stop_sequences=("###",),
        thinking_level="HIGH",
        safety={"HARM_CATEGORY_HARASSMENT": "BLOCK_LOW_AND_ABOVE"},
    )
    base = build_request(MODEL, checked(MODEL, []), prompt, params)
    parts = [
        types.Part.from_bytes(data=blob, mime_type="video/mp4"),
        types.Part(
            file_data=types.FileData(file_uri="gs://b/v.mov", mime_type="video/quicktime"),
            video_metadata=types.VideoMetadata(start_offset="1s", end_offset="9.5s", fps=0.5),
        ),
        types.Part.from_bytes(data=IMAGE, mime_type="image/png"),
        *base.contents[0].parts,
    ]
    schema = types.Schema(type=types.Type.ARRAY, items=types.Schema(type=types.Type.STRING))
    config = base.config.model_copy(
        update={"response_mime_type": "application/json", "response_schema": schema}
    )
    return GenerationRequest(MODEL.id, [types.Content(role="user", parts=parts)], config)


def rebuilt(script: str, folder: Path) -> dict[str, object]:
    """`contents` and `config` as the script builds them (run in `folder`, where its files are)."""
    tree = ast.parse(script)
    wanted = [
        node
        for node in tree.body
        if isinstance(node, ast.Assign) and node.targets[0].id in ("contents", "config")
    ]
    namespace: dict[str, object] = {"types": types, "Path": Path}
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        exec(compile(ast.Module(wanted, []), "<script>", "exec"), namespace)
    finally:
        os.chdir(cwd)
    return namespace


def test_script_rebuilds_the_same_contents_and_config(tmp_path):
    request = sample_request()
    script = codegen.python_snippet(request, project="p", location="global")
    (tmp_path / "media-1.mp4").write_bytes(VIDEO)
    (tmp_path / "media-2.png").write_bytes(IMAGE)
    built = rebuilt(script, tmp_path)
    assert built["contents"] == request.contents
    assert built["config"] == request.config
    assert 'genai.Client(vertexai=True, project="p", location="global")' in script
    assert "generate_content_stream(" in script


def test_inline_files_take_the_sources_names_and_cannot_inject_code(tmp_path):
    name = 'evil"\nimport os; os.remove("x")\n.mp4'
    names = {hashlib.sha256(VIDEO).hexdigest(): name}
    script = codegen.python_snippet(request := sample_request(), project="p", location="l",
                                    names=names)  # fmt: skip
    tree = ast.parse(script)
    assert not any(
        isinstance(node, ast.Import) and node.names[0].name == "os" for node in tree.body
    )
    (tmp_path / name).write_bytes(VIDEO)
    (tmp_path / "media-2.png").write_bytes(IMAGE)
    assert rebuilt(script, tmp_path)["contents"] == request.contents


def test_no_project_gives_a_placeholder_and_non_streaming_call():
    script = codegen.python_snippet(
        sample_request(), project=None, location="us-east1", stream=False
    )
    assert f'project="{codegen.PROJECT_PLACEHOLDER}"' in script
    assert "generate_content(" in script and "generate_content_stream" not in script
    ast.parse(script)


def test_body_is_vertex_ais_rest_request():
    body = codegen.request_body(sample_request())
    assert list(body) == ["contents", "safetySettings", "generationConfig"]
    parts = body["contents"][0]["parts"]
    assert parts[0] == {"inlineData": {"data": "AAAAGGZ0eXBtcDQyIG5vdCByZWFsbHkgYSB2aWRlbw==",
                                       "mimeType": "video/mp4"}}  # fmt: skip
    assert parts[1]["fileData"] == {"fileUri": "gs://b/v.mov", "mimeType": "video/quicktime"}
    assert parts[1]["videoMetadata"] == {"startOffset": "1s", "endOffset": "9.5s", "fps": 0.5}
    assert parts[3] == {"text": "Describe it."}
    config = body["generationConfig"]
    assert config["responseSchema"] == {"items": {"type": "STRING"}, "type": "ARRAY"}
    assert config["thinkingConfig"] == {"thinkingLevel": "HIGH"}
    assert (config["temperature"], config["maxOutputTokens"]) == (0.2, 900)
    assert config["stopSequences"] == ["###"]
    assert body["safetySettings"] == [
        {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_LOW_AND_ABOVE"}
    ]


def test_inline_bytes_are_url_safe_base64_as_the_sdk_sends_them():
    blob = b"\xfb\xff\xfe\xfb"  # standard base64 would hold "+" and "/"
    data = codegen.request_body(sample_request(blob=blob))["contents"][0]["parts"][0]
    assert data["inlineData"]["data"] == base64.urlsafe_b64encode(blob).decode()


def test_system_instruction_goes_beside_contents_and_into_the_script(tmp_path):
    params = GenerationParams(system_instruction="Answer in French.\nBe brief.")
    request = build_request(MODEL, checked(MODEL, []), "Describe it.", params)
    body = codegen.request_body(request)
    assert body["systemInstruction"] == {"parts": [{"text": "Answer in French.\nBe brief."}]}
    assert "systemInstruction" not in body["generationConfig"]
    script = codegen.python_snippet(request, project="p", location="global")
    assert "system_instruction=" in script
    assert rebuilt(script, tmp_path)["config"] == request.config


def sent_schema(schema: types.Schema) -> dict:
    request = sample_request()
    config = request.config.model_copy(update={"response_schema": schema})
    return codegen.request_body(replace(request, config=config))["generationConfig"][
        "responseSchema"
    ]


def test_object_schemas_carry_their_property_order_as_the_sdk_sends_it():
    text = types.Schema(type=types.Type.STRING)
    pair = types.Schema(type=types.Type.OBJECT, properties={"when": text, "what": text})
    nested = types.Schema(
        type=types.Type.ARRAY,
        items=types.Schema(type=types.Type.OBJECT, properties={"moment": pair}),
    )
    sent = sent_schema(nested)
    assert "propertyOrdering" not in sent["items"]  # one property: nothing to order
    assert sent["items"]["properties"]["moment"]["propertyOrdering"] == ["when", "what"]
    given = pair.model_copy(update={"property_ordering": ["what", "when"]})
    assert sent_schema(given)["propertyOrdering"] == ["what", "when"]  # the request's own


def test_a_setting_with_no_place_in_the_body_is_refused_not_dropped():
    request = sample_request()
    odd = replace(
        request,
        config=request.config.model_copy(update={"service_tier": types.ServiceTier.STANDARD}),
    )
    with pytest.raises(codegen.UnwritableRequest, match="service_tier"):
        codegen.request_body(odd)


@pytest.mark.parametrize(
    ("location", "stream", "url"),
    [
        ("global", True, "https://aiplatform.googleapis.com/v1beta1/projects/p/locations/global"
         "/publishers/google/models/gemini-3.5-flash:streamGenerateContent?alt=sse"),
        ("europe-west4", False, "https://europe-west4-aiplatform.googleapis.com/v1beta1/projects"
         "/p/locations/europe-west4/publishers/google/models/gemini-3.5-flash:generateContent"),
    ],
)  # fmt: skip
def test_url_follows_location_and_mode(location, stream, url):
    from reelscope.settings import Settings

    endpoint = Settings(project="p", location=location).endpoint
    assert codegen.request_url(endpoint, "p", location, MODEL.id, stream) == url


def test_curl_heredoc_holds_the_body_even_with_eof_in_the_prompt():
    request = sample_request(prompt="first\nEOF\n'quoted' $(whoami) `id`")
    command = codegen.curl_command(
        request, endpoint="https://aiplatform.googleapis.com", project="p", location="global"
    )
    head, _, rest = command.partition("<<'EOF'\n")
    body, _, tail = rest.rpartition("\nEOF")
    assert tail == ""
    assert json.loads(body) == codegen.request_body(request)
    assert "$(gcloud auth print-access-token)" in head


def test_large_inline_media_go_to_a_body_file():
    small, large = sample_request(), sample_request(blob=b"x" * 200_000)
    assert codegen.curl_fits_inline(small)
    assert not codegen.curl_fits_inline(large)
    assert codegen.inline_bytes(large) == 200_000 + len(IMAGE)
    command = codegen.curl_command(
        large, endpoint="https://x", project="p", location="global", body_file="request.json"
    )
    assert command.endswith("--data-binary @request.json") and "EOF" not in command


def test_default_request_without_media_has_no_file_reads():
    request = build_request(MODEL, checked(MODEL, []), "Hello", defaults_for(MODEL))
    script = codegen.python_snippet(request, project="p", location="global")
    assert "Path(" not in script and "Needs" not in script
