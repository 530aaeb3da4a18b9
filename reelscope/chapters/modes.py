"""Analysis modes: each a prompt plus a response schema, one of five kinds of timeline.

A kind fixes the shape of the answer (its JSON array and the fields of each item) and how it is
drawn; a mode is a kind with a prompt. The built-in modes are chapters, key moments, captions,
a table of events and a chart of a quantity over time. A user can edit a mode's prompt and keep
it as their own mode (reelscope/store/modes.py `ModeStore`, in the store's database): each
saved mode has its owner, who alone sees it in the picker and deletes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from google.genai import types

from reelscope.tasks import LOCAL_OWNER


class Kind(StrEnum):
    CHAPTERS = "chapters"
    MOMENTS = "moments"
    CAPTIONS = "captions"
    EVENTS = "events"
    SERIES = "series"


@dataclass(frozen=True)
class Field:
    """One field of an answer item: its JSON name, type and description, and its role.

    Roles: start, end (timestamps), title, summary, speech (text), value (a number).
    """

    name: str
    role: str
    description: str
    required: bool = True

    @property
    def schema_type(self) -> str:
        return "NUMBER" if self.role == "value" else "STRING"


_TS = "timestamp as MM:SS (H:MM:SS from one hour on; MM:SS.sss when sampling above 1 fps)"


@dataclass(frozen=True)
class Shape:
    """The JSON an answer of one kind has: {"<array>": [{fields…}]} plus optional header fields.

    The text fields come last in each item (a string appears in a partial parse only once its
    closing quote arrived), so an item whose last required field is present is complete.
    """

    array: str
    fields: tuple[Field, ...]
    header: tuple[Field, ...] = ()


SHAPES: dict[Kind, Shape] = {
    Kind.CHAPTERS: Shape(
        "chapters",
        (
            Field("start", "start", f"Chapter start, {_TS}"),
            Field("end", "end", f"Chapter end, {_TS}"),
            Field("title", "title", "Short chapter title, at most 8 words"),
            Field("summary", "summary", "One or two sentences on what happens"),
            Field("speech", "speech", "What is said in this chapter (empty if nothing)"),
        ),
    ),
    Kind.MOMENTS: Shape(
        "moments",
        (
            Field("time", "start", f"When the moment happens, {_TS}"),
            Field("title", "title", "The moment, in a few words"),
            Field("why", "summary", "Why it matters, one sentence"),
        ),
    ),
    Kind.CAPTIONS: Shape(
        "captions",
        (
            Field("start", "start", f"Caption start, {_TS}"),
            Field("end", "end", f"Caption end, {_TS}"),
            Field("source", "title", "'speech' for what is said, 'visual' for what is seen"),
            Field("text", "summary", "The words said, or a short description of what is seen"),
        ),
    ),
    Kind.EVENTS: Shape(
        "events",
        (
            Field("start", "start", f"Event start, {_TS}"),
            Field("end", "end", f"Event end, {_TS}"),
            Field("event", "title", "What happens, in a few words"),
            Field("who", "speech", "Who or what is involved"),
            Field("details", "summary", "Details, one sentence"),
        ),
    ),
    Kind.SERIES: Shape(
        "points",
        (
            Field("time", "start", _TS.capitalize()),
            Field("value", "value", "The quantity at that time"),
            Field("note", "title", "What explains the value, a few words"),
        ),
        header=(
            Field("quantity", "quantity", "The name of the quantity measured"),
            Field("unit", "unit", "Its unit, or 'count'"),
        ),
    ),
}


def response_schema(kind: Kind) -> types.Schema:
    """The response schema of a kind: an object holding one array of items, in field order."""
    shape = SHAPES[kind]
    item = _object_schema(shape.fields)
    array = types.Schema(type=types.Type.ARRAY, items=item)
    header = {f.name: _field_schema(f) for f in shape.header}
    return types.Schema(
        type=types.Type.OBJECT,
        properties={**header, shape.array: array},
        required=[*(f.name for f in shape.header), shape.array],
        property_ordering=[*(f.name for f in shape.header), shape.array],
    )


def _object_schema(fields: tuple[Field, ...]) -> types.Schema:
    return types.Schema(
        type=types.Type.OBJECT,
        properties={f.name: _field_schema(f) for f in fields},
        required=[f.name for f in fields if f.required],
        property_ordering=[f.name for f in fields],
    )


def _field_schema(field: Field) -> types.Schema:
    return types.Schema(type=types.Type(field.schema_type), description=field.description)


@dataclass(frozen=True)
class Mode:
    """A prompt plus the schema of its kind. Built-in modes have ids without a 'user:' prefix."""

    id: str
    name: str
    kind: Kind
    prompt: str
    owner: str = LOCAL_OWNER  # who saved it (built-in modes: nobody's in particular)

    @property
    def builtin(self) -> bool:
        return not self.id.startswith("user:")


BUILTIN_MODES: tuple[Mode, ...] = (
    Mode(
        "chapters",
        "Chapters",
        Kind.CHAPTERS,
        "Split this video into chapters a viewer would want to jump to. Cover the whole video "
        "from 00:00 to its end, in order, without overlaps; start a new chapter when the topic "
        "or scene changes. For each chapter give its start and end as MM:SS (H:MM:SS past an "
        "hour), a short title, a one or two sentence summary, and what is said in it.",
    ),
    Mode(
        "moments",
        "Key moments",
        Kind.MOMENTS,
        "List the key moments of this video: the points a viewer would most want to see, in "
        "order. For each, give the time as MM:SS (H:MM:SS past an hour), a few-word title and "
        "why it matters.",
    ),
    Mode(
        "captions",
        "Audio and visual captions",
        Kind.CAPTIONS,
        "Transcribe this video as captions: what is said (source 'speech', the exact words) and "
        "what is seen when nothing is said (source 'visual', a short description). Give each "
        "caption's start and end as MM:SS (H:MM:SS past an hour); keep captions under 8 s.",
    ),
    Mode(
        "events",
        "Table of events",
        Kind.EVENTS,
        "List the events in this video as a table, in order: when each starts and ends (MM:SS, "
        "H:MM:SS past an hour), what happens, who or what is involved, and details.",
    ),
    Mode(
        "people",
        "Chart: people on screen",
        Kind.SERIES,
        "Count the people visible on screen over time. Sample every few seconds across the "
        "whole video and whenever the count changes; give each time as MM:SS (H:MM:SS past an "
        "hour), the count, and a few words on what explains it. quantity: 'people on screen'.",
    ),
    Mode(
        "excitement",
        "Chart: excitement",
        Kind.SERIES,
        "Rate how exciting the video is over time, from 0 (calm) to 10 (peak). Sample every "
        "few seconds across the whole video; give each time as MM:SS (H:MM:SS past an hour), "
        "the rating, and a few words on why. quantity: 'excitement', unit: '0-10'.",
    ),
)


class ModeError(ValueError):
    """A mode that cannot be saved; the message says what to change."""
