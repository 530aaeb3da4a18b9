"""Reelscope core: everything that talks to Google Cloud or shapes data, without Streamlit."""
