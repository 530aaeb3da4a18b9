"""The store: schema and migration, concurrent writers, search, undo, prompts, export/import.

Every test that takes `store` or `store_opener` runs twice: on SQLite in the data folder and on a
throwaway PostgreSQL (tests/conftest.py). The file-only cases (files made by earlier versions,
an unreadable file) run on SQLite.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from dataclasses import replace

import pytest
import sqlalchemy

from reelscope.catalog import Price
from reelscope.generation.events import (
    Completed,
    EndedEarly,
    ErrorKind,
    Failed,
    Finished,
    RunError,
    Stopped,
    TextDelta,
    Usage,
    to_record,
)
from reelscope.parameters import GenerationParams
from reelscope.runs import Run, RunSpec, SourceRef
from reelscope.runs.replay import INTERRUPTED, ended, replay_events
from reelscope.store import STATUSES, STORE_FILENAME, Deleted, RunQuery, open_store
from reelscope.store.schema import MIGRATIONS
from reelscope.store.transfer import (
    ImportRefused,
    export_comparison_json,
    export_comparison_markdown,
    export_json,
    export_markdown,
    import_json,
)
from reelscope.tasks import LOCAL_OWNER
from tests.legacy_database import UserVersionDatabase

SHA = "ab" * 32
PRICE = Price(1.0, 4.0, dt.date(2025, 1, 1), "test price", ())


def spec(prompt="Describe the video", model="gemini-3.5-flash", sources=()) -> RunSpec:
    params = GenerationParams(temperature=0.4, max_output_tokens=512, stop_sequences=("END",))
    return RunSpec(model, prompt, params, tuple(sources))


def play(run: Run, words: list[str], end=Completed) -> Run:
    """Append a small stream by hand (no worker needed): text, usage, finish, end."""
    for i, word in enumerate(words):
        run.append(TextDelta(0.1 * (i + 1), word))
    run.append(Usage(0.1 * len(words) + 0.01, 10, len(words), 0, 10 + len(words)))
    run.append(Finished(0.1 * len(words) + 0.02, "STOP"))
    run.append(end(0.1 * len(words) + 0.03))
    return run


HEAD = "0005"  # the newest migration in reelscope/migrations/history/versions


@pytest.fixture
def store(store_opener):
    return store_opener(price_of=lambda model_id, backend: PRICE)


def kept(store, prompt="Describe the video", words=("a ", "b "), **kwargs) -> Run:
    run = Run(spec(prompt, **kwargs))
    store.recorder(run)
    play(run, list(words))
    assert store.recorder.flush(5)
    return run


def test_a_new_file_gets_the_whole_schema(tmp_path):
    store = open_store(tmp_path)
    assert store.path == tmp_path / STORE_FILENAME
    assert store.db.revision == HEAD
    assert store.db.fetchone("PRAGMA user_version")[0] == len(MIGRATIONS) == 4
    names = {r[0] for r in store.db.fetchall("SELECT name FROM sqlite_master")}
    assert {"runs", "event_batches", "attachments", "run_sources", "prompts", "runs_fts"} <= names
    assert "events" not in names
    assert store.db.fetchone("PRAGMA journal_mode")[0] == "wal"
    store.close()


def test_a_version_1_file_is_migrated_and_its_runs_become_searchable(tmp_path):
    path = tmp_path / STORE_FILENAME
    old = UserVersionDatabase(path, MIGRATIONS[:1])
    record = spec("Where is the goalkeeper?").to_record()
    with old.transaction() as tx:
        tx.execute(
            "INSERT INTO runs (id, started_at, model_id, prompt, spec, status, output_text, "
            "app_version) VALUES ('old1', '2024-05-01T10:00:00.000000+00:00', 'gemini-2.5-pro', "
            "?, ?, 'completed', 'He dives left at 01:23.', '0.0.9')",
            (record["prompt"], json.dumps(record)),
        )
    old.close()

    store = open_store(tmp_path)
    assert store.db.revision == HEAD
    columns = {r[1] for r in store.db.fetchall("PRAGMA table_info(runs)")}
    assert {"deleted_at", "owner"} <= columns
    assert store.runs.get("old1").owner == "local"
    found = store.runs.search(RunQuery(text="goalkeeper"))
    assert [r.id for r in found.rows] == ["old1"] and found.total == 1
    assert [r.id for r in store.runs.search(RunQuery(text="dives left")).rows] == ["old1"]
    assert store.runs.get("old1").spec == spec("Where is the goalkeeper?")
    store.close()


def test_a_version_2_file_keeps_every_event_of_its_runs_in_order(tmp_path):
    path = tmp_path / STORE_FILENAME
    old = UserVersionDatabase(path, MIGRATIONS[:2])
    record = spec("Describe").to_record()
    events = [TextDelta(0.1, "one "), TextDelta(0.2, "two"), Completed(0.3)]
    with old.transaction() as tx:
        tx.execute(
            "INSERT INTO runs (id, started_at, model_id, prompt, spec, status, app_version) "
            "VALUES ('v2run', '2025-01-01T00:00:00.000000+00:00', 'gemini-2.5-pro', 'Describe', "
            "?, 'completed', '0.0.9')",
            (json.dumps(record),),
        )
        for seq, event in reversed(list(enumerate(events))):  # stored out of order on purpose
            tx.execute(
                "INSERT INTO events (run_id, seq, at, kind, data) VALUES ('v2run', ?, ?, ?, ?)",
                (seq, event.at, event.kind, json.dumps(to_record(event))),
            )
    old.close()

    store = open_store(tmp_path)
    assert store.db.revision == HEAD
    assert store.runs.get("v2run").events == events
    assert store.runs.event_count("v2run") == 3
    store.close()


def test_a_run_is_kept_with_its_spec_events_usage_cost_and_version(store):
    run = kept(store, words=["Hello ", "world"])
    stored = store.runs.get(run.id)
    assert stored.spec == run.spec
    assert stored.events == run.events()
    assert stored.state().text == "Hello world"
    assert stored.status == "completed" and stored.finish_reason == "STOP"
    assert stored.app_version == "0.1.0"  # pyproject.toml's
    # 10 prompt tokens at $1/M, 2 output tokens at $4/M
    assert stored.cost_usd == pytest.approx((10 * 1.0 + 2 * 4.0) / 1e6)
    assert stored.started_at == run.started_at


def test_a_run_is_priced_on_the_backend_that_answered_it(store_opener):
    asked = []
    prices = {"vertex": PRICE, "gemini-api": Price(2.0, 8.0, dt.date(2025, 1, 1), "test", ())}
    store = store_opener(
        price_of=lambda model_id, backend: asked.append(backend) or prices[backend]
    )
    on_key = Run(replace(spec(), extra={"backend": "gemini-api"}))
    store.recorder(on_key)
    play(on_key, ["Hello ", "world"])
    before = kept(store)  # kept before runs recorded their backend: Vertex AI's
    assert store.recorder.flush(5)
    assert store.runs.get(on_key.id).cost_usd == pytest.approx((10 * 2.0 + 2 * 8.0) / 1e6)
    assert store.runs.get(before.id).cost_usd == pytest.approx((10 * 1.0 + 2 * 4.0) / 1e6)
    assert sorted(set(asked)) == ["gemini-api", "vertex"]


def test_attachments_are_kept_once_by_hash_and_their_bytes_never(store):
    video = SourceRef("video", "video/mp4", "match.mp4", sha256=SHA, size=123_456)
    link = SourceRef("video", "video/mp4", "clip", uri="gs://bucket/clip.mp4")
    for _ in range(3):
        kept(store, sources=[video, link])
    with store.db.connect() as connection:
        rows = connection.execute(
            "SELECT sha256, size, mime_type, label FROM attachments"
        ).fetchall()
        assert [tuple(r) for r in rows] == [(SHA, 123_456, "video/mp4", "match.mp4")]
        assert connection.execute("SELECT count(*) FROM run_sources").fetchone()[0] == 6
        uris = {
            r[0] for r in connection.execute("SELECT uri FROM run_sources WHERE uri IS NOT NULL")
        }
        assert uris == {"gs://bucket/clip.mp4"}
        blobs = connection.execute(
            "SELECT count(*) FROM pragma_table_info('attachments') WHERE type = 'BLOB'"
            if connection.dialect == "sqlite"
            else "SELECT count(*) FROM information_schema.columns "
            "WHERE table_name = 'attachments' AND data_type = 'bytea'"
        ).fetchone()[0]
        assert blobs == 0


def test_eight_threads_streaming_at_once_keep_every_event(store):
    per_thread, words = 5, [f"w{i} " for i in range(40)]
    runs: list[Run] = []
    lock = threading.Lock()

    def stream(worker: int) -> None:
        for _ in range(per_thread):
            run = Run(spec(f"thread {worker}"))
            store.recorder(run)
            play(run, words)
            with lock:
                runs.append(run)

    threads = [threading.Thread(target=stream, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.recorder.flush(10)
    # a separate connection: what is on disk, not what one connection has cached
    engine = sqlalchemy.create_engine(store.db.url, poolclass=sqlalchemy.NullPool)
    with engine.connect() as check:
        count = check.exec_driver_sql("SELECT count(*) FROM runs").scalar()
        assert count == 8 * per_thread
        expected = 8 * per_thread * (len(words) + 3)
        assert check.exec_driver_sql("SELECT sum(count) FROM event_batches").scalar() == expected
    engine.dispose()
    for run in runs:
        assert store.runs.get(run.id).events == run.events()


def test_a_stopped_run_keeps_what_arrived_before_stop(store):
    run = Run(spec())
    store.recorder(run)
    run.append(TextDelta(0.1, "kept "))
    run.stop()
    run.append(TextDelta(0.3, "never"))  # refused by the run, so never kept
    assert store.recorder.flush(5)
    stored = store.runs.get(run.id)
    assert stored.status == "stopped"
    assert stored.state().text == "kept "
    assert isinstance(stored.events[-1], Stopped)


def test_a_run_cut_by_a_server_stop_is_closed_as_interrupted_at_the_next_start(store_opener):
    store = store_opener()
    run = Run(spec())
    store.recorder(run)
    run.append(TextDelta(0.1, "half "))
    assert store.recorder.flush(5)
    store.close()  # the server is gone; the run never ended

    again = store_opener()
    if again.db.shared:  # another instance may be streaming it: a start leaves it alone
        assert again.interrupted == 0 and again.runs.get(run.id).status == "running"
        return
    assert again.interrupted == 1
    stored = again.runs.get(run.id)
    assert stored.status == "interrupted" and stored.state().text == "half "
    # Shown, it is not live: it ends as the replay ends it, with what arrived kept.
    state = stored.state()
    assert state.done and state.error == INTERRUPTED and state.ended_at == 0.1
    assert stored.events == [TextDelta(0.1, "half ")], "the kept events are left as they are"
    assert stored.shown_events() == ended(stored.events)
    again.close()


def test_a_replay_ends_a_run_without_an_ending_as_history_shows_it():
    cut = [TextDelta(0.01, "half "), TextDelta(0.02, "an answer")]

    async def replayed():
        return [event async for event in replay_events(cut, speed=4.0)]

    events = asyncio.run(replayed())
    assert events == ended(cut) == [*cut, Failed(0.02, INTERRUPTED)]
    whole = [*cut, Completed(0.03)]
    assert ended(whole) == whole
    assert ended([]) == [Failed(0.0, INTERRUPTED)]


def test_a_stream_that_ended_early_is_kept_as_incomplete_not_completed(store):
    run = Run(spec())
    store.recorder(run)
    run.append(TextDelta(0.1, "cut off "))
    run.append(EndedEarly(0.2))
    run.append(Completed(0.21))
    assert store.recorder.flush(5)
    assert store.runs.get(run.id).status == "incomplete"
    assert "incomplete" in STATUSES
    assert [r.id for r in store.runs.search(RunQuery(statuses=("incomplete",))).rows] == [run.id]
    assert store.runs.search(RunQuery(statuses=("completed",))).total == 0


def test_a_version_3_file_calls_its_streams_that_ended_early_incomplete(tmp_path):
    path = tmp_path / STORE_FILENAME
    old = UserVersionDatabase(path, MIGRATIONS[:3])
    record = json.dumps(spec().to_record())
    runs = {
        "early": [TextDelta(0.1, "cut "), EndedEarly(0.2), Completed(0.21)],
        "whole": [TextDelta(0.1, "all "), Finished(0.2, "STOP"), Completed(0.21)],
        "failed": [
            TextDelta(0.1, "x "),
            EndedEarly(0.2),
            Failed(0.3, RunError(ErrorKind.SERVER, "5xx")),
        ],
    }
    statuses = {"early": "completed", "whole": "completed", "failed": "failed"}  # as v3 wrote them
    with old.transaction() as tx:
        for run_id, events in runs.items():
            tx.execute(
                "INSERT INTO runs (id, started_at, model_id, prompt, spec, status, app_version) "
                "VALUES (?, '2025-01-01T00:00:00.000000+00:00', 'gemini-2.5-pro', 'p', ?, ?, "
                "'0.0.9')",
                (run_id, record, statuses[run_id]),
            )
            for first, batch in ((0, events[:2]), (2, events[2:])):  # the recorder's batches
                tx.execute(
                    "INSERT INTO event_batches (run_id, first_seq, count, events) "
                    "VALUES (?, ?, ?, ?)",
                    (run_id, first, len(batch), json.dumps([to_record(e) for e in batch])),
                )
    old.close()

    store = open_store(tmp_path)
    assert store.db.revision == HEAD
    assert {r: store.runs.get(r).status for r in runs} == {
        "early": "incomplete",
        "whole": "completed",
        "failed": "failed",
    }
    assert store.runs.get("early").events == runs["early"]
    store.close()


def test_a_corrupt_file_is_moved_aside_and_a_new_store_started(tmp_path):
    path = tmp_path / STORE_FILENAME
    garbage = b"this is not a database" * 100
    path.write_bytes(garbage)
    store = open_store(tmp_path)
    assert store.moved_aside is not None and store.moved_aside.read_bytes() == garbage
    assert store.runs.count() == 0
    kept(store)
    assert store.runs.count() == 1
    store.close()


def test_search_filters_in_sql_and_pages(store):
    for i in range(30):
        kept(store, prompt=f"Count the goals {i}", model="gemini-3.5-flash" if i % 3 else "pro-x")
    failing = Run(spec("Broken one"))
    store.recorder(failing)
    failing.append(Failed(0.5, RunError(ErrorKind.QUOTA, "Quota exceeded")))
    assert store.recorder.flush(5)

    page = store.runs.search(RunQuery(limit=10))
    assert page.total == 31 and len(page.rows) == 10
    assert page.rows[0].id == failing.id  # newest first
    second = store.runs.search(RunQuery(limit=10, offset=10))
    assert not {r.id for r in page.rows} & {r.id for r in second.rows}
    assert store.runs.search(RunQuery(models=("pro-x",))).total == 10
    assert [r.id for r in store.runs.search(RunQuery(statuses=("failed",))).rows] == [failing.id]
    # "2" is too short for trigrams: a LIKE scan finds 2, 12 and 20-29
    assert store.runs.search(RunQuery(text="goals 2")).total == 12
    assert store.runs.search(RunQuery(text="GOALS broken")).total == 0
    assert store.runs.search(RunQuery(text='"quoted"* OR x')).total == 0  # no FTS syntax leaks
    today = dt.datetime.now(dt.UTC).date()
    assert store.runs.search(RunQuery(since=today, until=today)).total == 31
    assert store.runs.search(RunQuery(until=today - dt.timedelta(days=1))).total == 0
    assert set(store.runs.models()) == {"gemini-3.5-flash", "pro-x"}


def fts_matches_its_table(store) -> bool:
    """FTS5's own check that the search index holds exactly what the runs table says."""
    assert store.db.dialect == "sqlite"
    try:
        with store.db.transaction() as tx:
            tx.execute("INSERT INTO runs_fts(runs_fts, rank) VALUES ('integrity-check', 1)")
    except sqlalchemy.exc.DatabaseError:
        return False
    return True


def test_a_search_indexes_what_streams_left_and_finds_a_run_before_and_after_its_end(store):
    live = Run(spec("Where is the goalkeeper?"))
    store.recorder(live)
    live.append(TextDelta(0.1, "He dives "))
    assert store.recorder.flush(5)
    # PostgreSQL keeps its trigram indexes itself: only SQLite's FTS5 index can lag behind.
    on_sqlite = store.db.dialect == "sqlite"
    if on_sqlite:
        assert not fts_matches_its_table(store), "a stream leaves indexing to the next search"

    assert [r.id for r in store.runs.search(RunQuery(text="goalkeeper")).rows] == [live.id]
    assert not on_sqlite or fts_matches_its_table(store)
    play(live, ["left at 01:23."])
    assert store.recorder.flush(5)
    assert [r.id for r in store.runs.search(RunQuery(text="dives left")).rows] == [live.id]
    assert store.runs.search(RunQuery(text="goalkeeper")).total == 1  # indexed once, not twice
    assert not on_sqlite or fts_matches_its_table(store)

    store.runs.delete([live.id], owner=LOCAL_OWNER)
    store.runs.purge_deleted()
    assert not on_sqlite or fts_matches_its_table(store), "a purged run leaves the index too"
    assert store.runs.search(RunQuery(text="goalkeeper")).total == 0


def test_delete_hides_runs_until_restored_and_purge_removes_their_events(store):
    first, second = kept(store), kept(store)
    assert store.runs.delete([first.id, first.id], owner=LOCAL_OWNER) == Deleted([first.id], [])
    again = store.runs.delete([first.id], owner=LOCAL_OWNER)
    assert again == Deleted([], []), "a deleted run is not deleted again"
    assert [r.id for r in store.runs.search(RunQuery()).rows] == [second.id]
    restored = store.runs.restore([first.id, second.id], owner=LOCAL_OWNER)
    assert restored == [first.id], "only what was deleted"
    assert store.runs.search(RunQuery()).total == 2
    store.runs.delete([first.id], owner=LOCAL_OWNER)
    assert store.runs.purge_deleted([first.id], owner=LOCAL_OWNER) == 1
    assert store.runs.get(first.id) is None and store.runs.event_count(first.id) == 0
    assert store.runs.purge_deleted([second.id], owner=LOCAL_OWNER) == 0  # not deleted


def test_prompts_saved_updated_deleted_and_built_ins_protected(store):
    mine = store.prompts.save("Summary", "Summarise in {language}, in {count} bullets.")
    assert mine.variables == ("language", "count") and not mine.built_in
    changed = store.prompts.save("Summary", "In {language} only.", prompt_id=mine.id)
    assert changed.text == "In {language} only." and changed.created_at == mine.created_at
    store.prompts.ensure_built_ins([("describe", "Describe", "Describe the video; MM:SS.")])
    store.prompts.ensure_built_ins([("describe", "Describe", "Describe it, with MM:SS.")])
    assert [p.id for p in store.prompts.list()] == ["describe", mine.id]
    assert store.prompts.get("describe").text == "Describe it, with MM:SS."
    with pytest.raises(ValueError, match="Ready prompts"):
        store.prompts.delete("describe", owner=LOCAL_OWNER)
    with pytest.raises(ValueError, match="name"):
        store.prompts.save(" ", "text")
    assert (
        store.prompts.delete(mine.id, owner=LOCAL_OWNER)
        and store.prompts.list(built_in=False) == []
    )


def test_export_and_import_round_trip_into_another_store(store, store_opener):
    video = SourceRef("video", "video/mp4", "match.mp4", sha256=SHA, size=10)
    run = kept(store, words=["One ", "two"], sources=[video])
    original = store.runs.get(run.id)
    exported = export_json(original, "0.1.0")

    elsewhere = store_opener("elsewhere")
    [imported] = import_json(elsewhere.runs, exported, "0.1.0", owner=LOCAL_OWNER).kept
    assert imported.origin == "imported"
    assert imported.events == original.events and imported.spec == original.spec
    assert imported.state().text == "One two" and imported.status == "completed"
    with pytest.raises(ImportRefused, match="already"):
        import_json(elsewhere.runs, exported, "0.1.0", owner=LOCAL_OWNER)
    for bad in ("not json", '{"format": "other"}', '{"format": "reelscope.run", "run": {}}'):
        with pytest.raises(ImportRefused):
            import_json(elsewhere.runs, bad, "0.1.0", owner=LOCAL_OWNER)
    elsewhere.close()

    markdown = export_markdown(original)
    assert "One two" in markdown and "gemini-3.5-flash" in markdown and SHA in markdown
    assert "> Describe the video" in markdown
    both = export_comparison_markdown([original, original], "| a | b |")
    assert both.count("## Run ") == 2 and "| a | b |" in both


def test_an_import_brings_back_a_deleted_run_and_skips_one_already_listed(store):
    first, second = kept(store, prompt="first"), kept(store, prompt="second")
    both = export_comparison_json([store.runs.get(first.id), store.runs.get(second.id)], "0.1.0")
    store.runs.delete([first.id], owner=LOCAL_OWNER)
    result = import_json(store.runs, both, "0.1.0", owner=LOCAL_OWNER)
    assert [r.id for r in result.restored] == [first.id] and result.present == [second.id]
    assert result.kept == [] and not store.runs.get(first.id).deleted
    assert store.runs.get(first.id).origin == "local", "the kept run, not a copy"
    assert result.summary() == "Brought back 1 run you had deleted. 1 run already in your history."
    with pytest.raises(ImportRefused, match="Every run in that file is already in your history"):
        import_json(store.runs, both, "0.1.0", owner=LOCAL_OWNER)

    store.runs.delete([second.id], owner=LOCAL_OWNER)
    store.runs.purge_deleted([second.id], owner=LOCAL_OWNER)
    result = import_json(store.runs, both, "0.1.0", owner=LOCAL_OWNER)  # a purged run imports again
    assert [r.id for r in result.kept] == [second.id] and result.present == [first.id]
    assert store.runs.get(second.id).origin == "imported"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("spec", "model_id"), None),
        (("spec", "model_id"), ""),
        (("spec", "model_id"), {"a": 1}),
        (("spec", "sources", 0, "label"), None),
        (("spec", "sources", 0, "mime_type"), 7),
    ],
)
def test_an_import_with_a_missing_model_or_a_label_that_is_not_text_is_refused(
    store, store_opener, path, value
):
    video = SourceRef("video", "video/mp4", "match.mp4", sha256=SHA, size=10)
    document = json.loads(export_json(store.runs.get(kept(store, sources=[video]).id), "0.1.0"))
    target = document["run"]
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    elsewhere = store_opener("elsewhere")
    with pytest.raises(ImportRefused, match="damaged"):
        import_json(elsewhere.runs, json.dumps(document), "0.1.0", owner=LOCAL_OWNER)
    assert elsewhere.runs.count() == 0
    elsewhere.close()
