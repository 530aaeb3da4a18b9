"""Alembic migrations, one script folder per store (README.md here), and what they share."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

from alembic import context


def run_migrations() -> None:
    """Every store's env.py: always online, on the connection the store lends
    (reelscope.database.SharedDatabase._migrate), inside the transaction it opened."""
    config = context.config
    context.configure(
        connection=config.attributes["connection"],
        version_table=config.attributes["version_table"],
        target_metadata=None,
    )
    with context.begin_transaction():
        context.run_migrations()


def finish_user_version_migrations(
    connection: sqlite3.Connection,
    migrations: Sequence[str | Callable[[sqlite3.Connection], None]],
) -> None:
    """On a SQLite file from before Alembic, apply the `PRAGMA user_version` migrations it lacks
    (all of them on a new file), as the store applied them then, so any earlier file is
    upgraded in place and a new one gets exactly the schema they built."""
    current = connection.execute("PRAGMA user_version").fetchone()[0]
    if current > len(migrations):
        raise RuntimeError(f"user_version {current} is newer than this Reelscope knows")
    for migration in migrations[current:]:
        if callable(migration):
            migration(connection)
        else:
            for statement in migration.split(";"):
                if statement.strip():
                    connection.execute(statement)
    connection.execute(f"PRAGMA user_version = {len(migrations)}")
