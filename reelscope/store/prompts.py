"""Saved prompts: the ready ones the app ships (built-in) and the user's own, with variables."""

from __future__ import annotations

import datetime as dt
import json
import re
import string
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reelscope.database import SharedDatabase
from reelscope.owners import NotYours
from reelscope.tasks import LOCAL_OWNER

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Prompt:
    id: str
    name: str
    text: str
    variables: tuple[str, ...]
    built_in: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    owner: str = LOCAL_OWNER


def parse_variables(text: str) -> tuple[str, ...]:
    """The `{name}` fields of `text`, in order of first use (`{{` and `}}` are literal braces)."""
    names: list[str] = []
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(text) if field]
    except ValueError:  # an unmatched brace: no variables rather than a traceback
        return ()
    for field in fields:
        if _IDENTIFIER.match(field) and field not in names:
            names.append(field)
    return tuple(names)


class PromptRepo:
    def __init__(self, db: SharedDatabase) -> None:
        self._db = db

    def list(self, *, built_in: bool | None = None) -> list[Prompt]:
        """Built-ins first, then the user's, each by name."""
        where, args = "", {}
        if built_in is not None:
            where, args = "WHERE built_in = :built_in", {"built_in": int(built_in)}
        # lower(): case-blind order on both dialects (SQLite's COLLATE NOCASE is its own).
        rows = self._db.fetchall(
            f"SELECT * FROM prompts {where} ORDER BY built_in DESC, lower(name), name", args
        )
        return [_prompt(row) for row in rows]

    def get(self, prompt_id: str) -> Prompt | None:
        row = self._db.fetchone("SELECT * FROM prompts WHERE id = :id", {"id": prompt_id})
        return _prompt(row) if row else None

    def save(
        self,
        name: str,
        text: str,
        *,
        prompt_id: str | None = None,
        variables: Sequence[str] | None = None,
        owner: str = LOCAL_OWNER,
    ) -> Prompt:
        """Insert a user prompt (no `prompt_id`) or update one; ValueError says what is wrong.
        `owner` is who saves: a new prompt is theirs; only its owner updates one (NotYours)."""
        name, text = name.strip(), text.strip()
        if not name:
            raise ValueError("Give the prompt a name.")
        if not text:
            raise ValueError("The prompt is empty: write its text first.")
        names = tuple(variables) if variables is not None else parse_variables(text)
        now = _now()
        with self._db.transaction() as tx:
            if prompt_id is None:
                prompt_id = uuid.uuid4().hex
                tx.execute(
                    "INSERT INTO prompts (id, name, text, variables, built_in, created_at, "
                    "updated_at, owner) VALUES (:id, :name, :text, :variables, 0, :now, :now, "
                    ":owner)",
                    {"id": prompt_id, "name": name, "text": text,
                     "variables": json.dumps(names), "now": now, "owner": owner},
                )  # fmt: skip
            else:
                _refuse_built_in(tx, prompt_id, "changed")
                updated = tx.execute(
                    "UPDATE prompts SET name = :name, text = :text, variables = :variables, "
                    "updated_at = :now WHERE id = :id AND owner = :owner",
                    {"name": name, "text": text, "variables": json.dumps(names), "now": now,
                     "id": prompt_id, "owner": owner},
                ).rowcount  # fmt: skip
                if not updated:
                    _refuse_others(tx, prompt_id, owner)
                    raise ValueError("That prompt no longer exists: save it as a new one.")
        found = self.get(prompt_id)
        assert found is not None
        return found

    def delete(self, prompt_id: str, *, owner: str) -> bool:
        """Delete `owner`'s prompt; False when it is gone already, NotYours when it is someone
        else's (left as it is), ValueError for a ready prompt."""
        with self._db.transaction() as tx:
            _refuse_built_in(tx, prompt_id, "deleted")
            deleted = tx.execute(
                "DELETE FROM prompts WHERE id = :id AND owner = :owner",
                {"id": prompt_id, "owner": owner},
            ).rowcount
            if not deleted:
                _refuse_others(tx, prompt_id, owner)
            return deleted > 0

    def ensure_built_ins(self, items: Iterable[tuple[str, str, str]]) -> None:
        """Upsert the shipped prompts `(id, name, text)`: their text follows the code."""
        now = _now()
        with self._db.transaction() as tx:
            for prompt_id, name, text in items:
                tx.execute(
                    "INSERT INTO prompts (id, name, text, variables, built_in, created_at, "
                    "updated_at) VALUES (:id, :name, :text, :variables, 1, :now, :now) "
                    "ON CONFLICT (id) DO UPDATE SET "
                    "name = excluded.name, text = excluded.text, variables = excluded.variables, "
                    "built_in = 1, updated_at = CASE WHEN prompts.text = excluded.text "
                    "AND prompts.name = excluded.name THEN prompts.updated_at "
                    "ELSE excluded.updated_at END",
                    {
                        "id": prompt_id,
                        "name": name,
                        "text": text,
                        "variables": json.dumps(parse_variables(text)),
                        "now": now,
                    },
                )


def _refuse_built_in(tx, prompt_id: str, done: str) -> None:
    row = tx.execute("SELECT built_in FROM prompts WHERE id = :id", {"id": prompt_id}).fetchone()
    if row and row[0]:
        raise ValueError(f"Ready prompts cannot be {done}: save a copy under another name.")


def _refuse_others(tx, prompt_id: str, owner: str) -> None:
    row = tx.execute("SELECT name, owner FROM prompts WHERE id = :id", {"id": prompt_id}).fetchone()
    if row and row[1] != owner:
        raise NotYours(f"The prompt “{row[0]}”", "Save a copy under another name to change it.")


def _prompt(row) -> Prompt:
    row = row._mapping
    return Prompt(
        id=row["id"],
        name=row["name"],
        text=row["text"],
        variables=tuple(json.loads(row["variables"])),
        built_in=bool(row["built_in"]),
        created_at=dt.datetime.fromisoformat(row["created_at"]),
        updated_at=dt.datetime.fromisoformat(row["updated_at"]),
        owner=row["owner"],
    )


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()
