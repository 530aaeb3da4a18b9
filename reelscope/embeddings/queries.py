"""A search query's vector: the one already stored when the query is known, else one call.

A text typed exactly as a text row of the collection, or an image that is one of its images,
has its vector in the collection already; a text or an image embedded before into any
collection of the same model and size has it in the vector cache. Either is the vector a call
would return (same model, same content, same dimension), so the query costs no call. The
collection's rows count only when the embedder is the collection's own model and size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reelscope.embeddings.items import Item, ItemKind, plan_calls, text_items
from reelscope.embeddings.models import Embedder, embed_query
from reelscope.embeddings.store import Collection, VectorCache

FROM_COLLECTION = "this collection"
FROM_CACHE = "the vector cache"


@dataclass(frozen=True)
class QueryVector:
    vector: np.ndarray
    stored_in: str | None = None  # where the vector was found (no call made); None: embedded


def query_vector(
    embedder: Embedder,
    collection: Collection,
    cache: VectorCache,
    *,
    text: str | None = None,
    image: Item | None = None,
) -> QueryVector:
    """The vector of a text or an image query in the embedder's space; a call only when it is
    stored nowhere. Raises EmbeddingError for an empty query, the SDK's errors for a failed call."""
    item = image if image is not None else _text_item(text)
    if item is not None:
        stored = _stored(embedder, collection, cache, item)
        if stored is not None:
            return stored
    return QueryVector(np.asarray(embed_query(embedder, text=text, image=image), np.float32))


def _text_item(text: str | None) -> Item | None:
    items = text_items(text or "", one_per_line=False)  # the text as the builder keeps it
    return items[0] if items else None


def _stored(
    embedder: Embedder, collection: Collection, cache: VectorCache, item: Item
) -> QueryVector | None:
    info = collection.info
    if info.model_id == embedder.model.id and info.dimension == embedder.dimension:
        row = matching_row(collection, item)
        if row is not None:
            vector = np.array(collection.vectors[row], dtype=np.float32)
            return QueryVector(vector, FROM_COLLECTION)
    cached = cache.get(plan_calls(item, embedder.model)[0].cache_key, embedder.dimension)
    if cached:
        return QueryVector(np.asarray(cached[0].vector, np.float32), FROM_CACHE)
    return None


def matching_row(collection: Collection, item: Item) -> int | None:
    """The first row that is this very text (exactly as kept) or image (same bytes)."""
    rows = collection.rows
    if item.kind is ItemKind.TEXT:
        values, wanted = rows.text, item.text
    elif item.kind is ItemKind.IMAGE and item.sha256:
        values, wanted = rows.blob_sha, item.sha256
    else:
        return None
    kinds = np.asarray(rows.kind).astype(str)
    for row in np.flatnonzero(kinds == str(item.kind)):
        if values[row] == wanted:
            return int(row)
    return None
