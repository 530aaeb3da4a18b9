"""Two kept runs side by side: a word-level diff of their answers and what differs in the ask.

The answers are untrusted model text: the diff is Markdown with no raw HTML, its words written
through `untrusted.literal` (every punctuation character escaped) before they are marked as
removed (`:red-background[~~…~~]`) or added (`:green-background[…]`), so no word can close
that mark, open one of its own, or show an image.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence

import streamlit as st

from components.common import run_view
from reelscope.costs import format_usd
from reelscope.runs import RunSpec
from reelscope.store import StoredRun
from reelscope.untrusted import literal, safe_inline

NOT_SET = "not set"  # a parameter left to the model's default
NO_TEXT = "_(no text)_"


def word_diff(left: str, right: str) -> list[tuple[str, str]]:
    """(op, text) pieces: op is "same", "removed" (only left) or "added" (only right)."""
    a, b = left.split(), right.split()
    pieces: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(("same", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(("removed", " ".join(a[i1:i2])))
        if j2 > j1:
            pieces.append(("added", " ".join(b[j1:j2])))
    return pieces


def spec_differences(left: RunSpec, right: RunSpec) -> list[tuple[str, str, str]]:
    """(parameter, left value, right value) for everything asked differently."""
    a, b = _flat(left), _flat(right)
    return [
        (name, a.get(name, "–"), b.get(name, "–")) for name in a | b if a.get(name) != b.get(name)
    ]


def differences_markdown(left: RunSpec, right: RunSpec) -> str:
    rows = spec_differences(left, right)
    if not rows:
        return "Both runs asked the same thing."
    lines = ["| parameter | run 1 | run 2 |", "| --- | --- | --- |"]
    lines += [f"| {n} | {_cell(a)} | {_cell(b)} |" for n, a, b in rows]
    return "\n".join(lines)


def show(key: str, runs: Sequence[StoredRun]) -> None:
    """Parameter differences, then the two answers in columns with removed/added words marked."""
    left, right = runs[0], runs[1]
    rows = spec_differences(left.spec, right.spec)
    st.markdown("**What differs in the ask**")
    if rows:
        st.dataframe(
            {"Parameter": [r[0] for r in rows], "Run 1": [r[1] for r in rows],
             "Run 2": [r[2] for r in rows]},
            hide_index=True, width="stretch", key=f"{key}.params", placeholder="–",
        )  # fmt: skip
    else:
        st.caption("Same prompt, model and parameters.")
    left_state, right_state = left.state(), right.state()
    pieces = word_diff(left_state.text, right_state.text)
    columns = st.columns(2, gap="medium")
    for column, run, state, hide, number in (
        (columns[0], left, left_state, "added", 1),
        (columns[1], right, right_state, "removed", 2),
    ):
        with column, st.container(border=True, key=f"{key}.run{number}"):
            st.markdown(
                f"**Run {number}** · {safe_inline(run.model_id)} · "
                f"{run.started_at:%Y-%m-%d %H:%M} UTC"
            )
            st.markdown(diff_markdown(pieces, hide))
            run_view.show_outcome(state, run.spec.params.max_output_tokens)
            if run.cost_usd is not None:
                st.caption(f"Cost {format_usd(run.cost_usd)}")


def diff_markdown(pieces: list[tuple[str, str]], hide: str) -> str:
    """One side of the diff as Markdown: the `hide` pieces left out, the others marked."""
    marked = []
    for op, text in pieces:
        if op == hide:
            continue
        words = literal(text)
        if op == "removed":
            marked.append(f":red-background[~~{words}~~]")
        elif op == "added":
            marked.append(f":green-background[{words}]")
        else:
            marked.append(words)
    return " ".join(marked) or NO_TEXT


def _flat(spec: RunSpec) -> dict[str, str]:
    record = spec.to_record()
    flat = {"model": spec.model_id, "prompt": spec.prompt, "stream": str(spec.stream)}
    for name, value in record["params"].items():
        if isinstance(value, dict):
            flat |= {f"{name}.{k}": _value(v) for k, v in value.items()}
        else:
            flat[name] = _value(value)
    for index, source in enumerate(spec.sources):
        where = source.uri or (f"sha256 {source.sha256}" if source.sha256 else "upload")
        flat[f"source {index + 1}"] = f"{source.label} ({where})"
    return flat


def _value(value: object) -> str:
    if value is None:
        return NOT_SET
    return json.dumps(value) if isinstance(value, list) else str(value)


def _cell(value: str) -> str:
    return " ".join(value.split()).replace("|", "\\|")[:200]
