"""Saved analysis modes: each user's own modes (a built-in mode's kind with their prompt), kept
in the store's database beside saved prompts, so that every instance shows the same ones.

Before the shared stores they were a JSON file in each data folder, `chapter_modes.json`: the
store imports it once, when it opens on that data folder, and renames it `…json.imported`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
from pathlib import Path

from reelscope.chapters.modes import BUILTIN_MODES, Kind, Mode, ModeError
from reelscope.database import SharedDatabase
from reelscope.owners import NotYours
from reelscope.tasks import LOCAL_OWNER

MODES_FILENAME = "chapter_modes.json"  # where a data folder kept its modes before the database
IMPORTED_SUFFIX = ".imported"


class ModeStore:
    """The built-in modes and the users' own (the `modes` table); each user sees their own,
    and only its owner replaces or deletes a mode. Thread-safe: one transaction per change."""

    def __init__(self, db: SharedDatabase) -> None:
        self._db = db

    def all(self, owner: str = LOCAL_OWNER) -> list[Mode]:
        """Built-in modes first, then `owner`'s, by name."""
        rows = self._db.fetchall(
            # lower(): case-blind order on both dialects.
            "SELECT * FROM modes WHERE owner = :owner ORDER BY lower(name), name",
            {"owner": owner},
        )
        return [*BUILTIN_MODES, *filter(None, map(_mode, rows))]

    def get(self, mode_id: str) -> Mode | None:
        """A built-in or saved mode by id, whoever saved it (a kept run names its mode)."""
        builtin = next((m for m in BUILTIN_MODES if m.id == mode_id), None)
        if builtin is not None:
            return builtin
        row = self._db.fetchone("SELECT * FROM modes WHERE id = :id", {"id": mode_id})
        return _mode(row) if row else None

    def save(self, name: str, kind: Kind, prompt: str, *, owner: str = LOCAL_OWNER) -> Mode:
        """Keep a mode of `owner`'s under `name` (replacing their own mode of that name)."""
        name, prompt = name.strip(), prompt.strip()
        if not name:
            raise ModeError("Give your mode a name.")
        if not prompt:
            raise ModeError("Write the mode's prompt first.")
        if any(m.name.lower() == name.lower() for m in BUILTIN_MODES):
            raise ModeError(f"'{name}' is a built-in mode's name: pick another name.")
        mode = Mode(mode_id(name, owner), name, kind, prompt, owner)
        with self._db.transaction() as tx:
            saved = tx.execute(
                "INSERT INTO modes (id, owner, name, kind, prompt, saved_at) "
                "VALUES (:id, :owner, :name, :kind, :prompt, :now) "
                "ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, "
                "prompt = excluded.prompt, saved_at = excluded.saved_at "
                "WHERE modes.owner = excluded.owner",
                {**_params(mode), "now": _now()},
            ).rowcount
        if not saved:  # the id is another owner's mode (their ids differ, so only by a fluke)
            raise NotYours(f"The mode “{name}”", "Save it under another name.")
        return mode

    def delete(self, mode_id: str, *, owner: str) -> bool:
        """Delete `owner`'s mode; False when it is gone already, NotYours (kept) when it is
        someone else's."""
        with self._db.transaction() as tx:
            deleted = tx.execute(
                "DELETE FROM modes WHERE id = :id AND owner = :owner",
                {"id": mode_id, "owner": owner},
            ).rowcount
            if deleted:
                return True
            row = tx.execute("SELECT name FROM modes WHERE id = :id", {"id": mode_id}).fetchone()
        if row is not None:
            raise NotYours(f"The mode “{row[0]}”", "Save a copy as your own mode.")
        return False

    def import_file(self, path: Path) -> int:
        """Keep the modes of a data folder's old JSON file, then rename it `…imported` (kept, and
        never read again); a mode whose id the database has already is left as the database has
        it. How many were new; 0 when there is no file, or it cannot be read now (left as it is,
        tried at the next open)."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            return 0
        modes = _modes_of_file(text)
        now = _now()
        with self._db.transaction() as tx:
            imported = sum(
                tx.execute(
                    "INSERT INTO modes (id, owner, name, kind, prompt, saved_at) "
                    "VALUES (:id, :owner, :name, :kind, :prompt, :now) "
                    "ON CONFLICT (id) DO NOTHING",
                    {**_params(mode), "now": now},
                ).rowcount
                for mode in modes
            )
        with contextlib.suppress(OSError):  # a folder we cannot write: imported again next time
            path.rename(_free_name(path.with_name(path.name + IMPORTED_SUFFIX)))
        return imported


def mode_id(name: str, owner: str) -> str:
    """`user:<slug>` for the local user (as before owners); with a short hash of any other
    owner in it, so two users' modes of the same name are two modes."""
    if owner == LOCAL_OWNER:
        return f"user:{_slug(name)}"
    return f"user:{hashlib.sha256(owner.encode()).hexdigest()[:10]}:{_slug(name)}"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "mode"


def _mode(row) -> Mode | None:
    row = row._mapping
    try:
        kind = Kind(row["kind"])
    except ValueError:  # a kind a newer Reelscope on the same database knows: not offered here
        return None
    return Mode(row["id"], row["name"], kind, row["prompt"], row["owner"])


def _params(mode: Mode) -> dict[str, str]:
    return {
        "id": mode.id,
        "owner": mode.owner,
        "name": mode.name,
        "kind": str(mode.kind),
        "prompt": mode.prompt,
    }


def _modes_of_file(text: str) -> list[Mode]:
    """The modes an old `chapter_modes.json` holds, as far as it can be read: an entry that
    cannot (hand-edited) is skipped, as the file store skipped it."""
    try:
        records = json.loads(text)
    except json.JSONDecodeError:
        return []
    modes = []
    for record in records if isinstance(records, list) else []:
        try:
            # Modes from before owners were the one local user's.
            owner = str(record.get("owner") or LOCAL_OWNER)
            mode = Mode(record["id"], record["name"], Kind(record["kind"]), record["prompt"], owner)
        except (AttributeError, KeyError, TypeError, ValueError):
            continue
        texts = (mode.id, mode.name, mode.prompt)
        if all(isinstance(t, str) and t.strip() for t in texts) and not mode.builtin:
            modes.append(mode)
    return modes


def _free_name(path: Path) -> Path:
    """`path`, or beside it with a time stamp when a file of that name is there already."""
    if not path.exists():
        return path
    return path.with_name(f"{path.name}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%fZ}")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()
