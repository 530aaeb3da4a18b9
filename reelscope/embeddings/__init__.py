"""Multimodal embeddings: models, items, jobs, the vector cache and persistent collections.

See /work/notes/embeddings-api.md (merged into docs/architecture.md) for the public API.
"""
