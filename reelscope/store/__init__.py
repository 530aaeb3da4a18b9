"""The store: every run kept, and saved prompts, in one SQLite file of the data folder.

    store = open_store(settings.data_dir, price_of=...)
    Runs(registry, on_start=store.recorder)   # every run kept as it streams
    store.runs.search(RunQuery(text="goal")); store.runs.get(run_id); store.prompts.list()

The file is opened through reelscope.database.Database (WAL, busy timeout, versioned schema);
a file that cannot be read is moved aside and a new one started (`moved_aside` says where).
"""

from __future__ import annotations

import importlib.metadata
import tomllib
from functools import cache
from pathlib import Path

from reelscope.database import Database
from reelscope.store.prompts import Prompt, PromptRepo, parse_variables
from reelscope.store.recorder import REPLAY_OF, Recorder
from reelscope.store.runs import (
    STATUSES,
    PriceOf,
    RunPage,
    RunQuery,
    RunRepo,
    RunRow,
    StoredRun,
    spec_from_record,
)
from reelscope.store.schema import MIGRATIONS

STORE_FILENAME = "reelscope.db"
_PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

__all__ = [
    "REPLAY_OF",
    "STATUSES",
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
    def __init__(self, path: Path, price_of: PriceOf | None = None) -> None:
        self.db = Database(path, MIGRATIONS)
        self.moved_aside: Path | None = self.db.moved_aside
        self.runs = RunRepo(self.db, price_of)
        self.prompts = PromptRepo(self.db)
        self.interrupted = self.runs.close_interrupted()  # left running by a stopped server
        self.runs.purge_deleted()  # deletes not undone before the last server stopped
        self.recorder = Recorder(self.db, self.runs, app_version())

    @property
    def path(self) -> Path:
        return self.db.path

    def close(self) -> None:
        self.recorder.close()
        self.db.close()


def open_store(data_dir: Path, price_of: PriceOf | None = None) -> Store:
    """The store of a data folder: `<data_dir>/reelscope.db`."""
    return Store(Path(data_dir) / STORE_FILENAME, price_of)


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
