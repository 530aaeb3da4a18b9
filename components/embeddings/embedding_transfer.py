"""Export a collection (Parquet; NPY + JSON) and import a file of vectors with labels.

Downloads are made when clicked (Streamlit calls the data function then), so an open page does
not write a 50k-row Parquet file on every rerun. An import becomes a collection of its own,
opened on the map at once.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import streamlit as st

from components.common import resources
from reelscope.embeddings.items import EmbeddingError
from reelscope.embeddings.store import Collection, CollectionInfo, EmbeddingStore
from reelscope.untrusted import safe_inline

IMPORT_TYPES = ["parquet", "npy", "json"]


def export(key: str, collection: Collection) -> None:
    """Download buttons for the collection's vectors and what each row is."""
    stem = _stem(collection.info.name)
    parquet_col, npy_col, json_col = st.columns(3)
    parquet_col.download_button(
        "Parquet (vectors + rows)",
        data=lambda: _parquet_bytes(collection),
        file_name=f"{stem}.parquet",
        mime="application/vnd.apache.parquet",
        key=f"{key}.parquet",
        icon=":material/download:",
        on_click="ignore",
    )
    npy_col.download_button(
        "NPY (vectors)",
        data=lambda: _npy_pair(collection)[0],
        file_name=f"{stem}.npy",
        mime="application/octet-stream",
        key=f"{key}.npy",
        icon=":material/download:",
        on_click="ignore",
    )
    json_col.download_button(
        "JSON (rows)",
        data=lambda: _npy_pair(collection)[1],
        file_name=f"{stem}.json",
        mime="application/json",
        key=f"{key}.json",
        icon=":material/download:",
        on_click="ignore",
    )
    st.caption(
        "The NPY file holds the (rows × dimensions) float32 matrix; the JSON file says what each "
        "row is, in the same order. Import either form back, here or anywhere."
    )


def _parquet_bytes(collection: Collection) -> bytes:
    from reelscope.embeddings.transfer import export_parquet  # pyarrow: only when asked

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "collection.parquet"
        export_parquet(collection, path)
        return path.read_bytes()


def _npy_pair(collection: Collection) -> tuple[bytes, bytes]:
    from reelscope.embeddings.transfer import export_npy

    with tempfile.TemporaryDirectory() as folder:
        npy, labels = export_npy(collection, Path(folder))
        return Path(npy).read_bytes(), Path(labels).read_bytes()


def import_form(key: str, store: EmbeddingStore) -> CollectionInfo | None:
    """Upload a Parquet file, or an .npy with its .json labels; the new collection, if made."""
    round_key = f"{key}.round"  # a fresh uploader after each import: it empties
    st.session_state.setdefault(round_key, 0)
    files = st.file_uploader(
        "A Parquet file (a vector column and labels), or an .npy file with its .json labels",
        type=IMPORT_TYPES,
        accept_multiple_files=True,
        key=f"{key}.files.{st.session_state[round_key]}",
    )
    name = st.text_input("Name for the imported collection", key=f"{key}.name")
    if not st.button("Import", key=f"{key}.go", disabled=not files, icon=":material/upload:"):
        return None
    try:
        info = _import(store, files, name)
    except EmbeddingError as problem:  # it may quote the file (a name, a reader's message)
        st.error(safe_inline(str(problem)), icon=":material/block:")
        return None
    st.session_state[round_key] += 1
    return info


def _import(store: EmbeddingStore, files, name: str) -> CollectionInfo:
    from reelscope.embeddings.transfer import import_file

    by_suffix: dict[str, object] = {}
    for file in files:
        by_suffix.setdefault(Path(file.name).suffix.lower(), file)
    main = by_suffix.get(".parquet") or by_suffix.get(".npy")
    if main is None:
        raise EmbeddingError(
            "Add the vectors: a .parquet file, or an .npy file (with its .json labels)."
        )
    with tempfile.TemporaryDirectory() as folder:
        stem = _stem(Path(main.name).stem)  # names the collection when the file does not
        main_path = Path(folder) / f"{stem}{Path(main.name).suffix.lower()}"
        main_path.write_bytes(main.getvalue())
        labels = by_suffix.get(".json")
        if labels is not None and main_path.suffix == ".npy":
            (Path(folder) / f"{stem}.json").write_bytes(labels.getvalue())
        return import_file(store, main_path, name.strip() or None, owner=resources.owner())


def _stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "collection"
