"""Embeddings: collections of video segments, images and texts on one map; select, play, search."""

from __future__ import annotations

import streamlit as st

from components.common import app_frame, prefetch, resources
from components.embeddings import (
    collection_builder,
    embedding_job,
    embedding_map,
    embedding_query,
    embedding_selection,
    embedding_transfer,
    map_follow,
)
from components.embeddings import embedding_resources as emb
from reelscope.embeddings.figures import COLOR_BY, map_figure
from reelscope.embeddings.items import EmbeddingError
from reelscope.embeddings.jobs import start_job
from reelscope.embeddings.maps import map_for
from reelscope.embeddings.models import EMBEDDING_MODELS, StoredVectorsOnly, not_served_here
from reelscope.embeddings.search_index import ensure_index
from reelscope.projection import ProjectionParams, place_query
from reelscope.untrusted import safe_inline

app_frame.run_through_entrypoint()

OPEN_KEY = "emb.open"
LINK_KEY = "emb.linked"  # the collection the address names, as last read or written
PREFETCH_KEY = "emb-prefetch"
RETRY_KEY = "emb.refit_asked"
WAIT_ICON = ":material/hourglass_top:"
settings = resources.settings()
catalog = resources.catalog()
store = emb.store(settings.data_dir)
emb.resume_stored_jobs(settings)  # a job a restart stopped goes on where it stopped
job = emb.session_job()

st.title("Embeddings")
st.caption(
    "Video segments, images and texts in one vector space: see them on a map, select points "
    "to play or read them, search with a text or an image.",
    # The app's own words. HTML has a cold tab load Markdown's code for HTML now, before
    # the map's picture (embedding_map.picture), which needs it, comes.
    unsafe_allow_html=True,
)

# The open collection is in the address (?collection=…): a link, a bookmark or a reload
# opens it, in a new tab too.
linked = st.query_params.get("collection")
if linked and linked != st.session_state.get(LINK_KEY):
    collection_builder.request_open(OPEN_KEY, linked)
# A cold tab (Plotly's code not loaded yet) shows the map's picture with as little else as
# it can: the code of every other element (the picker, the map's controls, search, selection,
# export, the forms) would load beside what the picture needs and hold it back. They come
# with the chart, when the prefetcher's tick reruns the page.
cold = not prefetch.loaded(PREFETCH_KEY)
info = collection_builder.open_collection(OPEN_KEY, store, stand_in=cold)
if linked and linked != st.session_state.get(LINK_KEY) and (info is None or info.id != linked):
    st.warning(
        f"The link names a collection that is not here ({safe_inline(linked[:80])}): it was "
        "deleted, or lives on another server. Open one of these, or build one below.",
        icon=":material/link_off:",
    )
st.session_state[LINK_KEY] = info.id if info is not None else None
if st.query_params.get("collection") != st.session_state[LINK_KEY]:
    if info is None:
        del st.query_params["collection"]
    else:
        st.query_params["collection"] = info.id


def new_collection_forms() -> None:
    """Build and import: first on the page while no collection is open, under the map once one
    is (the map's picture is then among the first elements a cold tab draws)."""
    with st.expander("Build a new collection", expanded=info is None, icon=":material/add:"):
        plan = collection_builder.build(
            "emb.build", catalog.media, settings.embedding_model, store.blobs,
            emb.prefix_lister(settings), resources.backend(settings),
        )  # fmt: skip
        busy = job is not None and not job.done
        for problem in plan.problems:
            st.warning(problem, icon=":material/block:")
        st.caption(f"{plan.name or 'The collection'}: {plan.summary()}, {plan.model.label}, "
                   f"{plan.dimension}-d.")  # fmt: skip
        if busy:
            st.caption("A job is running: wait for it, or cancel it, to build another.")
        if st.button("Build collection", type="primary", key="emb.build.go",
                     disabled=not plan.ready or busy):  # fmt: skip
            embedder = emb.connected_embedder(settings, plan.model.id, plan.dimension)
            if embedder is not None:
                try:
                    created = store.create(
                        plan.name, plan.model.id, plan.dimension, owner=resources.owner()
                    )
                    emb.keep_job(
                        start_job(
                            store, embedder, created.id, plan.items,
                            tasks=resources.tasks(), owner=resources.owner(), origin="embeddings",
                        )
                    )  # fmt: skip
                except EmbeddingError as problem:
                    st.error(str(problem), icon=":material/block:")
                else:
                    collection_builder.request_open(OPEN_KEY, created.id)
                    st.rerun()

    with st.expander("Import a file of vectors", icon=":material/upload_file:"):
        imported = embedding_transfer.import_form("emb.import", store)
        if imported is not None:
            collection_builder.request_open(OPEN_KEY, imported.id)
            st.rerun()


if info is None:
    new_collection_forms()

pending_map = None
pictured = False  # the map is its picture this run (a cold tab): the rest waits for the chart
if job is None and info is not None:  # e.g. resumed after a restart, or started in another tab
    job = emb.collection_job(info.id, resources.owner())
if info is not None:
    collection = store.open(info.id)
    if job is not None and not job.done and job.collection_id == info.id:
        st.info(
            "Embedding… the map shows the new rows when the job ends.",
            icon=":material/hourglass_top:",
        )
    if not len(collection.rows):
        st.caption("This collection has no vectors yet.")
    else:
        # A large collection's search index builds in the background (the Running list shows
        # it); queries are answered by brute force until it is stored.
        ensure_index(collection, store=store, tasks=resources.tasks(), owner=resources.owner())
        controls = st.columns([2, 2, 3])
        if cold:  # the controls' places kept, empty
            color_by, dims = st.session_state.get("emb.color_by") or "kind", 2
            for place in controls[:2]:
                place.container(height=embedding_map.CONTROLS_PX, border=False)
        else:
            color_by = (
                controls[0].segmented_control(
                    "Colour by", COLOR_BY, default="kind", key="emb.color_by"
                )
                or "kind"
            )
            view_choice = controls[1].segmented_control(
                "View", ("2-D", "3-D"), default="2-D", key="emb.dims"
            )
            dims = 3 if view_choice == "3-D" else 2
        retry = st.session_state.pop(RETRY_KEY, False)
        view = map_for(
            store, collection, ProjectionParams(dims=dims), tasks=resources.tasks(),
            owner=resources.owner(), retry=retry,
        )  # fmt: skip
        coords = view.projection.coords
        if view.pending:
            controls[2].info(view.note or "UMAP map is coming: a PCA preview.", icon=WAIT_ICON)
            pending_map = view.fit
        elif view.error:
            controls[2].warning(f"{view.error} Showing the PCA preview.")
            controls[2].button(
                "Fit the UMAP map again", key="emb.refit",
                on_click=lambda: st.session_state.__setitem__(RETRY_KEY, True),
            )  # fmt: skip
        else:
            about = f"{view.projection.method.upper()} map of {len(coords):,} rows."
            controls[2].caption(f"{about} {view.note or ''}")

        rows = collection.rows
        map_col, side_col = st.columns([3, 2], gap="medium")
        # A cold tab (no Plotly code yet) gets the map's picture, sent before the search
        # beside it so it is on screen first; a warm tab, the chart, over the picture when
        # the map is big enough for Plotly to take a while.
        pictured = cold
        chart_over = not pictured and embedding_map.under_chart(len(coords), dims)
        with map_col:
            map_box = embedding_map.box("emb.map")
        if pictured or chart_over:
            with map_box:
                embedding_map.picture(
                    "emb.map", kinds=rows.kind, sources=rows.source, coords=coords,
                    color_by=color_by, chart_over=chart_over,
                )  # fmt: skip
        embedder = None
        elsewhere = (  # the collection's model is not served here: local views only
            not_served_here(EMBEDDING_MODELS[info.model_id], resources.backend(settings))
            if info.model_id in EMBEDDING_MODELS
            else None
        )
        if elsewhere:
            st.info(elsewhere, icon=":material/cloud_off:")
            model = EMBEDDING_MODELS[info.model_id]
            embedder = StoredVectorsOnly(model, info.dimension, elsewhere)
        elif info.model_id in EMBEDDING_MODELS:
            embedder = emb.connected_embedder(settings, info.model_id, info.dimension)
        result = picked = None
        with side_col:
            st.markdown("**Search**")
            if pictured:
                st.caption("Search comes in a moment, with the map's chart.")
            else:
                result = embedding_query.show(
                    "emb.query", collection, embedder, catalog.media, store.cache
                )
                picked = (
                    embedding_query.results("emb.query", collection, result) if result else None
                )
        highlight = point = None
        if result is not None and len(result.idx):
            highlight = result.idx
            point = place_query(coords, result.idx, result.scores)
        if pictured:
            selected = []
        else:
            figure = map_figure(
                kinds=rows.kind,
                sources=rows.source,
                hover=lambda ids: [rows.hover(i) for i in ids.tolist()],  # only the drawn rows'
                coords=coords,
                color_by=color_by,
                highlight=highlight,
                query_point=point,
                query_label=result.label if result else "query",
                view=embedding_map.view("emb.map", coords),
            )
            with map_box:
                selected = embedding_map.show(
                    "emb.map", figure, selectable=dims == 2, coords=coords
                )
        chosen = selected or ([picked] if picked is not None else [])
        if not pictured:
            embedding_selection.show("emb.selection", collection, chosen)
            with st.expander("Similarity: texts × video segments", icon=":material/grid_on:"):
                embedding_query.heatmap("emb.heatmap", collection)
            with st.expander("Export", icon=":material/download:"):
                embedding_transfer.export("emb.export", collection)

if info is not None and not pictured:
    new_collection_forms()

# A map is open or what comes next: until Plotly's code has loaded, the page shows a picture
# of the map, and app.py's prefetcher has the browser load the code (its signal draws the
# chart).
prefetch.also(PREFETCH_KEY, prefetch.CHART_ELEMENTS)
embedding_job.show("emb-job", job)
map_follow.show(pending_map)
