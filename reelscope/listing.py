"""What is under a gs:// prefix: the media files Reelscope can send, listed through Cloud Storage.

One lister for every page that takes a prefix: the Lab's grid (videos, up to its row limit) and
the Embeddings builder (videos and images, thousands). A prefix is listed by its objects, not
its folders; a file is kept when its name says a media type Reelscope can send (as for any
gs:// link) and the caller accepts it; the rest is counted so the page can say so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from google.cloud import storage

from reelscope.media import MediaSource, SourceError, source_from_link
from reelscope.storage import StagingError, explained

_PREFIX_HINT = "Write it as gs://BUCKET/FOLDER/ (a bucket and the start of the objects' names)."


@dataclass(frozen=True)
class ListedFile:
    source: MediaSource  # its uri is the object's gs:// link
    size: int | None  # bytes, as Cloud Storage reports them


@dataclass(frozen=True)
class PrefixListing:
    uri: str  # gs://BUCKET/PREFIX as listed
    files: tuple[ListedFile, ...]
    skipped: int  # objects under the prefix that are not media the caller accepts
    more: bool  # the prefix holds more accepted files than the limit

    @property
    def total_bytes(self) -> int:
        return sum(f.size or 0 for f in self.files)


def parse_prefix(text: str) -> tuple[str, str]:
    """(bucket, prefix) from gs://BUCKET/PREFIX; a StagingError saying the form otherwise."""
    link = text.strip()
    if not link.startswith("gs://"):
        raise StagingError(f"{link or 'That'} is not a Cloud Storage prefix. {_PREFIX_HINT}")
    bucket, _, prefix = link.removeprefix("gs://").partition("/")
    if not bucket:
        raise StagingError(f"{link} names no bucket. {_PREFIX_HINT}")
    return bucket, prefix


def list_media(
    client: storage.Client,
    text: str,
    accept: Callable[[MediaSource], bool],
    limit: int,
) -> PrefixListing:
    """The files under a gs:// prefix that `accept` takes, by name, at most `limit`;
    StagingError (saying what to do) when the prefix cannot be listed."""
    bucket, prefix = parse_prefix(text)
    uri = f"gs://{bucket}/{prefix}"
    files: list[ListedFile] = []
    skipped = 0
    more = False
    with explained(client, bucket, uri, writing=False):
        for blob in client.list_blobs(bucket, prefix=prefix or None, page_size=1000):
            if blob.name.endswith("/"):
                continue  # a folder placeholder
            try:
                source = source_from_link(f"gs://{bucket}/{blob.name}")
            except SourceError:
                skipped += 1
                continue
            if not accept(source):
                skipped += 1
                continue
            if len(files) == limit:
                more = True
                break
            files.append(ListedFile(source, blob.size))
    return PrefixListing(uri, tuple(files), skipped, more)
