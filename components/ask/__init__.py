"""The Ask page's own pieces: the estimate, token count and Get code."""
