"""The one way to open a store's database: SQLite in the data folder, or a shared PostgreSQL.

Every store (the run history, the media library's index, the embedding collections' metadata)
is a `SharedDatabase`: an SQLAlchemy Engine for a URL, the store's SQLite file in the data
folder by default, or PostgreSQL (psycopg 3) when `REELSCOPE_DATABASE_URL` is set, with the same
store code and the same Alembic migrations (reelscope/migrations/<store>) run when it opens.

On SQLite: WAL so that readers never block the run workers that write, a busy timeout so that
concurrent writers wait rather than fail, BEGIN IMMEDIATE for writes; a file that is not a
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
from collections.abc import Iterator, Mapping, Sequence
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

BUSY_TIMEOUT_MS = 10_000
POOL_SIZE = 4  # connections kept open for reuse
POOL_OVERFLOW = 12  # more lent at once when busy, closed when given back
SQLITE = "sqlite"
POSTGRESQL = "postgresql"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# What a store's caller may catch when its database cannot be opened or used, on either backend.
DATABASE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, SQLAlchemyError)


def explain(problem: BaseException) -> str:
    """A store that could not be opened or used, as its user reads it: the driver's own first
    line (not SQLAlchemy's wrapper, its SQL or its link) and what to check."""
    cause = getattr(problem, "orig", None) or problem
    said = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    if isinstance(cause, sqlite3.Error | OSError):
        return (
            f"{said}. Check that the data folder (REELSCOPE_DATA_DIR) can be written, then reload."
        )
    if isinstance(problem, SQLAlchemyError):
        return (
            f"{said}. Check REELSCOPE_DATABASE_URL and that its server accepts connections, "
            "then reload."
        )
    return said


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
        if self.path is not None and self.path.exists():
            try:
                self._check_readable()
            except DATABASE_ERRORS:
                self.close()  # not a database we can read: keep it, start a new one
                self.moved_aside = _move_aside(self.path)
                self._engine = self._new_engine()
        # A migration that fails leaves the file as it was (one transaction) and is raised:
        # the file is readable, so it is not moved aside.
        try:
            self._migrate()
        except BaseException:
            self.close()
            raise

    @property
    def revision(self) -> str | None:
        """The schema's Alembic revision (the newest migration applied)."""
        with self._engine.connect() as connection:
            return MigrationContext.configure(
                connection, opts={"version_table": self.version_table}
            ).get_current_revision()

    @property
    def shared(self) -> bool:
        """Whether other servers may use this database at the same time (PostgreSQL), or only
        this one (a SQLite file in its data folder)."""
        return self.dialect != SQLITE

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

    def _check_readable(self) -> None:
        """Raises if the SQLite file is not a database (its connection's PRAGMAs fail first)."""
        with self._engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA quick_check").fetchall()

    def _migrate(self) -> None:
        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS_DIR / self.schema))
        config.attributes["version_table"] = self.version_table
        with self._engine.connect() as connection:
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


def _move_aside(path: Path) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.unreadable-{stamp}")
    path.rename(aside)
    for suffix in ("-wal", "-shm"):
        sidecar = path.with_name(path.name + suffix)
        if sidecar.exists():
            sidecar.rename(aside.with_name(aside.name + suffix))
    return aside
