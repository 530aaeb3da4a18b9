"""A grid's rows: videos from the media library, or every video under a gs:// prefix.

A prefix is listed through Cloud Storage (reelscope/listing.py), keeping only the files
Reelscope can send as video, up to the grid's row limit; what was skipped is counted so the page
can say so. A row is found again by its key: a library key,
or the object's gs:// URI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from google.cloud import storage

from reelscope.gemini_files import FileBook
from reelscope.lab.grid import MAX_ROWS, VideoRow
from reelscope.lab.plan import RowSource
from reelscope.library import MediaLibrary
from reelscope.listing import PrefixListing, list_media
from reelscope.media import SourceError, SourceKind, source_from_link
from reelscope.storage import StagingError


def list_prefix(client: storage.Client, text: str, limit: int = MAX_ROWS) -> PrefixListing:
    """The videos under a gs:// prefix, by name, at most `limit`; StagingError when it cannot be
    listed or holds no video."""
    listing = list_media(client, text, lambda source: source.is_video, limit)
    if not listing.files:
        what = f" ({listing.skipped} other files)" if listing.skipped else ""
        raise StagingError(
            f"There are no videos under {listing.uri}{what}. "
            f"Check the prefix with: gcloud storage ls {listing.uri}"
        )
    return listing


def prefix_rows(listing: PrefixListing) -> tuple[VideoRow, ...]:
    """A grid row per listed video, found again by its gs:// URI."""
    return tuple(VideoRow(str(f.source.uri), f.source.label) for f in listing.files)


def library_rows(library: MediaLibrary, keys: Sequence[str]) -> tuple[VideoRow, ...]:
    """Rows for library items, by key, in the order given (items since deleted are skipped)."""
    rows = []
    for key in keys:
        item = library.get(key)
        if item is not None:
            rows.append(VideoRow(key, item.name))
    return tuple(rows)


def row_sources(
    library: MediaLibrary,
    rows: Sequence[VideoRow],
    *,
    bucket: str | None,
    files: FileBook | None = None,
) -> list[RowSource]:
    """Each row's media, or why it cannot be read. With a bucket, an upload goes as its bucket
    copy (a batch job reads Cloud Storage only); with `files` (the Gemini Developer API), as
    its remembered Files API file while that lives (uploaded on Ask, Chapters or Side by
    side)."""
    found = []
    for row in rows:
        if row.key.startswith("gs://"):
            try:
                found.append(RowSource(source_from_link(row.key)))
            except SourceError as error:
                found.append(RowSource(None, str(error)))
            continue
        item = library.get(row.key)
        try:
            source = library.source(row.key) if item is not None else None
        except SourceError as error:  # its bytes could not be fetched from the bucket
            found.append(RowSource(None, str(error)))
            continue
        if source is None:
            found.append(RowSource(None, f"{row.label} is no longer in the library: add it again."))
            continue
        if source.uri is None and bucket and item is not None:
            copy = library.bucket_uri(item)
            if copy:
                source = replace(source, kind=SourceKind.GCS, uri=copy)
        if source.uri is None and files is not None and source.sha256:
            remembered = files.get(source.sha256)
            source = replace(source, uri=remembered.uri) if remembered else source
        found.append(RowSource(source))
    return found
