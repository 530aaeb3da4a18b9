"""The Models page's pieces: the catalog table."""
