"""Media in: the source picker, clip settings, previews and the seekable player."""
