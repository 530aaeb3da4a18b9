"""How every store opened its SQLite file before Alembic: `PRAGMA user_version` as the schema
version, moved forward by an ordered list of migrations. Kept here, verbatim, to make files as
an earlier Reelscope left them, which the stores must open and upgrade without losing a row.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from sqlalchemy.pool import QueuePool

from reelscope.database import BUSY_TIMEOUT_MS, POOL_OVERFLOW, POOL_SIZE
from reelscope.database import _move_aside as move_aside

Migration = str | Callable[[sqlite3.Connection], None]


class UserVersionDatabase:
    """A database file and its user_version schema, opened as the stores opened it."""

    def __init__(
        self,
        path: Path,
        migrations: Sequence[Migration],
        *,
        pool_size: int = POOL_SIZE,
        max_overflow: int = POOL_OVERFLOW,
    ) -> None:
        self.path = path
        self.moved_aside: Path | None = None  # where an unreadable file went, if one did
        self._migrations = tuple(migrations)
        self._pool_size, self._max_overflow = pool_size, max_overflow
        path.parent.mkdir(parents=True, exist_ok=True)
        self._pool = self._new_pool()
        try:
            self._migrate()
        except sqlite3.DatabaseError:
            self.close()
            self.moved_aside = move_aside(path)
            self._pool = self._new_pool()
            self._migrate()

    @property
    def version(self) -> int:
        return self.fetchone("PRAGMA user_version")[0]

    @contextlib.contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection lent from the pool for the block, and given back after it."""
        lent = self._pool.connect()
        try:
            yield lent.dbapi_connection
        finally:
            lent.close()

    def fetchone(self, sql: str, args: Sequence[object] = ()) -> sqlite3.Row | None:
        with self.connect() as connection:
            return connection.execute(sql, args).fetchone()

    def fetchall(
        self, sql: str, args: Sequence[object] = (), *, tuples: bool = False
    ) -> list[sqlite3.Row] | list[tuple]:
        """Every row (as plain tuples with `tuples`: ~3x faster to build than sqlite3.Row)."""
        with self.connect() as connection:
            cursor = connection.execute(sql, args)
            if tuples:
                cursor.row_factory = None
            return cursor.fetchall()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed on success, rolled back on error."""
        with self.connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    @property
    def open_connections(self) -> int:
        """Connections the pool holds now, lent or idle (bounded by its size and overflow)."""
        return self._pool.checkedin() + self._pool.checkedout()

    def close(self) -> None:
        self._pool.dispose()

    def _new_pool(self) -> QueuePool:
        return QueuePool(
            lambda: _connect(self.path),
            pool_size=self._pool_size,
            max_overflow=self._max_overflow,
            timeout=BUSY_TIMEOUT_MS / 1000,
        )

    def _migrate(self) -> None:
        with self.connect() as connection:
            self._apply_migrations(connection)

    def _apply_migrations(self, connection: sqlite3.Connection) -> None:
        connection.execute("PRAGMA quick_check").fetchall()  # raises on a damaged file
        current = connection.execute("PRAGMA user_version").fetchone()[0]
        if current > len(self._migrations):
            raise RuntimeError(
                f"{self.path} has schema version {current}, newer than this Reelscope "
                f"({len(self._migrations)}). Upgrade Reelscope, or point REELSCOPE_DATA_DIR "
                "at another folder."
            )
        for version, migration in enumerate(self._migrations[current:], start=current + 1):
            connection.execute("BEGIN IMMEDIATE")
            try:
                if callable(migration):
                    migration(connection)
                else:
                    for statement in _statements(migration):
                        connection.execute(statement)
                connection.execute(f"PRAGMA user_version = {version}")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")


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
