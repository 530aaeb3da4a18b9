"""Kept runs: written as they stream (recorder.py), searched and read back by the History page.

A run's row holds its spec and a summary for the table (status, usage, cost, finish reason),
filled when it ends; its events are kept in order, each with its time, in batches: one row per
write of the recorder (a JSON array of event records). Sources are
recorded by content hash (attachments, the bytes stay out of the database) or by URI. Reads go
to the database every time: a run written by another session's worker shows at once.

A live run's row also names the instance that streams it, with the heartbeat that instance
keeps fresh (liveness.py) and any stop request another instance wrote for it; one whose
heartbeat went stale is closed as interrupted by whoever finds it (reelscope/instance.py).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from reelscope.catalog import Price
from reelscope.costs import BATCH_TIER, batch_price, usage_cost
from reelscope.database import SQLITE, Session, SharedDatabase
from reelscope.generation.events import Event, TextDelta, Thought, from_record, to_record
from reelscope.generation.state import RunState
from reelscope.instance import STALE_AFTER_S
from reelscope.parameters import GenerationParams
from reelscope.runs.replay import ended
from reelscope.runs.run import Run, RunSpec, SourceRef, label_of
from reelscope.settings import BACKEND_VERTEX
from reelscope.tasks import LOCAL_OWNER

# "completed": the model said it was done; "incomplete": the stream closed before it said so
# (EndedEarly); "interrupted": the server stopped while the run streamed.
STATUSES = ("running", "completed", "incomplete", "failed", "stopped", "interrupted")
PAGE_SIZE = 50
_TABLE_COLUMNS = (
    "id, started_at, model_id, substr(prompt, 1, 300) AS prompt, status, finish_reason, "
    "cost_usd, prompt_tokens, output_tokens, total_tokens, origin, owner"
)

# A model's price on a backend (settings.BACKENDS): a run is priced where it was answered.
PriceOf = Callable[[str, str], Price | None]


@dataclass(frozen=True)
class RunQuery:
    """The History table's filters; every one is applied in SQL, with a LIMIT."""

    text: str = ""
    models: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    since: dt.date | None = None  # UTC dates, inclusive
    until: dt.date | None = None
    limit: int = PAGE_SIZE
    offset: int = 0
    owner: str | None = None  # one user's runs ("Mine"); None: the whole team's


@dataclass(frozen=True)
class RunRow:
    id: str
    started_at: dt.datetime
    model_id: str
    prompt: str
    status: str
    finish_reason: str | None
    cost_usd: float | None
    prompt_tokens: int | None
    output_tokens: int | None
    total_tokens: int | None
    origin: str
    owner: str = LOCAL_OWNER


@dataclass(frozen=True)
class RunPage:
    rows: list[RunRow]
    total: int  # how many runs match, across every page


@dataclass(frozen=True)
class RemoteRun:
    """A run streaming on another instance, as the Running list shows it."""

    id: str
    started_at: dt.datetime
    model_id: str
    prompt: str
    instance: str
    stop_requested: bool

    @property
    def label(self) -> str:
        return label_of(self.model_id, self.prompt)


@dataclass(frozen=True)
class StoredRun:
    """A kept run as it was: its spec, its events, and the summary written when it ended."""

    id: str
    started_at: dt.datetime
    spec: RunSpec
    events: list[Event]
    status: str
    finish_reason: str | None = None
    cost_usd: float | None = None
    app_version: str = ""
    origin: str = "local"
    owner: str = LOCAL_OWNER
    error: str | None = None
    deleted: bool = False  # hidden by a delete that can still be undone
    extra: dict[str, Any] = field(default_factory=dict)
    instance: str | None = None  # the instance that streamed it (reelscope/instance.py)

    @property
    def model_id(self) -> str:
        return self.spec.model_id

    def shown_events(self) -> list[Event]:
        """The events as a view shows them: a run that is no longer running but has no ending
        (the server stopped while it streamed) ends as interrupted, never live."""
        return self.events if self.status == "running" else ended(self.events)

    def state(self) -> RunState:
        """The state the view showed, folded again from the kept events."""
        return RunState.of(self.shown_events())

    def to_record(self) -> dict[str, Any]:
        """Plain data, the shape of `Run.to_record()` plus what the store knows."""
        return {
            "id": self.id,
            "started_at": self.started_at.isoformat(),
            "spec": self.spec.to_record(),
            "events": [to_record(e) for e in self.events],
            "status": self.status,
            "finish_reason": self.finish_reason,
            "cost_usd": self.cost_usd,
            "app_version": self.app_version,
            "origin": self.origin,
        }


def spec_from_record(record: dict[str, Any]) -> RunSpec:
    """The RunSpec `RunSpec.to_record()` made; ValueError if it is not one."""
    try:
        model_id = record["model_id"]
        if not isinstance(model_id, str) or not model_id.strip():
            raise TypeError("the model id is missing")
        params = dict(record["params"])
        names = {f.name for f in fields(GenerationParams)}
        params = {k: v for k, v in params.items() if k in names}
        params["stop_sequences"] = tuple(params.get("stop_sequences") or ())
        params["safety"] = dict(params.get("safety") or {})
        sources = tuple(_source_from_record(s) for s in record.get("sources") or ())
        return RunSpec(
            model_id=model_id,
            prompt=str(record.get("prompt") or ""),
            params=GenerationParams(**params),
            sources=sources,
            stream=bool(record.get("stream", True)),
            extra=dict(record.get("extra") or {}),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"Not a run spec: {exc}") from exc


_SOURCE_TEXT_FIELDS = ("kind", "mime_type", "label")


def _source_from_record(record: dict[str, Any]) -> SourceRef:
    names = {f.name for f in fields(SourceRef)}
    source = SourceRef(**{k: v for k, v in record.items() if k in names})
    if not all(isinstance(getattr(source, name), str) for name in _SOURCE_TEXT_FIELDS):
        raise TypeError(f"a source's {', '.join(_SOURCE_TEXT_FIELDS)} must be text")
    return source


def backend_of_spec(spec: RunSpec) -> str:
    """The backend that answered a run (runs record it in `extra`); Vertex AI for runs kept
    before they did, when it was the only one."""
    return str(spec.extra.get("backend") or BACKEND_VERTEX)


def status_of(state: RunState) -> str:
    if not state.done:
        return "running"
    if state.error is not None:
        return "failed"
    if state.stopped:
        return "stopped"
    if state.ended_early:
        return "incomplete"
    return "completed"


class RunRepo:
    def __init__(self, db: SharedDatabase, price_of: PriceOf | None = None) -> None:
        self._db = db
        self._price_of = price_of or (lambda _model_id, _backend: None)

    # -- writing (the recorder, import) --

    def insert(
        self,
        tx: Session,
        run_id: str,
        started_at: dt.datetime,
        spec: RunSpec,
        app_version: str,
        origin: str = "local",
        owner: str = LOCAL_OWNER,
        instance: str | None = None,
        ended: tuple[RunState, str] | None = None,
    ) -> None:
        """A new run's row; `instance`: the one streaming it (its first heartbeat is now).

        A run that `ended` (its state and status) before its first write is inserted with its
        summary: one row version instead of two (on PostgreSQL an UPDATE rewrites the row and
        every index entry of it, the trigram ones too).
        """
        row = {"id": run_id, "started_at": _iso(started_at), "model_id": spec.model_id,
               "prompt": spec.prompt, "spec": json.dumps(spec.to_record()), "status": "running",
               "app_version": app_version, "origin": origin, "owner": owner,
               "instance": instance, "heartbeat_at": time.time() if instance else None}  # fmt: skip
        if ended is not None:
            row |= self._summary(
                spec.model_id, *ended, tier=spec.extra.get("tier"), backend=backend_of_spec(spec)
            )
        columns = ", ".join(row)
        tx.execute(f"INSERT INTO runs ({columns}) VALUES (:{columns.replace(', ', ', :')})", row)
        now = _iso(dt.datetime.now(dt.UTC))
        for position, source in enumerate(spec.sources):
            if source.sha256:  # kept once however many runs use it; the bytes stay on disk
                tx.execute(
                    "INSERT INTO attachments (sha256, size, mime_type, label, first_seen) "
                    "VALUES (:sha256, :size, :mime_type, :label, :now) "
                    "ON CONFLICT (sha256) DO NOTHING",
                    {"sha256": source.sha256, "size": source.size,
                     "mime_type": source.mime_type, "label": source.label, "now": now},
                )  # fmt: skip
            tx.execute(
                "INSERT INTO run_sources (run_id, position, kind, label, mime_type, uri, sha256) "
                "VALUES (:run_id, :position, :kind, :label, :mime_type, :uri, :sha256)",
                {"run_id": run_id, "position": position, "kind": source.kind,
                 "label": source.label, "mime_type": source.mime_type, "uri": source.uri,
                 "sha256": source.sha256},
            )  # fmt: skip

    def append_events(
        self, tx: Session, run_id: str, first_seq: int, events: Sequence[Event]
    ) -> None:
        """Events `first_seq`, `first_seq + 1`, … of the run, as one batch row."""
        if events:
            tx.execute(
                "INSERT INTO event_batches (run_id, first_seq, count, events) "
                "VALUES (:run_id, :first_seq, :count, :events)",
                {"run_id": run_id, "first_seq": first_seq, "count": len(events),
                 "events": _DUMPS([_event_record(e) for e in events])},
            )  # fmt: skip

    def summarise(
        self,
        tx: Session,
        run_id: str,
        model_id: str,
        state: RunState,
        status: str,
        backend: str = BACKEND_VERTEX,
    ) -> None:
        """Fill the table's columns from the folded state (when the run ends), its cost at
        `backend`'s price."""
        summary = self._summary(model_id, state, status, backend=backend)
        columns = ", ".join(f"{name} = :{name}" for name in summary)
        tx.execute(f"UPDATE runs SET {columns} WHERE id = :id", {**summary, "id": run_id})

    def _summary(
        self,
        model_id: str,
        state: RunState,
        status: str,
        tier: str | None = None,
        backend: str = BACKEND_VERTEX,
    ) -> dict[str, Any]:
        """The table's columns of an ended run, from its folded state; a run answered by a
        batch job (`tier` "batch") costs the batch price, every run its backend's."""
        usage = state.usage
        price = self._price_of(model_id, backend)
        return {
            "status": status,
            "finish_reason": ", ".join(sorted(set(state.finish_reasons.values()))) or None,
            "output_text": "\n\n".join(state.texts[i] for i in sorted(state.texts)),
            "prompt_tokens": usage.prompt_tokens if usage else None,
            "output_tokens": usage.output_tokens if usage else None,
            "thinking_tokens": usage.thinking_tokens if usage else None,
            "total_tokens": usage.total_tokens if usage else None,
            "cost_usd": usage_cost(
                batch_price(price) if tier == BATCH_TIER else price, usage
            ).total_usd,
            "error": state.error.message if state.error else None,
            "ended_at": state.ended_at,
        }

    def record_whole(
        self, run: Run | StoredRun, app_version: str, origin: str, owner: str | None = None
    ) -> None:
        """Keep a finished run in one transaction (an import, a test's fixture); its owner is
        `owner`, else the run's own."""
        events = run.events() if isinstance(run, Run) else run.events
        state = RunState.of(events)
        status = status_of(state) if state.done else "interrupted"
        owner = owner or run.owner
        with self._db.transaction() as tx:
            self.insert(
                tx, run.id, run.started_at, run.spec, app_version, origin, owner,
                ended=(state, status),
            )  # fmt: skip
            self.append_events(tx, run.id, 0, events)

    def record_many(
        self, runs: Sequence[StoredRun], app_version: str, origin: str, owner: str
    ) -> None:
        """Keep finished runs in one transaction (a batch job's results: thousands at once)."""
        with self._db.transaction() as tx:
            for run in runs:
                state = RunState.of(run.events)
                status = status_of(state) if state.done else "interrupted"
                self.insert(
                    tx, run.id, run.started_at, run.spec, app_version, origin, owner,
                    ended=(state, status),
                )  # fmt: skip
                self.append_events(tx, run.id, 0, run.events)

    def close_interrupted(self) -> int:
        """Every run left 'running' (at the start of the one server using a file: whatever it
        left running died with it), summarised from what was kept."""
        return self._close_running("1 = 1", {})

    def close_stale(self, now: float | None = None) -> int:
        """Runs whose instance stopped heartbeating (it died) marked interrupted by whoever
        finds them: atomically, so that instances finding one at once close it once."""
        cutoff = (time.time() if now is None else now) - STALE_AFTER_S
        stale = "heartbeat_at IS NULL OR heartbeat_at < :cutoff"
        return self._close_running(stale, {"cutoff": cutoff})

    def _close_running(self, which: str, args: dict[str, Any]) -> int:
        # A read first: nearly always nothing is stale, and it takes no write lock.
        found = f"SELECT 1 FROM runs WHERE status = 'running' AND ({which}) LIMIT 1"
        if self._db.fetchone(found, args) is None:
            return 0
        with self._db.transaction() as tx:
            # The UPDATE claims them: an instance closing the same runs at once waits for this
            # transaction, then finds them no longer running.
            claimed = tx.execute(
                f"UPDATE runs SET status = 'interrupted' WHERE status = 'running' AND ({which}) "
                "RETURNING id",
                args,
            ).fetchall()
            for (run_id,) in claimed:
                stored = _load(tx, run_id)
                state = RunState.of(stored.events)
                self.summarise(
                    tx, run_id, stored.model_id, state, "interrupted", backend_of_spec(stored.spec)
                )
        return len(claimed)

    # -- runs across instances (reelscope/instance.py) --

    def heartbeat(self, instance: str, now: float) -> None:
        """The instance's live runs are still streaming (one UPDATE for them all)."""
        with self._db.transaction() as tx:
            tx.execute(
                "UPDATE runs SET heartbeat_at = :now "
                "WHERE status = 'running' AND instance = :instance",
                {"now": now, "instance": instance},
            )

    def stop_requests(self, instance: str) -> list[str]:
        """The instance's live runs someone asked (from any instance) to stop."""
        rows = self._db.fetchall(
            "SELECT id FROM runs WHERE status = 'running' AND instance = :instance "
            "AND stop_requested_at IS NOT NULL",
            {"instance": instance},
        )
        return [row[0] for row in rows]

    def request_stop(self, run_id: str, by: str, now: float | None = None) -> bool:
        """Ask the instance streaming the run to stop it; only its owner may. Whether the run
        was still running (its instance stops it within STOP_POLL_S or so)."""
        with self._db.transaction() as tx:
            return bool(
                tx.execute(
                    "UPDATE runs SET stop_requested_at = coalesce(stop_requested_at, :now), "
                    "stop_requested_by = coalesce(stop_requested_by, :by) "
                    "WHERE id = :id AND owner = :by AND status = 'running'",
                    {"id": run_id, "by": by, "now": time.time() if now is None else now},
                ).rowcount
            )

    def running_elsewhere(
        self, owner: str, instance: str, now: float | None = None
    ) -> list[RemoteRun]:
        """The owner's runs streaming on other instances than `instance`, newest first (stale
        ones are closed first: their instance died)."""
        self.close_stale(now)
        rows = self._db.fetchall(
            "SELECT id, started_at, model_id, substr(prompt, 1, 300) AS prompt, instance, "
            "stop_requested_at FROM runs WHERE status = 'running' AND owner = :owner "
            "AND instance <> :instance AND deleted_at IS NULL ORDER BY started_at DESC",
            {"owner": owner, "instance": instance},
        )
        return [
            RemoteRun(
                id=r.id,
                started_at=dt.datetime.fromisoformat(r.started_at),
                model_id=r.model_id,
                prompt=r.prompt,
                instance=r.instance,
                stop_requested=r.stop_requested_at is not None,
            )
            for r in rows
        ]

    # -- reading (the History page) --

    def search(self, query: RunQuery) -> RunPage:
        self.close_stale()  # a run whose instance died is listed as interrupted, not running
        if query.text.strip():
            self._index_for_search()
        where, args = _where(query, self._db.dialect)
        with self._db.connect() as connection:
            count = connection.execute(f"SELECT count(*) FROM runs WHERE {where}", args)
            total = count.fetchone()[0]
            # rowid: SQLite's own; on PostgreSQL an identity column of that name (migration 0001)
            rows = connection.execute(
                f"SELECT {_TABLE_COLUMNS} FROM runs WHERE {where} "
                "ORDER BY started_at DESC, rowid DESC LIMIT :limit OFFSET :offset",
                {**args, "limit": max(1, query.limit), "offset": max(0, query.offset)},
            ).fetchall()
        return RunPage([_row(r) for r in rows], total)

    def _index_for_search(self) -> None:
        """Put the runs the search index lacks into it (schema.v3): a search sees every run.

        Streams leave indexing to the first search after them: a few runs' worth here, where
        it would have cost every stream on the thread it shares with its recorder. PostgreSQL
        keeps its trigram indexes up to date by itself: nothing to do there.
        """
        if self._db.dialect != SQLITE:
            return
        unindexed = "SELECT 1 FROM runs WHERE search_indexed = 0 LIMIT 1"
        if self._db.fetchone(unindexed) is None:
            return
        with self._db.transaction() as tx:
            tx.execute(
                "INSERT INTO runs_fts(rowid, prompt, output_text) "
                "SELECT rowid, prompt, output_text FROM runs WHERE search_indexed = 0"
            )
            tx.execute("UPDATE runs SET search_indexed = 1 WHERE search_indexed = 0")

    def models(self) -> list[str]:
        rows = self._db.fetchall(
            "SELECT DISTINCT model_id FROM runs WHERE deleted_at IS NULL ORDER BY model_id"
        )
        return [r[0] for r in rows]

    def count(self) -> int:
        return self._db.fetchone("SELECT count(*) FROM runs WHERE deleted_at IS NULL")[0]

    def get(self, run_id: str) -> StoredRun | None:
        with self._db.connect() as connection:
            return _load(connection, run_id)

    def rows(self, ids: Sequence[str]) -> list[RunRow]:
        """The table rows of these runs, deleted or not, in the order given (gone ones left out)."""
        if not ids:
            return []
        names, args = _in_list("id", ids)
        found = self._db.fetchall(f"SELECT {_TABLE_COLUMNS} FROM runs WHERE id IN ({names})", args)
        by_id = {row.id: row for row in map(_row, found)}
        return [by_id[i] for i in ids if i in by_id]

    def event_count(self, run_id: str) -> int:
        found = self._db.fetchone(
            "SELECT coalesce(sum(count), 0) FROM event_batches WHERE run_id = :id", {"id": run_id}
        )
        return found[0]

    def media_references(self) -> dict[str, int]:
        """Media library key ("sha256:<hex>", or a link's URI) -> how many kept runs used it."""
        rows = self._db.fetchall(
            "SELECT CASE WHEN s.sha256 IS NOT NULL THEN 'sha256:' || s.sha256 ELSE s.uri END, "
            "count(DISTINCT s.run_id) FROM run_sources s JOIN runs r ON r.id = s.run_id "
            "WHERE r.deleted_at IS NULL GROUP BY 1"
        )
        return {key: count for key, count in rows if key}

    # -- deleting, with undo: only the owner's runs --

    def delete(self, ids: Iterable[str], *, owner: str) -> Deleted:
        """Hide `owner`'s runs from every list; `restore` brings them back until
        `purge_deleted`. Others' runs are refused and left as they are, as is a run already
        deleted or gone."""
        now = _iso(dt.datetime.now(dt.UTC))
        hidden, refused = [], []
        with self._db.transaction() as tx:
            for run_id in dict.fromkeys(ids):
                done = tx.execute(
                    "UPDATE runs SET deleted_at = :now "
                    "WHERE id = :id AND owner = :owner AND deleted_at IS NULL",
                    {"now": now, "id": run_id, "owner": owner},
                ).rowcount
                if done:
                    hidden.append(run_id)
                elif _owned_by_another(tx, run_id, owner):
                    refused.append(run_id)
        return Deleted(hidden, refused)

    def restore(self, ids: Iterable[str], *, owner: str) -> list[str]:
        """Bring `owner`'s deleted runs back; returns the ids it brought back."""
        with self._db.transaction() as tx:
            return [
                run_id
                for run_id in dict.fromkeys(ids)
                if tx.execute(
                    "UPDATE runs SET deleted_at = NULL "
                    "WHERE id = :id AND owner = :owner AND deleted_at IS NOT NULL",
                    {"id": run_id, "owner": owner},
                ).rowcount
            ]

    def purge_deleted(self, ids: Iterable[str] | None = None, *, owner: str | None = None) -> int:
        """Remove deleted runs for good, their events too: `owner`'s of these `ids`, or (no
        ids: a server start, where nobody can undo any more) every deleted one."""
        with self._db.transaction() as tx:
            if ids is None:
                return tx.execute("DELETE FROM runs WHERE deleted_at IS NOT NULL").rowcount
            if owner is None:
                raise ValueError("Purging chosen runs needs the owner they belong to.")
            return sum(
                tx.execute(
                    "DELETE FROM runs WHERE id = :id AND owner = :owner AND deleted_at IS NOT NULL",
                    {"id": run_id, "owner": owner},
                ).rowcount
                for run_id in ids
            )


@dataclass(frozen=True)
class Deleted:
    """What a delete did: the runs it hid, and the runs it refused (someone else's)."""

    ids: list[str]
    refused: list[str]


def _owned_by_another(tx: Session, run_id: str, owner: str) -> bool:
    row = tx.execute("SELECT owner FROM runs WHERE id = :id", {"id": run_id}).fetchone()
    return row is not None and row[0] != owner


def _load(session: Session, run_id: str) -> StoredRun | None:
    row = session.execute("SELECT * FROM runs WHERE id = :id", {"id": run_id}).fetchone()
    batches = session.execute(
        "SELECT events FROM event_batches WHERE run_id = :id ORDER BY first_seq", {"id": run_id}
    ).fetchall()
    if row is None:
        return None
    row = row._mapping
    events = [from_record(record) for (batch,) in batches for record in json.loads(batch)]
    return StoredRun(
        id=row["id"],
        started_at=dt.datetime.fromisoformat(row["started_at"]),
        spec=spec_from_record(json.loads(row["spec"])),
        events=events,
        status=row["status"],
        finish_reason=row["finish_reason"],
        cost_usd=row["cost_usd"],
        app_version=row["app_version"],
        origin=row["origin"],
        owner=row["owner"],
        error=row["error"],
        deleted=row["deleted_at"] is not None,
        instance=row["instance"],
    )


def _event_record(event: Event) -> dict[str, Any]:
    """`to_record`; text chunks (nearly every event) without asdict's deep copy."""
    if type(event) in (TextDelta, Thought):
        return {
            "kind": event.kind,
            "at": event.at,
            "text": event.text,
            "candidate": event.candidate,
        }
    return to_record(event)


_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _in_list(prefix: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """`:prefix0, :prefix1, …` and their values, for an `IN (…)` both dialects read."""
    args = {f"{prefix}{i}": value for i, value in enumerate(values)}
    return ", ".join(f":{name}" for name in args), args


def _where(query: RunQuery, dialect: str) -> tuple[str, dict[str, Any]]:
    clauses, args = ["deleted_at IS NULL"], {}
    if query.owner is not None:
        clauses.append("owner = :owner")
        args["owner"] = query.owner
    if query.models:
        names, values = _in_list("model", query.models)
        clauses.append(f"model_id IN ({names})")
        args.update(values)
    if query.statuses:
        names, values = _in_list("status", query.statuses)
        clauses.append(f"status IN ({names})")
        args.update(values)
    if query.since:
        clauses.append("started_at >= :since")
        args["since"] = query.since.isoformat()
    if query.until:
        clauses.append("started_at < :until")
        args["until"] = (query.until + dt.timedelta(days=1)).isoformat()
    clause, text_args = _text_search(query.text.split(), dialect)
    if clause:
        clauses.append(clause)
        args.update(text_args)
    return " AND ".join(clauses), args


def _text_search(terms: list[str], dialect: str) -> tuple[str, dict[str, Any]]:
    """Each term anywhere in the prompt or the answer, any case: the one place search differs.

    SQLite: the FTS5 trigram index (schema.v2) for terms of 3 characters or more, each quoted
    (no FTS syntax leaks in); shorter ones scan with LIKE (ASCII case-insensitive in SQLite).
    PostgreSQL: ILIKE, which the pg_trgm GIN indexes (migration 0001) serve for terms of 3 or
    more characters; shorter ones scan there too. Either way the page's LIMIT bounds it.
    """
    if not terms:
        return "", {}
    if dialect == SQLITE and all(len(t) >= 3 for t in terms):
        match = " AND ".join('"' + t.replace('"', '""') + '"' for t in terms)
        return "rowid IN (SELECT rowid FROM runs_fts WHERE runs_fts MATCH :match)", {"match": match}
    like = "ILIKE" if dialect != SQLITE else "LIKE"
    clauses, args = [], {}
    for i, term in enumerate(terms):
        clauses.append(
            f"(prompt {like} :term{i} ESCAPE '\\' OR output_text {like} :term{i} ESCAPE '\\')"
        )
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        args[f"term{i}"] = f"%{escaped}%"
    return " AND ".join(clauses), args


def _row(row: Any) -> RunRow:
    row = row._mapping
    return RunRow(
        id=row["id"],
        started_at=dt.datetime.fromisoformat(row["started_at"]),
        model_id=row["model_id"],
        prompt=row["prompt"],
        status=row["status"],
        finish_reason=row["finish_reason"],
        cost_usd=row["cost_usd"],
        prompt_tokens=row["prompt_tokens"],
        output_tokens=row["output_tokens"],
        total_tokens=row["total_tokens"],
        origin=row["origin"],
        owner=row["owner"],
    )


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")
