"""Streamlit building blocks shared by the pages. Each is `show(key, ...) -> value`."""
