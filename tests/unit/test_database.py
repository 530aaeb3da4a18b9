"""The one way to open SQLite: WAL, migrations by version, concurrent writers, no silent loss."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from reelscope.database import Database

V1 = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"
V2 = "ALTER TABLE notes ADD COLUMN author TEXT; CREATE INDEX notes_author ON notes(author)"


def test_a_new_file_gets_every_migration_in_wal_mode(tmp_path):
    db = Database(tmp_path / "a.sqlite3", [V1, V2])
    assert db.version == 2
    assert db.fetchone("PRAGMA journal_mode")[0] == "wal"
    with db.transaction() as tx:
        tx.execute("INSERT INTO notes (body, author) VALUES ('x', 'me')")
    assert db.moved_aside is None


def test_an_older_file_is_migrated_and_keeps_its_rows(tmp_path):
    path = tmp_path / "a.sqlite3"
    old = Database(path, [V1])
    with old.transaction() as tx:
        tx.execute("INSERT INTO notes (body) VALUES ('kept')")
    old.close()
    new = Database(path, [V1, V2])
    assert new.version == 2
    assert [tuple(r) for r in new.fetchall("SELECT body, author FROM notes")] == [("kept", None)]


def test_a_failing_migration_changes_nothing(tmp_path):
    path = tmp_path / "a.sqlite3"
    Database(path, [V1]).close()
    with pytest.raises(sqlite3.OperationalError):
        Database(path, [V1, "CREATE TABLE t (a); CREATE TABLE t (a)"])
    again = Database(path, [V1])
    assert again.version == 1
    tables = {r[0] for r in again.fetchall("SELECT name FROM sqlite_master")}
    assert "t" not in tables


def test_eight_threads_writing_at_once_keep_every_row(tmp_path):
    db = Database(tmp_path / "a.sqlite3", [V1])

    def write(worker: int) -> None:
        for i in range(200):
            with db.transaction() as tx:
                tx.execute("INSERT INTO notes (body) VALUES (?)", (f"{worker}-{i}",))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert db.fetchone("SELECT count(*) FROM notes")[0] == 1600


def test_an_unreadable_file_is_moved_aside_never_deleted(tmp_path):
    path = tmp_path / "a.sqlite3"
    path.write_bytes(b"this is not a database " * 100)
    db = Database(path, [V1])
    assert db.moved_aside is not None and db.moved_aside.exists()
    assert db.moved_aside.read_bytes().startswith(b"this is not a database")
    assert db.version == 1


def test_a_file_from_a_newer_version_is_refused_with_a_way_out(tmp_path):
    path = tmp_path / "a.sqlite3"
    Database(path, [V1, V2]).close()
    with pytest.raises(RuntimeError, match="REELSCOPE_DATA_DIR"):
        Database(path, [V1])


def test_connections_are_lent_from_a_bounded_pool_not_kept_per_thread(tmp_path):
    """Streamlit runs each script run on a new thread: 200 threads must not mean 200
    connections held until the process ends."""
    db = Database(tmp_path / "a.sqlite3", [V1], pool_size=2, max_overflow=3)

    def read() -> None:
        db.fetchone("SELECT count(*) FROM notes")

    for _ in range(200):
        thread = threading.Thread(target=read)
        thread.start()
        thread.join()
    assert db.open_connections <= 2
    with db.connect() as first, db.connect() as second:
        assert first is not second
        assert db.open_connections == 2
    db.close()
    assert db.open_connections == 0
