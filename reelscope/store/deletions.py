"""Deletes on the History page: hidden at once, undoable step by step, then removed for good.

    pending = PendingDeletes(store.runs, owner)
    pending.delete([run_id])        # a step: the owner's runs leave every list (deleted_at set)
    pending.undo()                  # the last step's runs come back; earlier steps stay undoable
    pending.finish()                # the user left the page: every pending run is purged

Nothing deleted is lost before `finish`: each step can still be undone, in reverse order. A
session that ends without `finish` (its tab closed) purges through a finaliser; a server that
stops purges at its next start (`Store`), so no hidden run outlives every page that could undo it.
Only the owner's runs are hidden, brought back and purged: others' are refused by the store.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterable

from reelscope.database import DATABASE_ERRORS
from reelscope.store.runs import Deleted, RunRepo

_log = logging.getLogger(__name__)


class PendingDeletes:
    def __init__(self, repo: RunRepo, owner: str) -> None:
        self.repo = repo
        self.owner = owner  # who deletes: the session's user
        self._steps: list[list[str]] = []
        self._finalizer = weakref.finalize(self, _purge, repo, owner, self._steps)
        self._finalizer.atexit = False  # the next server start purges what is left

    @property
    def steps(self) -> list[tuple[str, ...]]:
        """Each delete's run ids, oldest first; `undo` takes back the last."""
        return [tuple(step) for step in self._steps]

    @property
    def run_ids(self) -> list[str]:
        return [run_id for step in self._steps for run_id in step]

    def delete(self, ids: Iterable[str]) -> Deleted:
        """Hide the owner's runs among these as one step; returns what was hidden (not those
        already deleted) and what was refused (others' runs)."""
        deleted = self.repo.delete(ids, owner=self.owner)
        if deleted.ids:
            self._steps.append(deleted.ids)
        return deleted

    def undo(self) -> list[str]:
        """Bring back the last step's runs; returns their ids."""
        if not self._steps:
            return []
        return self.repo.restore(self._steps.pop(), owner=self.owner)

    def undo_all(self) -> list[str]:
        restored: list[str] = []
        while self._steps:
            restored = self.undo() + restored
        return restored

    def forget(self, ids: Iterable[str]) -> None:
        """These runs came back another way (an import of the same run): no step holds them."""
        gone = set(ids)
        steps = [[run_id for run_id in step if run_id not in gone] for step in self._steps]
        self._steps[:] = [step for step in steps if step]

    def finish(self) -> int:
        """Remove every pending run for good; returns how many were removed."""
        return _purge(self.repo, self.owner, self._steps)


def _purge(repo: RunRepo, owner: str, steps: list[list[str]]) -> int:
    ids = [run_id for step in steps for run_id in step]
    steps.clear()
    if not ids:
        return 0
    try:
        return repo.purge_deleted(ids, owner=owner)
    except DATABASE_ERRORS:  # from a finaliser: the next server start purges them instead
        _log.warning("Could not purge %d deleted runs; the next start will.", len(ids))
        return 0
