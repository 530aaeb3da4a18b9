"""SQLite in the data folder: one way to open a database, with WAL, a versioned schema, no loss.

Every store (run history, embedding collections) opens its file through `Database`: WAL so that
readers never block the run workers that write; a busy timeout so that concurrent writers wait
rather than fail; `PRAGMA user_version` as the schema version, moved forward by an ordered list
of migrations, each in its own transaction. A file that is not a readable database is moved
aside (never deleted) and a new one started, and the caller is told.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

Migration = str | Callable[[sqlite3.Connection], None]
BUSY_TIMEOUT_MS = 10_000


class Database:
    """A database file and its schema. Thread-safe: each thread gets its own connection."""

    def __init__(self, path: Path, migrations: Sequence[Migration]) -> None:
        self.path = path
        self.moved_aside: Path | None = None  # where an unreadable file went, if one did
        self._migrations = tuple(migrations)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._migrate(self.connection())
        except sqlite3.DatabaseError:
            self.close()
            self.moved_aside = _move_aside(path)
            self._migrate(self.connection())

    @property
    def version(self) -> int:
        return self.connection().execute("PRAGMA user_version").fetchone()[0]

    def connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = _connect(self.path)
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed on success, rolled back on error."""
        connection = self.connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._local = threading.local()

    def _migrate(self, connection: sqlite3.Connection) -> None:
        connection.execute("PRAGMA quick_check").fetchall()  # raises on a damaged file
        current = connection.execute("PRAGMA user_version").fetchone()[0]
        if current > len(self._migrations):
            raise RuntimeError(
                f"{self.path} has schema version {current}, newer than this Reelscope "
                f"({len(self._migrations)}). Upgrade Reelscope, or point REELSCOPE_DATA_DIR "
                "at another folder."
            )
        for version, migration in enumerate(self._migrations[current:], start=current + 1):
            with self.transaction() as tx:
                if callable(migration):
                    migration(tx)
                else:
                    for statement in _statements(migration):
                        tx.execute(statement)
                tx.execute(f"PRAGMA user_version = {version}")


def _connect(path: Path) -> sqlite3.Connection:
    # Autocommit mode: transactions are explicit (Database.transaction), never implicit.
    connection = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    connection.row_factory = sqlite3.Row
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("PRAGMA foreign_keys = ON")
    return connection


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _move_aside(path: Path) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.unreadable-{stamp}")
    path.rename(aside)
    for suffix in ("-wal", "-shm"):
        sidecar = path.with_name(path.name + suffix)
        if sidecar.exists():
            sidecar.rename(aside.with_name(aside.name + suffix))
    return aside
