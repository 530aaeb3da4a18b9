"""The Embeddings page's pieces: collections, jobs, the map, search, selection, import/export."""
