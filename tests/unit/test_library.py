"""The media library's index on SQLite and PostgreSQL: items with owners, probe facts, cuts and
staged copies; an index from before Alembic kept; a shared index evicts only local bytes."""

from __future__ import annotations

import pytest

from reelscope.catalog import load_catalog
from reelscope.library import LIBRARY_DB, MIGRATIONS, SCHEMA, MediaLibrary
from reelscope.media import SourceKind, source_from_link
from tests.legacy_database import UserVersionDatabase

LINK = "gs://bucket/match.mp4"


@pytest.fixture
def library_at(database_url_for, tmp_path):
    """`library_at(folder, index="main", max_bytes=…)`: a library whose bytes are in
    `tmp_path/folder` and whose index is the backend's database named `index`."""
    opened: list[MediaLibrary] = []

    def open_at(folder: str = "media", index: str = "main", max_bytes: int = 10**9):
        library = MediaLibrary(tmp_path / folder, max_bytes, database_url_for(index))
        opened.append(library)
        return library

    yield open_at
    for library in opened:
        library.db.close()


def test_links_and_uploads_are_kept_with_their_owner_facts_cuts_and_copies(library_at, video_file):
    library = library_at()
    link = library.add_link(source_from_link(LINK), owner="ann@example.com")
    added = library.add_upload(
        "scenes.mp4", video_file.read_bytes(), load_catalog().media, owner="bob@example.com"
    )
    sha = added.source.sha256
    assert library.db.revision == "0002"
    assert [i.key for i in library.items()] == [f"sha256:{sha}", link.key]  # newest use first
    assert [i.key for i in library.items(owner="ann@example.com")] == [link.key]
    library.touch(link.key)
    assert library.items()[0].key == link.key

    upload = library.get(f"sha256:{sha}")
    assert upload.owner == "bob@example.com" and upload.size == video_file.stat().st_size
    assert upload.duration_s == pytest.approx(added.source.probe.duration_s)
    library.set_cuts(sha, [4.0, 8.0])
    library.set_staged(sha, "gs://bucket/reelscope/x.mp4")
    again = library_at()  # a restart: the same index and folder
    assert again.get(f"sha256:{sha}").cuts == (4.0, 8.0)
    assert again.source(f"sha256:{sha}").kind is SourceKind.GCS
    assert again.delete(link.key, owner="ann@example.com") and again.get(link.key) is None


def test_an_index_from_before_alembic_is_kept(tmp_path):
    old = UserVersionDatabase(tmp_path / "media" / LIBRARY_DB, MIGRATIONS)
    with old.transaction() as tx:
        tx.execute(
            "INSERT INTO items (key, kind, name, mime_type, owner, added_at, used_at, uri) "
            "VALUES (?, 'gcs', 'match.mp4', 'video/mp4', 'local', ?, ?, ?)",
            (LINK, "2025-01-01T00:00:00+00:00", "2025-01-01T00:00:00+00:00", LINK),
        )
    old.close()
    library = MediaLibrary(tmp_path / "media")
    assert library.db.revision == "0002" and library.db.version_table == f"alembic_version_{SCHEMA}"
    assert [(i.key, i.owner) for i in library.items()] == [(LINK, "local")]
    assert library.source(LINK).uri == LINK
    library.db.close()


def test_a_shared_index_never_evicts_another_instances_uploads(library_at, video_file, image_file):
    media = load_catalog().media
    a = library_at("instance-a")
    kept = a.add_upload("scenes.mp4", video_file.read_bytes(), media).source
    b = library_at("instance-b", max_bytes=image_file.stat().st_size + 10)
    b.add_upload("orange.png", image_file.read_bytes(), media)
    second = image_file.read_bytes() + b"\0"
    made_room = b.add_upload("orange-again.png", second, media, size_hint=len(second))
    assert made_room.evicted == ("orange.png",), "only b's own upload went"
    if b.db.dialect == "postgresql":  # one index: b lists a's upload, and left it alone
        assert b.get(kept.key) is not None
    assert a.source(kept.key) is not None
