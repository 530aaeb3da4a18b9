"""Reading a structured answer while it streams: each item as soon as its JSON object is whole.

The text so far is parsed by pydantic_core's JSON parser in partial mode (`allow_partial`), the
same Rust parser pydantic uses, so nothing here parses JSON by hand. In partial mode an
unfinished string is left out and an unfinished object is returned with the fields it has so
far, so an item counts as complete when a later item has begun, or when the document is whole,
or when every required field is in and its last field is a string (a string shows only once its
closing quote arrived; each schema ends its items with a text field for this reason).

A code fence around the JSON (```json … ```) and prose after it are tolerated. A stream cut
mid-way keeps every complete item, and says the answer is incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pydantic_core

from reelscope.chapters.modes import SHAPES, Kind, Shape
from reelscope.chapters.timestamps import TimestampError, parse_timestamp

_TRAILING = "trailing characters"


@dataclass(frozen=True)
class Segment:
    """One item of an answer on the timeline: a chapter, a moment, a caption, an event, a point."""

    start_s: float
    end_s: float | None = None
    title: str = ""
    summary: str = ""
    speech: str = ""
    value: float | None = None


@dataclass(frozen=True)
class Parsed:
    """What the answer says so far. `whole`: the JSON document was complete."""

    kind: Kind
    segments: tuple[Segment, ...] = ()
    header: dict[str, str] = field(default_factory=dict)
    whole: bool = False
    problems: tuple[str, ...] = ()  # items that could not be read, and why

    @property
    def empty(self) -> bool:
        return not self.segments


def parse_answer(text: str, kind: Kind) -> Parsed:
    """The complete items in `text` (the answer so far, or all of it)."""
    shape = SHAPES[kind]
    body = strip_fences(text)
    if not body:
        return Parsed(kind)
    document, whole = _load(body)
    if document is None:
        return Parsed(kind, problems=("The answer is not JSON.",))
    items = _items(document, shape)
    segments, problems = [], []
    for index, item in enumerate(items):
        if not (whole or index < len(items) - 1 or _item_done(item, shape)):
            break  # the last item is still arriving
        try:
            segments.append(_segment(item, shape))
        except (TimestampError, TypeError, ValueError) as problem:
            problems.append(f"Item {index + 1} skipped: {problem}")
    header = {
        f.role: str(document[f.name])
        for f in shape.header
        if isinstance(document, dict) and isinstance(document.get(f.name), str)
    }
    return Parsed(kind, tuple(segments), header, whole, tuple(problems))


def strip_fences(text: str) -> str:
    """The JSON inside `text`: from its first `{` or `[`, up to a closing code fence if any
    (one outside the JSON's strings: a summary may hold a fence of its own)."""
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if not starts:
        return ""
    body = text[min(starts) :]
    closing = _fence_outside_strings(body)
    if closing >= 0:
        body = body[:closing]
    return body.rstrip().rstrip("`")


def _fence_outside_strings(body: str) -> int:
    """Where the first ``` outside a JSON string is, or -1."""
    if "```" not in body:
        return -1
    in_string = escaped = False
    for index, char in enumerate(body):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif body.startswith("```", index):
            return index
    return -1


def _load(body: str) -> tuple[Any, bool]:
    try:
        return pydantic_core.from_json(body), True
    except ValueError as strict:
        whole = _TRAILING in str(strict)  # the JSON ended; prose followed it
    try:
        return pydantic_core.from_json(body, allow_partial=True), whole
    except ValueError:
        return None, False


def _items(document: Any, shape: Shape) -> list[Any]:
    if isinstance(document, list):
        return document
    if not isinstance(document, dict):
        return []
    items = document.get(shape.array)
    if items is None:  # another array name: take the first array there is
        items = next((v for v in document.values() if isinstance(v, list)), [])
    return items if isinstance(items, list) else []


def _item_done(item: Any, shape: Shape) -> bool:
    if not isinstance(item, dict) or not item:
        return False
    required = [f.name for f in shape.fields if f.required]
    last_value = item[next(reversed(item))]
    return all(name in item for name in required) and isinstance(last_value, str)


def _segment(item: Any, shape: Shape) -> Segment:
    if not isinstance(item, dict):
        raise TypeError(f"expected an object, got {str(item)[:40]!r}")
    values: dict[str, Any] = {}
    for spec in shape.fields:
        raw = item.get(spec.name)
        if spec.role in ("start", "end"):
            if raw is None or raw == "":
                if spec.role == "start":
                    raise TimestampError(f"no {spec.name} time")
                continue
            values[f"{spec.role}_s"] = parse_timestamp(raw)
        elif spec.role == "value":
            values["value"] = _number(raw)
        elif raw is not None:
            values[spec.role] = str(raw).strip()
    return Segment(**values)


def _number(raw: Any) -> float | None:
    if raw is None or isinstance(raw, bool):
        return None
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"value {raw!r} is not a number") from None
