"""The one way to open a store's SQLite file: WAL, Alembic at open, concurrent writers, a failed
migration that changes nothing, an unreadable file moved aside, never deleted; a database
that cannot be opened explained to its user.

(PostgreSQL, pools on both backends and files from before Alembic: test_shared_database.py.)
"""

from __future__ import annotations

import threading

import pytest
import sqlalchemy

from reelscope.database import DATABASE_ERRORS, SharedDatabase, explain, sqlite_url
from reelscope.store import SCHEMA
from reelscope.store.schema import MIGRATIONS
from tests.legacy_database import UserVersionDatabase

PROMPT = (
    "INSERT INTO prompts (id, name, text, created_at, updated_at) VALUES (:id, 'n', 't', 'a', 'b')"
)


def test_a_new_file_gets_every_migration_in_wal_mode(tmp_path):
    db = SharedDatabase(sqlite_url(tmp_path / "a.sqlite3"), SCHEMA)
    assert db.revision == "0005" and db.dialect == "sqlite"
    assert db.fetchone("PRAGMA journal_mode")[0] == "wal"
    assert db.fetchone("PRAGMA foreign_keys")[0] == 1
    with db.transaction() as tx:
        tx.execute(PROMPT, {"id": "x"})
    assert db.moved_aside is None and db.path == tmp_path / "a.sqlite3"
    db.close()


def test_a_failing_migration_changes_nothing(tmp_path):
    """Alembic runs in the store's one transaction: 0002 adds owner to runs, then to prompts; a
    prompts table that already has one fails the second step, and the first is undone too."""
    path = tmp_path / "a.sqlite3"
    old = UserVersionDatabase(path, MIGRATIONS)
    with old.transaction() as tx:
        tx.execute("ALTER TABLE prompts ADD COLUMN owner TEXT")
    old.close()
    with pytest.raises(sqlalchemy.exc.OperationalError, match="duplicate column"):
        SharedDatabase(sqlite_url(path), SCHEMA)
    check = UserVersionDatabase(path, MIGRATIONS)
    columns = {row[1] for row in check.fetchall("PRAGMA table_info(runs)")}
    tables = {row[0] for row in check.fetchall("SELECT name FROM sqlite_master")}
    assert "owner" not in columns and f"alembic_version_{SCHEMA}" not in tables
    check.close()
    assert not list(tmp_path.glob("*.unreadable-*")), "a failed migration is not a damaged file"


def test_eight_threads_writing_at_once_keep_every_row(tmp_path):
    db = SharedDatabase(sqlite_url(tmp_path / "a.sqlite3"), SCHEMA)

    def write(worker: int) -> None:
        for i in range(100):
            with db.transaction() as tx:
                tx.execute(PROMPT, {"id": f"{worker}-{i}"})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert db.fetchone("SELECT count(*) FROM prompts")[0] == 800
    db.close()


def test_an_unreadable_file_is_moved_aside_never_deleted(tmp_path):
    path = tmp_path / "a.sqlite3"
    path.write_bytes(b"this is not a database " * 100)
    db = SharedDatabase(sqlite_url(path), SCHEMA)
    assert db.moved_aside is not None and db.moved_aside.exists()
    assert db.moved_aside.read_bytes().startswith(b"this is not a database")
    assert db.revision == "0005"
    db.close()


def test_a_store_database_must_be_a_file(tmp_path):
    with pytest.raises(ValueError, match="must be a file"):
        SharedDatabase("sqlite://", SCHEMA)


def test_a_database_that_cannot_be_reached_is_explained_without_sqlalchemy_s_wrapper(tmp_path):
    url = "postgresql+psycopg://reelscope:hunter2@127.0.0.1:1/reelscope"  # nothing listens
    with pytest.raises(DATABASE_ERRORS) as refused:
        SharedDatabase(url, "history")
    said = explain(refused.value)
    assert said.startswith('connection failed: connection to server at "127.0.0.1", port 1')
    assert said.endswith("Check REELSCOPE_DATABASE_URL and that its server accepts connections, "
                         "then reload.")  # fmt: skip
    assert "hunter2" not in said and "sqlalche.me" not in said and "psycopg." not in said


def test_a_data_folder_that_cannot_hold_the_database_is_explained(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.write_text("a file where the data folder should be")
    with pytest.raises((*DATABASE_ERRORS, OSError)) as refused:
        SharedDatabase(sqlite_url(data_dir / "reelscope.db"), "history")
    assert explain(refused.value).endswith(
        "Check that the data folder (REELSCOPE_DATA_DIR) can be written, then reload."
    )
