"""Search a collection: a typed text or a dropped image, embedded with the collection's model.

Its nearest rows are ranked by cosine similarity in the full vector space (not on the 2-D map),
listed with their scores — pick one to play it — and handed back so the map can highlight them
and place the query among them (a weighted mean of their map positions: `reducer.transform`
costs ~54 s on its first call). The query's vector is kept, so reruns do not embed it again;
a query that is a row of the collection, or in the vector cache, is not embedded at all
(reelscope/embeddings/queries.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from components.common import resources
from reelscope.catalog import MediaFacts
from reelscope.embeddings.items import EmbeddingError, item_from_source
from reelscope.embeddings.maps import query_collection, similarity_matrix
from reelscope.embeddings.models import Embedder
from reelscope.embeddings.queries import query_vector
from reelscope.embeddings.store import Collection, VectorCache
from reelscope.media import SourceError
from reelscope.untrusted import plot_text

K_DEFAULT = 10
HEATMAP_TEXTS_MAX = 40
HEATMAP_SEGMENTS_MAX = 120


@dataclass(frozen=True)
class QueryResult:
    label: str
    vector: np.ndarray
    idx: np.ndarray  # row ids, best first
    scores: np.ndarray  # cosine similarities, same order
    stored_in: str | None = None  # where its vector was found without a call


def show(
    key: str,
    collection: Collection,
    embedder: Embedder | None,
    media: MediaFacts,
    cache: VectorCache,
) -> QueryResult | None:
    """The query form and its ranked neighbours; the current result, or None."""
    if embedder is None:
        st.caption(
            "This collection's vectors came from a file without a known model: a text or an "
            "image cannot be placed in its space. Select points on the map instead."
        )
        return None
    with st.form(f"{key}.form", border=False):
        text_col, image_col = st.columns([3, 2])
        text = text_col.text_input(
            "Search with a text", placeholder="a red scene", key=f"{key}.text"
        )
        image = image_col.file_uploader(
            "…or an image", type=["png", "jpg", "jpeg", "webp"], key=f"{key}.image"
        )
        k = st.slider("Neighbours", 1, 50, K_DEFAULT, key=f"{key}.k")
        asked = st.form_submit_button("Search", icon=":material/search:", key=f"{key}.search")
    if asked:
        _ask(key, collection, embedder, cache, media, text, image)
    found = st.session_state.get(_result_key(key))
    if found is None or found[0] != collection.info.content_hash:
        return None
    _, label, vector, stored_in = found
    found = query_collection(collection, vector, k=min(k, len(collection.rows)))
    return QueryResult(label, vector, np.asarray(found.rows), np.asarray(found.scores), stored_in)


def _ask(key, collection, embedder, cache, media, text: str, image) -> None:
    try:
        with st.spinner(f"Embedding the query with {embedder.model.label}…"):
            if image is not None:
                added = resources.library().add_upload(
                    image.name, image, media, owner=resources.owner(), size_hint=image.size
                )
                source = added.source
                item = item_from_source(source, collection.blobs)
                found, label = query_vector(embedder, collection, cache, image=item), image.name
            else:
                found = query_vector(embedder, collection, cache, text=text)
                label = text.strip()
    except (EmbeddingError, SourceError) as problem:
        st.error(str(problem), icon=":material/block:")
        return
    except Exception as problem:  # an SDK error: say it, keep the page
        st.error(f"The query could not be embedded: {problem}", icon=":material/error:")
        return
    vector = found.vector
    if vector.shape[-1] != collection.vectors.shape[1]:
        st.error(
            f"The query has {vector.shape[-1]} dimensions, the collection "
            f"{collection.vectors.shape[1]}: they are different spaces and cannot be compared."
        )
        return
    kept = (collection.info.content_hash, label, vector, found.stored_in)
    st.session_state[_result_key(key)] = kept


def _result_key(key: str) -> str:
    return f"{key}.result"


def results(key: str, collection: Collection, result: QueryResult) -> int | None:
    """The ranked neighbours as a table; the row id the user picked to play, if any."""
    rows = collection.rows
    table = {
        "score": np.round(result.scores.astype(np.float64), 4),
        "kind": [str(rows.kind[i]) for i in result.idx],
        "what": [rows.hover(int(i)) for i in result.idx],
        "row": result.idx.astype(np.int64),
    }
    st.markdown("**Nearest rows** (cosine similarity in the full space) to:")
    st.text(_clip(result.label, 200))  # the user's words: text, never Markdown
    if result.stored_in:
        st.caption(f"Its vector was already in {result.stored_in}: no call was made.")
    state = st.dataframe(
        table,
        key=f"{key}.table",
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        column_config={
            "score": st.column_config.ProgressColumn(
                "score", min_value=-1.0, max_value=1.0, format="%.3f"
            ),
            "row": None,
        },
    )
    picked = state.selection.rows if state else []
    return int(result.idx[picked[0]]) if picked else None


def heatmap(key: str, collection: Collection) -> None:
    """Cosine similarity of every text row against every video segment row (Plotly)."""
    rows = collection.rows
    kinds = np.asarray(rows.kind).astype(str)
    texts = np.flatnonzero(kinds == "text")[:HEATMAP_TEXTS_MAX]
    segments = np.flatnonzero(kinds == "video")[:HEATMAP_SEGMENTS_MAX]
    if not len(texts) or not len(segments):
        st.caption("The heatmap needs at least one text and one video segment in the collection.")
        return
    similarity = similarity_matrix(collection, texts, segments)
    figure = go.Figure(
        go.Heatmap(
            z=similarity,
            x=np.array([_axis_label(rows.hover(int(i))) for i in segments], dtype=object),
            y=np.array([_axis_label(rows.label[int(i)]) for i in texts], dtype=object),
            colorscale="Viridis",
            colorbar={"title": {"text": "cosine"}},
            hovertemplate="%{y}<br>%{x}<br>cosine %{z:.3f}<extra></extra>",
        )
    )
    figure.update_layout(
        height=max(260, 26 * len(texts) + 160), margin={"l": 10, "r": 10, "t": 10, "b": 10}
    )
    figure.update_xaxes(tickangle=-40)
    st.plotly_chart(figure, key=f"{key}.heatmap", config={"displaylogo": False})
    if len(texts) == HEATMAP_TEXTS_MAX or len(segments) == HEATMAP_SEGMENTS_MAX:
        st.caption(
            f"The first {HEATMAP_TEXTS_MAX} texts and {HEATMAP_SEGMENTS_MAX} segments are shown."
        )


def _axis_label(text: str) -> str:
    return plot_text(_clip(text, 40))  # Plotly renders a subset of HTML in labels


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
