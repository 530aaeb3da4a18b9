"""The one way to open a store's database: SQLite in the data folder, or a shared PostgreSQL.

`SharedDatabase` (the run history) is an SQLAlchemy Engine for a URL: the SQLite file in the data
folder by default, PostgreSQL (psycopg 3) when `REELSCOPE_DATABASE_URL` is set, with the same
store code and the same Alembic migrations (reelscope/migrations/) run when it opens.

`Database` (the media library, embedding collections) is SQLite only. Both use WAL so that
readers never block the run workers that write, and a busy timeout so that concurrent writers
wait rather than fail. `Database` keeps `PRAGMA user_version` as the schema version, moved
forward by an ordered list of migrations, each in its own transaction. A file that is not a
readable database is moved aside (never deleted) and a new one started, and the caller is told.

Connections come from a bounded pool (SQLAlchemy's QueuePool) and go back to it after each use:
Streamlit runs every script run on a new thread, so a connection per thread would grow with
every click for as long as the server runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.util.exc import CommandError as AlembicCommandError
from sqlalchemy import Connection, CursorResult, Engine, Row, TextClause, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import QueuePool

Migration = str | Callable[[sqlite3.Connection], None]
BUSY_TIMEOUT_MS = 10_000
POOL_SIZE = 4  # connections kept open for reuse
POOL_OVERFLOW = 12  # more lent at once when busy, closed when given back


class Database:
    """A database file and its schema. Thread-safe: connections are lent from a bounded pool."""

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
            self.moved_aside = _move_aside(path)
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


def _move_aside(path: Path) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.unreadable-{stamp}")
    path.rename(aside)
    for suffix in ("-wal", "-shm"):
        sidecar = path.with_name(path.name + suffix)
        if sidecar.exists():
            sidecar.rename(aside.with_name(aside.name + suffix))
    return aside


# --- SharedDatabase: one store on SQLite or PostgreSQL, through SQLAlchemy and Alembic ---

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# What a store's caller may catch when its database cannot be opened or used, on either backend.
DATABASE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, SQLAlchemyError)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


class Session:
    """A connection lent for one block: `execute(sql, {name: value})`, SQL with named
    parameters (`:name`) that both dialects accept; `dialect` says which one this is."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect: str = connection.dialect.name

    def execute(
        self, sql: str, params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None
    ) -> CursorResult:
        """One statement; with a list of parameter sets, one executemany for them all."""
        if isinstance(params, Sequence):
            return self.connection.execute(_text(sql), list(params))
        return self.connection.execute(_text(sql), dict(params or {}))


class SharedDatabase:
    """A store's database at `url` with its Alembic migrations (`MIGRATIONS_DIR/<schema>`).

    Thread-safe: connections are lent from the Engine's bounded pool and given back after each
    block. On SQLite a file that is not a readable database is moved aside (never deleted) and a
    new one started; `moved_aside` says where it went.
    """

    def __init__(
        self,
        url: str,
        schema: str,
        *,
        pool_size: int = POOL_SIZE,
        max_overflow: int = POOL_OVERFLOW,
    ) -> None:
        self.url = _with_driver(make_url(url))
        self.dialect: str = self.url.get_backend_name()
        self.schema = schema
        self.moved_aside: Path | None = None
        self._pool_size, self._max_overflow = pool_size, max_overflow
        self.path: Path | None = None
        if self.dialect == SQLITE:
            if not self.url.database or self.url.database == ":memory:":
                raise ValueError("A store's SQLite database must be a file.")
            self.path = Path(self.url.database)
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._engine = self._new_engine()
        try:
            self._migrate()
        except DATABASE_ERRORS:
            if self.path is None or not self.path.exists():
                self.close()
                raise
            self.close()  # not a database we can read: keep it, start a new one
            self.moved_aside = _move_aside(self.path)
            self._engine = self._new_engine()
            self._migrate()

    @property
    def revision(self) -> str | None:
        """The schema's Alembic revision (the newest migration applied)."""
        with self._engine.connect() as connection:
            return MigrationContext.configure(
                connection, opts={"version_table": self.version_table}
            ).get_current_revision()

    @property
    def version_table(self) -> str:
        # One table per store, so that stores can share one PostgreSQL database.
        return f"alembic_version_{self.schema}"

    @contextlib.contextmanager
    def connect(self) -> Iterator[Session]:
        """A connection lent from the pool for the block (reads), and given back after it."""
        with self._engine.connect() as connection:
            yield Session(connection)

    def fetchone(self, sql: str, params: Mapping[str, Any] | None = None) -> Row | None:
        with self.connect() as session:
            return session.execute(sql, params).fetchone()

    def fetchall(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        with self.connect() as session:
            return list(session.execute(sql, params).fetchall())

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction: committed on success, rolled back on error."""
        with self._engine.connect() as connection:
            connection.execution_options(**{_WRITE: True})
            with connection.begin():
                yield Session(connection)

    @property
    def open_connections(self) -> int:
        """Connections the pool holds now, lent or idle (bounded by its size and overflow)."""
        pool = self._engine.pool
        return pool.checkedin() + pool.checkedout()  # type: ignore[attr-defined]

    def close(self) -> None:
        self._engine.dispose()

    def _new_engine(self) -> Engine:
        engine = create_engine(
            self.url,
            poolclass=QueuePool,
            pool_size=self._pool_size,
            max_overflow=self._max_overflow,
            pool_timeout=BUSY_TIMEOUT_MS / 1000,
            pool_pre_ping=self.dialect != SQLITE,  # a server restarts; a file does not
            **_connect_args(self.dialect),
        )
        if self.dialect == SQLITE:
            event.listen(engine, "connect", _sqlite_on_connect)
            event.listen(engine, "begin", _sqlite_begin)
        return engine

    def _migrate(self) -> None:
        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS_DIR / self.schema))
        config.attributes["version_table"] = self.version_table
        with self._engine.connect() as connection:
            if self.dialect == SQLITE:
                connection.exec_driver_sql("PRAGMA quick_check").fetchall()  # a damaged file
                connection.rollback()
            connection.execution_options(**{_WRITE: True})
            with connection.begin():
                if self.dialect == POSTGRESQL:
                    # Instances starting at once migrate one after the other, not together.
                    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
                config.attributes["connection"] = connection
                try:
                    alembic_command.upgrade(config, "head")
                except AlembicCommandError as problem:  # a revision this code does not know
                    raise RuntimeError(
                        f"The {self.schema} database ({self.url.render_as_string()}) has a "
                        f"schema newer than this Reelscope ({problem}). Upgrade Reelscope, or "
                        "point REELSCOPE_DATA_DIR / REELSCOPE_DATABASE_URL elsewhere."
                    ) from problem


_WRITE = "reelscope_write"
_MIGRATION_LOCK = 0x7265656C  # "reel": any constant every Reelscope instance shares


def _with_driver(url: URL) -> URL:
    """psycopg 3 for PostgreSQL, as `postgresql://…` alone means psycopg2 to SQLAlchemy."""
    if url.drivername in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    return url


@functools.lru_cache(maxsize=512)
def _text(sql: str) -> TextClause:
    return text(sql)


def _connect_args(dialect: str) -> dict[str, Any]:
    if dialect == SQLITE:
        return {"connect_args": {"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}}
    if dialect == POSTGRESQL:
        return {"connect_args": {"connect_timeout": 10}}
    return {}


def _sqlite_on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # pysqlite's own transaction handling begins late (at the first write) and never with
    # IMMEDIATE; SQLAlchemy's documented recipe turns it off and emits BEGIN itself (_begin).
    dbapi_connection.isolation_level = None
    for pragma in (
        f"busy_timeout = {BUSY_TIMEOUT_MS}",
        "journal_mode = WAL",
        "synchronous = NORMAL",
        "foreign_keys = ON",
    ):
        dbapi_connection.execute(f"PRAGMA {pragma}")


def _sqlite_begin(connection: Connection) -> None:
    # A write takes the write lock at its start: a read lock upgraded later fails at once with
    # SQLITE_BUSY whatever the busy timeout, where BEGIN IMMEDIATE waits its turn.
    immediate = connection.get_execution_options().get(_WRITE)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
