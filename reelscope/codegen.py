"""Get code: the current request as a google-genai Python script and as a curl command.

The curl body is Vertex AI's REST request (GenerateContentRequest) written from the project's
own request, `GenerationRequest`, with public APIs only: google-genai's types are pydantic
models whose aliases are the REST field names, so `model_dump(mode="json", by_alias=True)`
writes each part and setting as the service reads it (bytes as URL-safe base64, as the SDK
sends them). The request's config is split the way the REST body is: GenerationConfig's fields
under `generationConfig`, the request-level ones (system instruction, safety settings, …) beside
`contents`. The SDK writes a few nested keys in snake_case where this writes camelCase; the
service reads both (SDK-NOTES.md). One thing the SDK adds is written here too: the property
order of a response schema's objects. The Python script rebuilds the same `types.Content` /
`types.GenerateContentConfig` objects. Tests prove both against the emulator's request log.
"""

from __future__ import annotations

import enum
import hashlib
import json
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

import pydantic
from google.genai import types

from reelscope.generation.request import GenerationRequest
from reelscope.media import MediaSource
from reelscope.mime import extension_for
from reelscope.settings import BACKEND_GEMINI_API, BACKEND_VERTEX

API_VERSION = "v1beta1"  # google-genai's default for Vertex AI (SDK-NOTES.md); tests check it
# The Gemini Developer API: google-genai's default base URL and version there (_api_client.py).
GEMINI_API_ENDPOINT = "https://generativelanguage.googleapis.com"
GEMINI_API_VERSION = "v1beta"
KEY_VARIABLE = "GEMINI_API_KEY"  # the code reads the key from here: it is never written in it
PROJECT_PLACEHOLDER = "your-project-id"
INLINE_CURL_MAX = 64_000  # a larger body goes to request.json rather than into the command
_WIDTH = 80  # a constructor longer than this is written one argument per line
_INDENT = "    "
# Where a GenerateContentConfig field goes in the REST body: GenerationConfig's own fields under
# generationConfig; these beside contents. Anything else set is refused rather than dropped.
_GENERATION_FIELDS = frozenset(types.GenerationConfig.model_fields)
_REQUEST_FIELDS = frozenset(
    {"system_instruction", "safety_settings", "tools", "tool_config", "labels", "cached_content"}
)


class UnwritableRequest(ValueError):
    """The request holds a setting Get code cannot place in a REST body."""


def check_writable(request: GenerationRequest) -> None:
    """Raise UnwritableRequest if the request's config holds a field with no place in the body."""
    unplaced = sorted(_set_fields(request.config) - _GENERATION_FIELDS - _REQUEST_FIELDS)
    if unplaced:
        raise UnwritableRequest(f"Get code cannot write {', '.join(unplaced)} into a REST body.")


def request_body(request: GenerationRequest) -> dict[str, Any]:
    """Vertex AI's REST body for `request`, as a JSON-ready dict."""
    check_writable(request)
    config = request.config
    set_fields = _set_fields(config)
    body = {"contents": [_wire(content) for content in request.contents]}
    body |= _wire(config, include=set_fields & _REQUEST_FIELDS)
    generation = _wire(config, include=set_fields & _GENERATION_FIELDS)
    if "responseSchema" in generation:
        _order_properties(generation["responseSchema"])
    if generation:
        body["generationConfig"] = generation
    return body


def _order_properties(schema: dict[str, Any]) -> None:
    """Give each object schema of several properties and no `propertyOrdering` one, in the
    order its properties were declared: google-genai adds it so before sending (the model then
    writes the keys in that order), so the body says what the app's request says."""
    if "anyOf" in schema:
        for option in schema["anyOf"]:
            _order_properties(option)
        return  # google-genai orders the options, not the union itself
    properties = schema.get("properties") or {}
    for child in properties.values():
        _order_properties(child)
    for child in (schema.get("items"), schema.get("additionalProperties")):
        if isinstance(child, dict):
            _order_properties(child)
    for child in schema.get("prefixItems") or ():
        _order_properties(child)
    if schema.get("type") == "OBJECT" and len(properties) > 1:
        schema.setdefault("propertyOrdering", list(properties))


def _set_fields(config: types.GenerateContentConfig) -> set[str]:
    return {name for name, value in config if value is not None}


def _wire(model: pydantic.BaseModel, include: set[str] | None = None) -> dict[str, Any]:
    """A google-genai object as REST JSON: camelCase names, enums by name, bytes in base64."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True, include=include)


def request_json(request: GenerationRequest) -> str:
    return json.dumps(request_body(request), indent=2, ensure_ascii=False)


def request_url(
    endpoint: str,
    project: str | None,
    location: str,
    model_id: str,
    stream: bool = True,
    backend: str = BACKEND_VERTEX,
) -> str:
    """The REST URL google-genai posts to (streaming answers as server-sent events)."""
    rpc = "streamGenerateContent?alt=sse" if stream else "generateContent"
    base = endpoint.rstrip("/")
    if backend == BACKEND_GEMINI_API:
        return f"{base}/{GEMINI_API_VERSION}/models/{model_id}:{rpc}"
    project = project or PROJECT_PLACEHOLDER
    return (
        f"{base}/{API_VERSION}/projects/{project}/locations/{location}"
        f"/publishers/google/models/{model_id}:{rpc}"
    )


def curl_command(
    request: GenerationRequest,
    *,
    endpoint: str,
    project: str | None,
    location: str,
    stream: bool = True,
    body_file: str | None = None,
    backend: str = BACKEND_VERTEX,
) -> str:
    """A curl command sending the app's exact body; `body_file` reads it from a file instead.

    On Vertex AI the token comes from `gcloud auth print-access-token`, as in Google's REST
    samples; on the Gemini Developer API the key from the environment, never written out.
    """
    url = request_url(endpoint, project, location, request.model_id, stream, backend)
    credentials = (
        f'  -H "x-goog-api-key: ${KEY_VARIABLE}"'
        if backend == BACKEND_GEMINI_API
        else '  -H "Authorization: Bearer $(gcloud auth print-access-token)"'
    )
    lines = [
        "curl -sS -X POST" + (" -N" if stream else ""),
        credentials,
        '  -H "Content-Type: application/json; charset=utf-8"',
        f"  {shlex.quote(url)}",
    ]
    if body_file is not None:
        lines.append(f"  --data-binary @{shlex.quote(body_file)}")
        return " \\\n".join(lines)
    lines.append("  --data-binary @- <<'EOF'")
    return " \\\n".join(lines) + "\n" + request_json(request) + "\nEOF"


def curl_fits_inline(request: GenerationRequest) -> bool:
    """Whether the body is small enough to paste inside the command (no large inline media).

    Judged from the inline bytes (base64 makes them 4/3 larger), without encoding them.
    """
    return inline_bytes(request) * 4 // 3 <= INLINE_CURL_MAX


def inline_bytes(request: GenerationRequest) -> int:
    """How many media bytes travel inside the request body."""
    parts = [part for content in request.contents for part in content.parts or ()]
    return sum(len(p.inline_data.data or b"") for p in parts if p.inline_data is not None)


def file_names(sources: Sequence[MediaSource]) -> dict[str, str]:
    """Content hash -> file name, so the script reads each inline part from its own file."""
    return {s.sha256: s.label for s in sources if s.sha256 and s.label}


def python_snippet(
    request: GenerationRequest,
    *,
    project: str | None,
    location: str,
    stream: bool = True,
    names: Mapping[str, str] | None = None,
    backend: str = BACKEND_VERTEX,
) -> str:
    """A script that sends `request` with google-genai and prints the answer.

    Inline media are read from files: named by `names` (content hash -> name) where known,
    else `media-1.mp4`, … Everything else is written out as the SDK types the app used.
    """
    renderer = _Renderer(names or {})
    contents = renderer.value(request.contents, 0)
    config = renderer.value(request.config, 0)
    call = "generate_content_stream" if stream else "generate_content"
    on_key = backend == BACKEND_GEMINI_API
    header = [
        "# pip install google-genai",
        f"# Key: export {KEY_VARIABLE}=... (from Google AI Studio)"
        if on_key
        else "# Credentials: gcloud auth application-default login",
        *renderer.file_notes(),
    ]
    imports = ["import os"] if on_key else []
    imports += ["from pathlib import Path"] if renderer.reads_files else []
    imports += [""] if imports else []
    project_text = _text(project or PROJECT_PLACEHOLDER)
    client = (
        f"client = genai.Client(api_key=os.environ[{_text(KEY_VARIABLE)}])"
        if on_key
        else f"client = genai.Client(vertexai=True, project={project_text}, "
        f"location={_text(location)})"
    )
    body = [
        *imports,
        "from google import genai",
        "from google.genai import types",
        "",
        client,
        "",
        f"contents = {contents}",
        f"config = {config}",
        "",
    ]
    if stream:
        body += [
            f"for chunk in client.models.{call}(",
            f"    model={_text(request.model_id)}, contents=contents, config=config",
            "):",
            '    print(chunk.text or "", end="", flush=True)',
            "print()",
        ]
    else:
        body += [
            f"response = client.models.{call}(",
            f"    model={_text(request.model_id)}, contents=contents, config=config",
            ")",
            "print(response.text)",
        ]
    return "\n".join([*header, "", *body]) + "\n"


class _Renderer:
    """Writes SDK objects back as the Python expressions that build them."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self._names = names
        self._files: list[tuple[str, str]] = []  # (file name, what it must hold)

    @property
    def reads_files(self) -> bool:
        return bool(self._files)

    def file_notes(self) -> list[str]:
        # json-quoted: a file name cannot end the comment line and smuggle in code
        return [f"# Needs {_text(n)} next to this script: {what}." for n, what in self._files]

    def value(self, value: Any, depth: int) -> str:
        if isinstance(value, types.Blob) and value.data is not None:
            return self._blob(value, depth)
        if isinstance(value, pydantic.BaseModel):
            return self._model(value, depth)
        if isinstance(value, enum.Enum):
            return self._enum(value)
        if isinstance(value, (list, tuple)):
            return self._call("", "[", "]", [self.value(v, depth + 1) for v in value], depth)
        if isinstance(value, dict):
            items = [f"{self.value(k, 0)}: {self.value(v, depth + 1)}" for k, v in value.items()]
            return self._call("", "{", "}", items, depth)
        if isinstance(value, str):
            return json.dumps(value, ensure_ascii=False)  # a valid Python literal, in "quotes"
        return repr(value)

    def _model(self, model: pydantic.BaseModel, depth: int) -> str:
        args = [
            f"{name}={self.value(getattr(model, name), depth + 1)}"
            for name in type(model).model_fields
            if getattr(model, name) is not None
        ]
        return self._call(f"types.{type(model).__name__}", "(", ")", args, depth)

    def _blob(self, blob: types.Blob, depth: int) -> str:
        digest = hashlib.sha256(blob.data).hexdigest()
        name = self._names.get(digest) or f"media-{len(self._files) + 1}{_extension(blob)}"
        if name not in (n for n, _ in self._files):
            self._files.append((name, f"{blob.mime_type}, {len(blob.data):,} bytes"))
        args = [f"data=Path({_text(name)}).read_bytes()", f"mime_type={_text(blob.mime_type)}"]
        if blob.display_name is not None:
            args.append(f"display_name={_text(blob.display_name)}")
        return self._call("types.Blob", "(", ")", args, depth)

    @staticmethod
    def _enum(value: enum.Enum) -> str:
        cls = type(value)
        if getattr(types, cls.__name__, None) is cls:
            return f"types.{cls.__name__}.{value.name}"
        return repr(value.value)

    @staticmethod
    def _call(head: str, open_: str, close: str, args: list[str], depth: int) -> str:
        flat = f"{head}{open_}{', '.join(args)}{close}"
        if not args or (len(flat) + len(_INDENT) * depth <= _WIDTH and "\n" not in flat):
            return flat
        inner = _INDENT * (depth + 1)
        lines = "".join(f"{inner}{arg},\n" for arg in args)
        return f"{head}{open_}\n{lines}{_INDENT * depth}{close}"


def _text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _extension(blob: types.Blob) -> str:
    return extension_for(blob.mime_type or "") or ".bin"
