"""The store: every run kept, and saved prompts: SQLite in the data folder, or PostgreSQL.

    store = open_store(settings.data_dir, price_of=..., database_url=settings.database_url)
    Runs(registry, on_start=store.recorder)   # every run kept as it streams
    store.runs.search(RunQuery(text="goal")); store.runs.get(run_id); store.prompts.list()

The database is opened through reelscope.database.SharedDatabase (an SQLAlchemy Engine, the
Alembic migrations in reelscope/migrations/history run at open); on SQLite a file that cannot
be read is moved aside and a new one started (`moved_aside` says where).
"""

from __future__ import annotations

import importlib.metadata
import tomllib
from functools import cache
from pathlib import Path

from reelscope.database import SharedDatabase, sqlite_url
from reelscope.store.prompts import Prompt, PromptRepo, parse_variables
from reelscope.store.recorder import REPLAY_OF, Recorder
from reelscope.store.runs import (
    STATUSES,
    Deleted,
    PriceOf,
    RunPage,
    RunQuery,
    RunRepo,
    RunRow,
    StoredRun,
    spec_from_record,
)

STORE_FILENAME = "reelscope.db"
SCHEMA = "history"  # its migrations: reelscope/migrations/history
_PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

__all__ = [
    "REPLAY_OF",
    "STATUSES",
    "Deleted",
    "Prompt",
    "Recorder",
    "RunPage",
    "RunQuery",
    "RunRow",
    "Store",
    "StoredRun",
    "app_version",
    "open_store",
    "parse_variables",
    "spec_from_record",
]


class Store:
    def __init__(self, url: str, price_of: PriceOf | None = None) -> None:
        self.db = SharedDatabase(url, SCHEMA)
        self.moved_aside: Path | None = self.db.moved_aside
        self.runs = RunRepo(self.db, price_of)
        self.prompts = PromptRepo(self.db)
        self.interrupted = 0
        if not self.db.shared:
            # One server uses the file: what it left running died with it, and the deletes its
            # sessions could still undo went with them. A shared database's running runs and
            # pending deletes may be another live instance's: left to that instance.
            self.interrupted = self.runs.close_interrupted()
            self.runs.purge_deleted()
        self.recorder = Recorder(self.db, self.runs, app_version())

    @property
    def path(self) -> Path | None:
        """The SQLite file; None on PostgreSQL."""
        return self.db.path

    def close(self) -> None:
        self.recorder.close()
        self.db.close()


def open_store(
    data_dir: Path, price_of: PriceOf | None = None, database_url: str | None = None
) -> Store:
    """The store at `database_url` (PostgreSQL, shared) when given, else the data folder's
    SQLite file `<data_dir>/reelscope.db`."""
    return Store(database_url or sqlite_url(Path(data_dir) / STORE_FILENAME), price_of)


@cache
def app_version() -> str:
    """This Reelscope's version: the installed package's, else pyproject.toml's."""
    try:
        return importlib.metadata.version("reelscope")
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        return tomllib.loads(_PYPROJECT.read_text())["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"
