"""The store: every run kept, saved prompts and analysis modes: SQLite in the data folder, or
PostgreSQL.

    store = open_store(settings.data_dir, price_of=..., database_url=settings.database_url)
    Runs(registry, on_start=store.recorder)   # every run kept as it streams
    store.runs.search(RunQuery(text="goal")); store.runs.get(run_id); store.prompts.list()
    store.modes.all(owner)

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
from reelscope.instance import INSTANCE_ID
from reelscope.store.labs import LabRepo
from reelscope.store.modes import MODES_FILENAME, ModeStore
from reelscope.store.prompts import Prompt, PromptRepo, parse_variables
from reelscope.store.recorder import REPLAY_OF, Recorder
from reelscope.store.runs import (
    STATUSES,
    Deleted,
    PriceOf,
    RemoteRun,
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
    "ModeStore",
    "Prompt",
    "Recorder",
    "RemoteRun",
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
    def __init__(
        self,
        url: str,
        price_of: PriceOf | None = None,
        instance: str = INSTANCE_ID,
        modes_file: Path | None = None,
    ) -> None:
        """`modes_file`: a data folder's modes from before the database, imported once."""
        self.db = SharedDatabase(url, SCHEMA)
        self.moved_aside: Path | None = self.db.moved_aside
        self.instance = instance  # this process, as the runs it streams name it
        self.runs = RunRepo(self.db, price_of)
        self.prompts = PromptRepo(self.db)
        self.modes = ModeStore(self.db)
        self.labs = LabRepo(self.db)
        if modes_file is not None:
            self.modes.import_file(modes_file)
        if not self.db.shared:
            # One server uses the file: what it left running died with it, and the deletes its
            # sessions could still undo went with them.
            self.interrupted = self.runs.close_interrupted()
            self.runs.purge_deleted()
        else:
            # A shared database's running runs may be another live instance's: only those
            # whose heartbeat stopped are closed; pending deletes are left to their instance.
            self.interrupted = self.runs.close_stale()
        self.recorder = Recorder(self.db, self.runs, app_version(), instance)

    @property
    def path(self) -> Path | None:
        """The SQLite file; None on PostgreSQL."""
        return self.db.path

    def close(self) -> None:
        self.recorder.close()
        self.db.close()


def open_store(
    data_dir: Path,
    price_of: PriceOf | None = None,
    database_url: str | None = None,
    instance: str = INSTANCE_ID,
) -> Store:
    """The store at `database_url` (PostgreSQL, shared) when given, else the data folder's
    SQLite file `<data_dir>/reelscope.db`; `instance`: this process (a test names two). The
    data folder's old `chapter_modes.json`, if any, is imported into it."""
    url = database_url or sqlite_url(Path(data_dir) / STORE_FILENAME)
    return Store(url, price_of, instance, modes_file=Path(data_dir) / MODES_FILENAME)


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
