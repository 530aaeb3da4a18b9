"""The prompt library: ready prompts for video, the user's saved ones, and `{variable}` filling.

Ready prompts follow Google's advice for video (seed 003): the video goes before the text (the
app always puts media parts first, so the prompts speak of "the video above"), and timestamps
are asked for as MM:SS, with questions about a moment written the same way. Saved prompts live
in the store (`reelscope.store`, table `prompts`); the ready ones are written there too, as
built-ins, so a single list serves both.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass

from reelscope.store import Prompt, Store, parse_variables
from reelscope.tasks import LOCAL_OWNER


class PromptError(ValueError):
    """A prompt that cannot be filled or saved; the message says what to do."""


@dataclass(frozen=True)
class ReadyPrompt:
    id: str
    name: str
    text: str

    @property
    def variables(self) -> tuple[str, ...]:
        return parse_variables(self.text)


# What each variable means and what it starts as, for the ready prompts' fields.
VARIABLE_DEFAULTS: dict[str, str] = {
    "language": "English",
    "question": "",
    "count": "5",
}

READY_PROMPTS: tuple[ReadyPrompt, ...] = (
    ReadyPrompt(
        "builtin.describe",
        "Describe the video",
        "Describe the video above in {language}. Start with a two-sentence summary, then go "
        "through it in order: what is shown, who appears, where it takes place and what "
        "happens. Include anything important that people say. Give the time of each part as "
        "MM:SS (minutes:seconds), for example 01:05.",
    ),
    ReadyPrompt(
        "builtin.transcript",
        "What is said (transcript)",
        "Transcribe everything that is said in the video above, in the language it is spoken. "
        "Start each line with the time it is said as MM:SS (minutes:seconds) and the speaker "
        "(Speaker 1, Speaker 2, … unless a name is said or shown). Mark music or other "
        "important sounds in [brackets]. If the speech is not in {language}, add a {language} "
        "translation after each line.",
    ),
    ReadyPrompt(
        "builtin.chapters",
        "Chapters",
        "Split the video above into chapters, in the order they happen. For each chapter give "
        "its start time as MM:SS (minutes:seconds), a short title and a one-sentence summary, "
        "in {language}. Use both what is shown and what is said; a new chapter starts where "
        "the topic or the scene changes.",
    ),
    ReadyPrompt(
        "builtin.key_moments",
        "Key moments",
        "List the {count} most important moments of the video above, in the order they "
        "happen. For each: the time as MM:SS (minutes:seconds), what happens, and why it "
        "matters, in {language}. Use only what the video shows and says.",
    ),
    ReadyPrompt(
        "builtin.qa",
        "Questions and answers",
        "Answer the question below about the video above, in {language}, using only what the "
        "video shows and says. Cite the moments your answer rests on as MM:SS "
        "(minutes:seconds). If the video does not answer it, say so.\n\n"
        "Question: {question}",
    ),
)


def ready_prompt(prompt_id: str) -> ReadyPrompt | None:
    return next((p for p in READY_PROMPTS if p.id == prompt_id), None)


def install_ready(store: Store) -> None:
    """Write the ready prompts into the store as built-ins (their text follows the code)."""
    store.prompts.ensure_built_ins((p.id, p.name, p.text) for p in READY_PROMPTS)


def library(store: Store | None) -> list[Prompt | ReadyPrompt]:
    """Ready prompts first, then the user's saved ones by name; only the ready ones without a
    store (an unreadable database must not take the ready prompts with it)."""
    if store is None:
        return list(READY_PROMPTS)
    return [*READY_PROMPTS, *store.prompts.list(built_in=False)]


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with each `{name}` replaced by its value; `{{` and `}}` become single braces.

    Braces that are not a variable (a JSON example such as `{"time": "MM:SS"}`) stay as written,
    and a prompt without variables is returned unchanged. Raises PromptError naming the
    variables still empty.
    """
    names = parse_variables(text)
    if not names:
        return text
    missing = [name for name in names if not str(values.get(name, "")).strip()]
    if missing:
        raise PromptError(f"Fill in {', '.join('{' + m + '}' for m in missing)} first.")
    out: list[str] = []
    for literal, field, spec, conversion in string.Formatter().parse(text):
        out.append(literal)
        if field is None:
            continue
        if field in names and not spec and not conversion:
            out.append(str(values[field]).strip())
        else:  # not a variable: put it back as written
            out.append("{" + field + (f"!{conversion}" if conversion else "")
                       + (f":{spec}" if spec else "") + "}")  # fmt: skip
    return "".join(out)


def save(
    store: Store,
    name: str,
    text: str,
    prompt_id: str | None = None,
    *,
    owner: str = LOCAL_OWNER,
) -> Prompt:
    """Save (or update) a user prompt; PromptError says what is wrong."""
    try:
        return store.prompts.save(name, text, prompt_id=prompt_id, owner=owner)
    except ValueError as problem:
        raise PromptError(str(problem)) from problem
