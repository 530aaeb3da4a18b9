"""A grid's rows: videos from the media library, or every video under a gs:// prefix.

A prefix is listed through Cloud Storage (its objects, not its folders), keeping only the files
Reelscope can send as video (by name, as for any gs:// link), up to the grid's row limit; what
was skipped is counted so the page can say so. A row is found again by its key: a library key,
or the object's gs:// URI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from google.cloud import storage

from reelscope.lab.grid import MAX_ROWS, VideoRow
from reelscope.lab.plan import RowSource
from reelscope.library import MediaLibrary
from reelscope.media import SourceError, SourceKind, source_from_link
from reelscope.storage import StagingError, explained

_PREFIX_HINT = "Write it as gs://BUCKET/FOLDER/ (a bucket and the start of the objects' names)."


@dataclass(frozen=True)
class Listing:
    rows: tuple[VideoRow, ...]
    skipped: int  # objects under the prefix that are not videos Reelscope can send
    more: bool  # the prefix holds more videos than a grid takes


def parse_prefix(text: str) -> tuple[str, str]:
    """(bucket, prefix) from gs://BUCKET/PREFIX; a StagingError saying the form otherwise."""
    link = text.strip()
    if not link.startswith("gs://"):
        raise StagingError(f"{link or 'That'} is not a Cloud Storage prefix. {_PREFIX_HINT}")
    bucket, _, prefix = link.removeprefix("gs://").partition("/")
    if not bucket:
        raise StagingError(f"{link} names no bucket. {_PREFIX_HINT}")
    return bucket, prefix


def list_prefix(client: storage.Client, text: str, limit: int = MAX_ROWS) -> Listing:
    """The videos under a gs:// prefix, by name, at most `limit`; StagingError when it cannot be
    listed or holds no video."""
    bucket, prefix = parse_prefix(text)
    uri = f"gs://{bucket}/{prefix}"
    rows: list[VideoRow] = []
    skipped = 0
    more = False
    with explained(client, bucket, uri, writing=False):
        for blob in client.list_blobs(bucket, prefix=prefix or None, page_size=1000):
            if blob.name.endswith("/"):
                continue  # a folder placeholder
            link = f"gs://{bucket}/{blob.name}"
            try:
                source = source_from_link(link)
            except SourceError:
                skipped += 1
                continue
            if not source.is_video:
                skipped += 1
                continue
            if len(rows) == limit:
                more = True
                break
            rows.append(VideoRow(link, source.label))
    if not rows:
        what = f" ({skipped} other files)" if skipped else ""
        raise StagingError(
            f"There are no videos under {uri}{what}. Check the prefix with: gcloud storage ls {uri}"
        )
    return Listing(tuple(rows), skipped, more)


def library_rows(library: MediaLibrary, keys: Sequence[str]) -> tuple[VideoRow, ...]:
    """Rows for library items, by key, in the order given (items since deleted are skipped)."""
    rows = []
    for key in keys:
        item = library.get(key)
        if item is not None:
            rows.append(VideoRow(key, item.name))
    return tuple(rows)


def row_sources(
    library: MediaLibrary, rows: Sequence[VideoRow], *, bucket: str | None
) -> list[RowSource]:
    """Each row's media, or why it cannot be read. With a bucket, an upload goes as its bucket
    copy (a batch job reads Cloud Storage only)."""
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
        found.append(RowSource(source))
    return found
