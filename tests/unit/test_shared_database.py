"""The run history's database on SQLite and PostgreSQL: Alembic at open, files made by earlier
versions kept whole, owners, a bounded pool, instances sharing one PostgreSQL."""

from __future__ import annotations

import json
import threading

import pytest
import sqlalchemy

from reelscope.database import SharedDatabase, sqlite_url
from reelscope.generation.events import Completed, TextDelta, to_record
from reelscope.owners import NotYours
from reelscope.parameters import GenerationParams
from reelscope.runs import Run, RunSpec
from reelscope.store import SCHEMA, STORE_FILENAME, RunQuery, open_store
from reelscope.store.schema import MIGRATIONS
from reelscope.tasks import LOCAL_OWNER
from tests.legacy_database import UserVersionDatabase

HEAD = "0005"


def finished_run(prompt: str, owner: str = "local") -> Run:
    run = Run(RunSpec("gemini-3.5-flash", prompt, GenerationParams()), owner=owner)
    run.append(TextDelta(0.1, "The keeper dives left."))
    run.append(Completed(0.2))
    return run


def test_a_file_made_by_the_user_version_store_is_upgraded_in_place_keeping_everything(tmp_path):
    """Today's file (user_version 4, no Alembic table) is recognised, not rebuilt: its runs,
    events, prompts and search index stay, and it gains owners."""
    path = tmp_path / STORE_FILENAME
    old = UserVersionDatabase(path, MIGRATIONS)  # exactly how the store opened it before Alembic
    record = RunSpec("gemini-2.5-pro", "Where is the goalkeeper?", GenerationParams()).to_record()
    events = [TextDelta(0.1, "He dives "), TextDelta(0.2, "left."), Completed(0.3)]
    with old.transaction() as tx:
        tx.execute(
            "INSERT INTO runs (id, started_at, model_id, prompt, spec, status, output_text, "
            "app_version, search_indexed) VALUES ('v4run', '2025-06-01T10:00:00.000000+00:00', "
            "'gemini-2.5-pro', ?, ?, 'completed', 'He dives left.', '0.1.0', 0)",
            (record["prompt"], json.dumps(record)),
        )
        tx.execute(
            "INSERT INTO event_batches (run_id, first_seq, count, events) VALUES (?, 0, 3, ?)",
            ("v4run", json.dumps([to_record(e) for e in events])),
        )
        tx.execute(
            "INSERT INTO prompts (id, name, text, created_at, updated_at) VALUES "
            "('p1', 'Mine', 'Count the {things}', '2025-06-01T10:00:00', '2025-06-01T10:00:00')"
        )
    assert old.version == 4
    old.close()

    store = open_store(tmp_path)
    assert store.moved_aside is None
    assert store.db.revision == HEAD
    assert store.db.fetchone("PRAGMA user_version")[0] == 4, "the old migrations ran no further"
    kept = store.runs.get("v4run")
    assert kept.events == events and kept.owner == "local"
    assert [r.id for r in store.runs.search(RunQuery(text="goalkeeper")).rows] == ["v4run"]
    [mine] = store.prompts.list(built_in=False)
    assert (mine.id, mine.text, mine.owner) == ("p1", "Count the {things}", "local")
    store.close()

    again = open_store(tmp_path)  # a second start changes nothing
    assert again.db.revision == HEAD and again.runs.count() == 1
    again.close()


def test_a_database_from_a_newer_reelscope_is_refused_and_left_where_it_is(tmp_path):
    path = tmp_path / STORE_FILENAME
    open_store(tmp_path).close()
    with sqlalchemy.create_engine(sqlite_url(path)).begin() as connection:
        connection.exec_driver_sql(f"UPDATE alembic_version_{SCHEMA} SET version_num = '9999'")
    with pytest.raises(RuntimeError, match="newer than this Reelscope"):
        open_store(tmp_path)
    assert path.exists() and not list(tmp_path.glob("*.unreadable-*"))


@pytest.fixture
def database_url(store_opener, tmp_path, request) -> str:
    """A fresh database's URL on the backend `store_opener` runs on."""
    store = store_opener("probe")
    url = store.db.url.render_as_string(hide_password=False)
    store.close()
    return url


def test_connections_are_lent_from_a_bounded_pool_on_both_backends(database_url):
    db = SharedDatabase(database_url, SCHEMA, pool_size=2, max_overflow=3)
    threads = [threading.Thread(target=db.fetchone, args=("SELECT 1",)) for _ in range(100)]
    for thread in threads:
        thread.start()
        thread.join()
    assert db.open_connections <= 2
    with db.connect() as first, db.connect() as second:
        assert first.connection is not second.connection
        assert db.open_connections == 2
    db.close()
    assert db.open_connections == 0


def test_a_failed_write_leaves_nothing_behind(database_url):
    db = SharedDatabase(database_url, SCHEMA)
    with pytest.raises(sqlalchemy.exc.IntegrityError), db.transaction() as tx:
        tx.execute(
            "INSERT INTO prompts (id, name, text, created_at, updated_at) "
            "VALUES ('x', 'n', 't', 'a', 'b')"
        )
        tx.execute("INSERT INTO prompts (id) VALUES ('x')")  # NOT NULL and duplicate key
    assert db.fetchone("SELECT count(*) FROM prompts")[0] == 0
    db.close()


def test_owners_are_written_for_runs_and_saved_prompts(store_opener):
    store = store_opener()
    mine, theirs = (
        finished_run("mine", "ann@example.com"),
        finished_run("theirs", "bob@example.com"),
    )
    for run in (mine, theirs):
        store.recorder(run)
    assert store.recorder.flush(5)
    assert store.runs.get(mine.id).owner == "ann@example.com"
    rows = store.runs.search(RunQuery()).rows
    assert {r.id: r.owner for r in rows} == {
        mine.id: "ann@example.com",
        theirs.id: "bob@example.com",
    }
    store.runs.record_whole(finished_run("imported"), "0.1.0", "imported", owner="cy@example.com")
    assert {r.owner for r in store.runs.search(RunQuery(text="imported")).rows} == {
        "cy@example.com"
    }

    saved = store.prompts.save("Recap", "Recap for {who}", owner="ann@example.com")
    changed = store.prompts.save(
        "Recap", "Recap, {who}", prompt_id=saved.id, owner="ann@example.com"
    )
    assert saved.owner == changed.owner == "ann@example.com", "an edit keeps the owner"
    with pytest.raises(NotYours, match="only its owner"):
        store.prompts.save("Recap", "Mine now", prompt_id=saved.id, owner="bob@example.com")
    assert store.prompts.get(saved.id).text == "Recap, {who}", "another's edit changes nothing"
    store.prompts.ensure_built_ins([("describe", "Describe", "Describe it.")])
    assert store.prompts.get("describe").owner == "local"


def test_search_ignores_case_and_finds_parts_of_words_on_both_backends(store_opener):
    store = store_opener()
    store.runs.record_whole(finished_run("Where is the GOALKEEPER?"), "0.1.0", "local")
    store.runs.record_whole(finished_run("Count the corners"), "0.1.0", "local")
    for text in ("goalkeeper", "KEEPER dives", "oalk", "GO"):
        assert store.runs.search(RunQuery(text=text)).total == (2 if text == "KEEPER dives" else 1)
    assert store.runs.search(RunQuery(text="50%_off")).total == 0  # LIKE's wildcards escaped


def test_postgresql_has_trigram_indexes_for_search(postgres):
    url = postgres.new_database()
    store = open_store(postgres.folder / "unused", database_url=url)
    indexes = {
        row[0]
        for row in store.db.fetchall(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'runs' AND indexdef LIKE '%gin%'"
        )
    }
    assert any("gin_trgm_ops" in d and "(prompt " in d for d in indexes), indexes
    assert any("gin_trgm_ops" in d and "(output_text " in d for d in indexes), indexes
    store.close()
    postgres.drop_database(url)


def test_instances_sharing_one_postgresql_migrate_once_and_see_each_others_runs(postgres, tmp_path):
    url = postgres.new_database()
    opened, errors = [], []

    def start(n: int) -> None:
        try:
            opened.append(open_store(tmp_path / f"instance{n}", database_url=url))
        except Exception as problem:  # reported below, with the others
            errors.append(problem)

    threads = [threading.Thread(target=start, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(opened) == 4
    a, b = opened[0], opened[1]
    assert a.db.revision == b.db.revision == HEAD
    run = finished_run("made on A")
    a.recorder(run)
    assert a.recorder.flush(5)
    assert [r.id for r in b.runs.search(RunQuery(text="made on")).rows] == [run.id]
    assert b.runs.get(run.id).events == run.events()
    for store in opened:
        store.close()
    postgres.drop_database(url)


def test_a_plain_postgresql_url_is_read_with_psycopg_3(postgres):
    url = postgres.new_database().replace("postgresql+psycopg://", "postgresql://")
    db = SharedDatabase(url, SCHEMA)
    assert db.url.drivername == "postgresql+psycopg" and db.dialect == "postgresql"
    assert db.revision == HEAD
    db.close()
    postgres.drop_database(url)


def test_an_instance_starting_leaves_another_instances_live_run_and_pending_deletes(postgres):
    url = postgres.new_database()
    a = open_store(postgres.folder / "unused-a", database_url=url)
    live = Run(RunSpec("gemini-3.5-flash", "streaming on A", GenerationParams()))
    a.recorder(live)
    live.append(TextDelta(0.1, "half "))
    deleted = finished_run("deleted on A, undoable")
    a.runs.record_whole(deleted, "0.1.0", "local")
    a.runs.delete([deleted.id], owner=LOCAL_OWNER)
    assert a.recorder.flush(5)

    b = open_store(postgres.folder / "unused-b", database_url=url)
    assert b.interrupted == 0 and b.runs.get(live.id).status == "running"
    assert a.runs.restore([deleted.id], owner=LOCAL_OWNER) == [deleted.id], "A's undo still works"
    live.append(Completed(0.2))
    assert a.recorder.flush(5) and b.runs.get(live.id).status == "completed"
    a.close()
    b.close()
    postgres.drop_database(url)


def test_a_cloud_sql_style_url_reaches_the_server_through_its_unix_socket(postgres):
    """`…@/DB?host=/cloudsql/PROJECT:REGION:INSTANCE`, as make deploy writes it: no host name,
    the socket's folder as `host`."""
    url = postgres.new_database()
    store = open_store(postgres.folder / "unused", database_url=postgres.socket_url(url))
    assert store.db.revision == HEAD
    address = store.db.fetchone("SELECT inet_server_addr()")[0]
    assert address is None, "a Unix socket has no server address"
    store.close()
    postgres.drop_database(url)
