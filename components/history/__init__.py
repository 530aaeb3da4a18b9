"""The History page's pieces: the runs table and the comparison of two runs."""
