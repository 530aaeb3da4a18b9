"""A kept run (or a comparison of two) as a JSON file to import elsewhere, or as Markdown.

The JSON is the run's record (`StoredRun.to_record()`: spec, every event with its time, status,
cost) in an envelope naming its format and version, so an import can refuse what it cannot
read and say why. Imported runs are kept like any other, marked `origin = "imported"`; a run
that is still here but deleted (its delete not yet final) is brought back as it was kept.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from reelscope.costs import format_usd
from reelscope.generation.events import from_record
from reelscope.store.runs import RunRepo, StoredRun, spec_from_record

RUN_FORMAT = "reelscope.run"
COMPARISON_FORMAT = "reelscope.comparison"
FORMAT_VERSION = 1
MAX_IMPORT_BYTES = 50_000_000


class ImportRefused(ValueError):
    """The file is not a run this Reelscope can read; the message says what to do."""


@dataclass(frozen=True)
class ImportResult:
    kept: list[StoredRun] = field(default_factory=list)  # new here, marked imported
    restored: list[StoredRun] = field(default_factory=list)  # were deleted here: back again
    present: list[str] = field(default_factory=list)  # ids already listed, left as they are

    def summary(self) -> str:
        """One line for the user: what the import did."""
        parts = []
        if self.kept:
            parts.append(f"Imported {_runs(len(self.kept))}, marked imported in the table.")
        if self.restored:
            parts.append(f"Brought back {_runs(len(self.restored))} you had deleted.")
        if self.present:
            parts.append(f"{_runs(len(self.present)).capitalize()} already in your history.")
        return " ".join(parts)


def export_json(run: StoredRun, app_version: str) -> str:
    return _dump({"format": RUN_FORMAT, **_envelope(app_version), "run": run.to_record()})


def export_comparison_json(runs: Sequence[StoredRun], app_version: str) -> str:
    records = [run.to_record() for run in runs]
    return _dump({"format": COMPARISON_FORMAT, **_envelope(app_version), "runs": records})


def export_markdown(run: StoredRun) -> str:
    return "\n".join(_markdown_lines(run, level=1)) + "\n"


def export_comparison_markdown(runs: Sequence[StoredRun], params_table: str = "") -> str:
    lines = [f"# Comparison of {len(runs)} runs", ""]
    if params_table:
        lines += ["## Parameter differences", "", params_table, ""]
    for number, run in enumerate(runs, start=1):
        lines += [*_markdown_lines(run, level=2, title=f"Run {number}"), ""]
    return "\n".join(lines)


def import_json(repo: RunRepo, text: str | bytes, app_version: str, *, owner: str) -> ImportResult:
    """Keep the run(s) of an exported file as `owner`'s, marked imported; ImportRefused says
    why not.

    A run already here is not imported twice: if it was the owner's and deleted (undoable
    until its page is left), it is restored; otherwise it is left as it is.
    """
    if len(text) > MAX_IMPORT_BYTES:
        raise ImportRefused("That file is too large to be an exported run (50 MB at most).")
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ImportRefused(f"That file is not JSON ({exc}). Export a run as JSON first.") from exc
    if not isinstance(document, dict) or document.get("format") not in (
        RUN_FORMAT,
        COMPARISON_FORMAT,
    ):
        raise ImportRefused(
            "That JSON is not a Reelscope run: use a file from History's 'Download JSON'."
        )
    if int(document.get("version", 0)) > FORMAT_VERSION:
        raise ImportRefused(
            "That file comes from a newer Reelscope: upgrade this one to import it."
        )
    records = [document.get("run")] if document["format"] == RUN_FORMAT else document.get("runs")
    runs = [_stored(record) for record in records or []]
    if not runs:
        raise ImportRefused("That file holds no run.")
    result = ImportResult()
    for run in runs:
        existing = repo.get(run.id)
        if existing is None:
            repo.record_whole(run, run.app_version or app_version, "imported", owner)
            result.kept.append(_found(repo, run.id))
        elif existing.deleted and repo.restore([run.id], owner=owner):
            result.restored.append(_found(repo, run.id))
        else:
            result.present.append(run.id)
    if not result.kept and not result.restored:
        which = "That run is" if len(runs) == 1 else "Every run in that file is"
        raise ImportRefused(f"{which} already in your history: nothing was imported.")
    return result


def _found(repo: RunRepo, run_id: str) -> StoredRun:
    found = repo.get(run_id)
    assert found is not None, run_id
    return found


def _runs(count: int) -> str:
    return f"{count} run" + ("" if count == 1 else "s")


def _stored(record: Any) -> StoredRun:
    try:
        return StoredRun(
            id=str(record["id"]),
            started_at=_aware(dt.datetime.fromisoformat(record["started_at"])),
            spec=spec_from_record(record["spec"]),
            events=[from_record(event) for event in record["events"]],
            status=str(record.get("status", "")),
            app_version=str(record.get("app_version") or ""),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ImportRefused(f"That run is damaged and cannot be imported ({exc}).") from exc


def _markdown_lines(run: StoredRun, level: int, title: str | None = None) -> list[str]:
    state = run.state()
    heading = "#" * level
    spec = run.spec
    usage = state.usage
    lines = [
        f"{heading} {title or 'Reelscope run'} · {spec.model_id}",
        "",
        f"- Date: {run.started_at:%Y-%m-%d %H:%M:%S} UTC",
        f"- Model: `{spec.model_id}`",
        f"- Status: {run.status}" + (f" ({run.finish_reason})" if run.finish_reason else ""),
        f"- Time to first token: {_seconds(state.time_to_first_token)}",
        f"- Tokens: prompt {_count(usage and usage.prompt_tokens)}, "
        f"output {_count(usage and usage.output_tokens)}, "
        f"thinking {_count(usage and usage.thinking_tokens)}",
        f"- Cost: {format_usd(run.cost_usd)}",
        f"- Run id: `{run.id}` (Reelscope {run.app_version or 'unknown'})",
        "",
        f"{heading}# Parameters",
        "",
        "| parameter | value |",
        "| --- | --- |",
    ]
    for name, value in spec.to_record()["params"].items():
        if value not in (None, {}, []):
            lines.append(f"| {name} | `{json.dumps(value)}` |")
    if spec.sources:
        lines += ["", f"{heading}# Sources", ""]
        for source in spec.sources:
            where = source.uri or f"sha256 {source.sha256}"
            lines.append(f"- {source.label} ({source.mime_type}): {where}")
    lines += ["", f"{heading}# Prompt", "", *_quote(spec.prompt), "", f"{heading}# Answer", ""]
    for index in state.candidates:
        if len(state.candidates) > 1:
            lines += [f"**Response {index + 1}**", ""]
        lines += [state.texts.get(index, "") or "_(no text)_", ""]
    if state.error is not None:
        lines += [f"> Error: {state.error.message}", ""]
    return lines


def _quote(text: str) -> list[str]:
    return [f"> {line}" if line else ">" for line in (text or "(no prompt)").splitlines()]


def _envelope(app_version: str) -> dict[str, Any]:
    return {
        "version": FORMAT_VERSION,
        "exported_at": dt.datetime.now(dt.UTC).isoformat(),
        "app_version": app_version,
    }


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _seconds(value: float | None) -> str:
    return f"{value:.2f} s" if value is not None else "–"


def _count(value: int | None) -> str:
    return f"{value:,}" if value is not None else "–"
