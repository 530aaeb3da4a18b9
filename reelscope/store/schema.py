"""The store's schema, one migration per version (PRAGMA user_version; reelscope.database).

v1 keeps runs, their events, their sources (attachments by content hash: the bytes stay in the
spool/data folder, never in the database) and saved prompts. v2 adds what the History page needs
to open fast over many runs: indexes for its filters and order, full-text search over prompts
and answers (FTS5), and `deleted_at` so that a delete can be undone. v3 takes work off the thread
a stream shares with its recorder: a run's events are kept in batches, one row per write (a JSON
array of event records, each with its time), so a 200-chunk stream costs a few inserts instead
of 200; and the search index is brought up to date when someone searches, not as runs end.
v4 gives a stream that closed before the model said it was done its own status, "incomplete",
where v3 called it "completed".
"""

from __future__ import annotations

import sqlite3

V1 = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    model_id TEXT NOT NULL,
    prompt TEXT NOT NULL,
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    finish_reason TEXT,
    output_text TEXT NOT NULL DEFAULT '',
    prompt_tokens INTEGER,
    output_tokens INTEGER,
    thinking_tokens INTEGER,
    total_tokens INTEGER,
    cost_usd REAL,
    error TEXT,
    ended_at REAL,
    app_version TEXT NOT NULL,
    origin TEXT NOT NULL DEFAULT 'local'
);
CREATE TABLE events (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE TABLE attachments (
    sha256 TEXT PRIMARY KEY,
    size INTEGER,
    mime_type TEXT NOT NULL,
    label TEXT NOT NULL,
    first_seen TEXT NOT NULL
);
CREATE TABLE run_sources (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    uri TEXT,
    sha256 TEXT REFERENCES attachments(sha256),
    PRIMARY KEY (run_id, position)
) WITHOUT ROWID;
CREATE TABLE prompts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    text TEXT NOT NULL,
    variables TEXT NOT NULL DEFAULT '[]',
    built_in INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
)
"""


def v2(connection: sqlite3.Connection) -> None:
    """Search, filters and undo. A function, as trigger bodies hold `;`."""
    connection.execute("ALTER TABLE runs ADD COLUMN deleted_at TEXT")
    # deleted_at leads or follows in each index so that the table's count, order and model list
    # are read from indexes alone, never from the wide rows (a 10,000-run file is ~100 MB).
    connection.execute("CREATE INDEX runs_listed ON runs(deleted_at, started_at DESC)")
    connection.execute("CREATE INDEX runs_model ON runs(model_id, deleted_at, started_at DESC)")
    connection.execute("CREATE INDEX runs_status ON runs(status, deleted_at, started_at DESC)")
    # Trigram: a search finds any part of a word, as people expect of a search box.
    connection.execute(
        "CREATE VIRTUAL TABLE runs_fts USING fts5(prompt, output_text, content='runs', "
        "content_rowid='rowid', tokenize='trigram')"
    )
    connection.execute(
        "INSERT INTO runs_fts(rowid, prompt, output_text) "
        "SELECT rowid, prompt, output_text FROM runs"
    )
    connection.execute(
        "CREATE TRIGGER runs_fts_insert AFTER INSERT ON runs BEGIN "
        "INSERT INTO runs_fts(rowid, prompt, output_text) "
        "VALUES (new.rowid, new.prompt, new.output_text); END"
    )
    connection.execute(
        "CREATE TRIGGER runs_fts_delete AFTER DELETE ON runs BEGIN "
        "INSERT INTO runs_fts(runs_fts, rowid, prompt, output_text) "
        "VALUES ('delete', old.rowid, old.prompt, old.output_text); END"
    )
    connection.execute(
        "CREATE TRIGGER runs_fts_update AFTER UPDATE OF prompt, output_text ON runs BEGIN "
        "INSERT INTO runs_fts(runs_fts, rowid, prompt, output_text) "
        "VALUES ('delete', old.rowid, old.prompt, old.output_text); "
        "INSERT INTO runs_fts(rowid, prompt, output_text) "
        "VALUES (new.rowid, new.prompt, new.output_text); END"
    )


def v3(connection: sqlite3.Connection) -> None:
    """Events in batches, and a search index brought up to date by searches, not by streams."""
    # Each old event row becomes a batch of one: exact, and the order stays the key's.
    connection.execute(
        "CREATE TABLE event_batches ("
        "run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, "
        "first_seq INTEGER NOT NULL, count INTEGER NOT NULL, events TEXT NOT NULL, "
        "PRIMARY KEY (run_id, first_seq)) WITHOUT ROWID"
    )
    connection.execute(
        "INSERT INTO event_batches (run_id, first_seq, count, events) "
        "SELECT run_id, seq, 1, '[' || data || ']' FROM events"
    )
    connection.execute("DROP TABLE events")
    # Indexing an answer's trigrams took a third of what recording a run cost, on the thread
    # the stream shares. Now a run's row says whether the index holds it (every v2 row does);
    # a search indexes what is missing first (RunRepo.search), and an edit drops it again.
    connection.execute("ALTER TABLE runs ADD COLUMN search_indexed INTEGER NOT NULL DEFAULT 0")
    connection.execute("UPDATE runs SET search_indexed = 1")
    for trigger in ("runs_fts_insert", "runs_fts_delete", "runs_fts_update"):
        connection.execute(f"DROP TRIGGER {trigger}")
    connection.execute(
        "CREATE TRIGGER runs_fts_delete AFTER DELETE ON runs WHEN old.search_indexed BEGIN "
        "INSERT INTO runs_fts(runs_fts, rowid, prompt, output_text) "
        "VALUES ('delete', old.rowid, old.prompt, old.output_text); END"
    )
    connection.execute(
        "CREATE TRIGGER runs_fts_update AFTER UPDATE OF prompt, output_text ON runs "
        "WHEN old.search_indexed BEGIN "
        "INSERT INTO runs_fts(runs_fts, rowid, prompt, output_text) "
        "VALUES ('delete', old.rowid, old.prompt, old.output_text); "
        "UPDATE runs SET search_indexed = 0 WHERE rowid = new.rowid; END"
    )
    connection.execute("CREATE INDEX runs_unindexed ON runs(search_indexed)")


def v4(connection: sqlite3.Connection) -> None:
    """'incomplete' for kept runs whose stream ended early (an EndedEarly event), not
    'completed': the status is what History filters on, so the kept rows are rewritten."""
    connection.execute(
        "UPDATE runs SET status = 'incomplete' WHERE status = 'completed' AND EXISTS ("
        "SELECT 1 FROM event_batches AS batch, json_each(batch.events) AS event "
        "WHERE batch.run_id = runs.id AND json_extract(event.value, '$.kind') = 'ended_early')"
    )


MIGRATIONS = (V1, v2, v3, v4)
