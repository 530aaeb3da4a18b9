"""Only the owner deletes: the stores refuse another user's runs, prompts, library items,
collections and modes, whatever the page shows.

The database-backed cases run twice: on SQLite in the data folder and on a throwaway PostgreSQL
(tests/conftest.py). Ann and Bob are two verified users of one team; the team shares what it
keeps, read-only, so each lists the other's records but changes only their own.
"""

from __future__ import annotations

import gc

import numpy as np
import pytest

from reelscope.catalog import load_catalog
from reelscope.chapters.modes import Kind
from reelscope.embeddings.store import EmbeddingStore, NewRow
from reelscope.generation.events import Completed, TextDelta
from reelscope.library import MediaLibrary
from reelscope.media import source_from_link
from reelscope.owners import NotYours
from reelscope.parameters import GenerationParams
from reelscope.runs import Run, RunSpec
from reelscope.store import Deleted, RunQuery
from reelscope.store.deletions import PendingDeletes
from reelscope.store.transfer import ImportRefused, export_json, import_json
from reelscope.tasks import LOCAL_OWNER

ANN, BOB = "ann@example.com", "bob@example.com"


@pytest.fixture
def store(store_opener):
    return store_opener()


def kept_run(store, prompt: str, owner: str) -> str:
    run = Run(RunSpec("gemini-3.5-flash", prompt, GenerationParams()), owner=owner)
    run.append(TextDelta(0.1, f"answer to {prompt}"))
    run.append(Completed(0.2))
    store.runs.record_whole(run, "0.1.0", "local")
    return run.id


def listed(store, owner: str | None = None) -> set[str]:
    return {row.id for row in store.runs.search(RunQuery(owner=owner)).rows}


def test_mine_lists_my_runs_and_team_lists_everyones(store):
    ann, bob = kept_run(store, "ann's", ANN), kept_run(store, "bob's", BOB)
    assert listed(store, ANN) == {ann}
    assert listed(store, BOB) == {bob}
    assert listed(store) == {ann, bob}
    assert store.runs.search(RunQuery(owner=ANN, text="bob's")).total == 0


def test_a_delete_hides_only_the_owners_runs_and_says_which_it_refused(store):
    ann, bob = kept_run(store, "ann's", ANN), kept_run(store, "bob's", BOB)
    assert store.runs.delete([ann, bob], owner=BOB) == Deleted([bob], [ann])
    assert listed(store) == {ann}, "Ann's run is still listed for everyone"
    assert not store.runs.get(ann).deleted


def test_nobody_restores_or_purges_anothers_deleted_run(store):
    ann = kept_run(store, "ann's", ANN)
    assert store.runs.delete([ann], owner=ANN).ids == [ann]
    assert store.runs.restore([ann], owner=BOB) == []
    assert store.runs.purge_deleted([ann], owner=BOB) == 0
    assert store.runs.get(ann) is not None, "still Ann's to undo"
    assert store.runs.restore([ann], owner=ANN) == [ann]
    assert listed(store) == {ann}


def test_pending_deletes_of_another_user_leave_the_run_and_purge_nothing(store):
    ann, bob = kept_run(store, "ann's", ANN), kept_run(store, "bob's", BOB)
    pending = PendingDeletes(store.runs, BOB)
    assert pending.delete([ann, bob]).refused == [ann]
    assert pending.steps == [(bob,)]
    assert pending.finish() == 1
    assert store.runs.get(bob) is None and store.runs.get(ann) is not None
    dropped = PendingDeletes(store.runs, BOB)
    dropped.delete([ann])
    del dropped
    gc.collect()  # a session that ends purges through its finaliser: still only its own
    assert store.runs.get(ann) is not None and listed(store) == {ann}


def test_an_import_is_the_importers_and_never_brings_back_anothers_deleted_run(store):
    ann = kept_run(store, "ann's", ANN)
    exported = export_json(store.runs.get(ann), "0.1.0")
    store.runs.delete([ann], owner=ANN)
    with pytest.raises(ImportRefused, match="already"):
        import_json(store.runs, exported, "0.1.0", owner=BOB)
    assert store.runs.get(ann).deleted, "Ann's delete stays hers to undo"

    assert store.runs.purge_deleted([ann], owner=ANN) == 1  # gone: Bob imports his own copy
    [copy] = import_json(store.runs, exported, "0.1.0", owner=BOB).kept
    assert copy.owner == BOB and listed(store, BOB) == {ann}


def test_only_the_owner_deletes_a_saved_prompt(store):
    ann = store.prompts.save("Recap", "Recap for {who}", owner=ANN)
    with pytest.raises(NotYours, match="only its owner"):
        store.prompts.delete(ann.id, owner=BOB)
    assert store.prompts.get(ann.id) is not None
    assert store.prompts.delete(ann.id, owner=ANN)
    assert store.prompts.get(ann.id) is None
    assert not store.prompts.delete(ann.id, owner=ANN), "gone already: nothing to refuse"


@pytest.fixture
def library(database_url_for, tmp_path):
    kept = MediaLibrary(tmp_path / "media", 10**9, database_url_for("library"))
    yield kept
    kept.db.close()


def test_only_who_added_a_library_item_deletes_it(library, video_file):
    added = library.add_upload(
        "scenes.mp4", video_file.read_bytes(), load_catalog().media, owner=ANN
    )
    link = library.add_link(source_from_link("https://example.com/clip.mp4"), owner=ANN)
    upload_key = f"sha256:{added.source.sha256}"
    for key in (upload_key, link.key):
        with pytest.raises(NotYours, match="only its owner"):
            library.delete(key, owner=BOB)
    assert library.get(upload_key) is not None and library.get(link.key) is not None
    assert library.path(added.source.sha256).exists(), "the bytes stay"
    assert library.source(upload_key) is not None, "the team still uses it"
    assert library.delete(upload_key, owner=ANN) and library.get(upload_key) is None
    assert not library.path(added.source.sha256).exists()


@pytest.fixture
def collections(database_url_for, tmp_path):
    store = EmbeddingStore(tmp_path / "data", database_url_for("embeddings"))
    yield store
    store.db.close()


def test_only_the_owner_deletes_a_collection(collections):
    info = collections.create("films", "multimodalembedding@001", 1408, owner=ANN)
    row = NewRow(kind="text", label="goal", source="goal", source_key="text:goal")
    collections.add(info.id, [row], np.ones((1, 1408), np.float32))
    with pytest.raises(NotYours, match="only its owner"):
        collections.delete(info.id, owner=BOB)
    assert collections.info(info.id) is not None
    assert collections.open(info.id).vectors.shape == (1, 1408), "its vectors stay"
    assert collections.delete(info.id, owner=ANN) and collections.info(info.id) is None
    assert not collections.delete(info.id, owner=ANN)


def test_modes_are_their_owners_and_only_the_owner_deletes_one(store, store_opener):
    modes = store.modes
    ann = modes.save("Goals", Kind.MOMENTS, "List the goals.", owner=ANN)
    bob = modes.save("Goals", Kind.MOMENTS, "Only headers.", owner=BOB)
    assert ann.id != bob.id, "two users' modes of one name are two modes"
    again = store_opener().modes
    assert [m.prompt for m in again.all(ANN) if not m.builtin] == ["List the goals."]
    assert again.get(bob.id).owner == BOB
    with pytest.raises(NotYours, match="only its owner"):
        modes.delete(ann.id, owner=BOB)
    assert modes.get(ann.id) == ann
    assert modes.delete(ann.id, owner=ANN) and modes.get(ann.id) is None
    local = modes.save("Goals", Kind.MOMENTS, "p")
    assert local.id == "user:goals" and local.owner == LOCAL_OWNER, "as before owners"
