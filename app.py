"""Reelscope: entry point. Page config, navigation, the sidebar, and following live work."""

from __future__ import annotations

import streamlit as st

from components.common import connection, follow, prefetch, resources, running, sign_in
from reelscope.settings import AUTH_OIDC
from reelscope.vertex import describe_connection

st.set_page_config(page_title="Reelscope", page_icon="🎞️", layout="wide")
PAGES = [
    st.Page("pages/ask.py", title="Ask", icon=":material/chat:", default=True),
    st.Page("pages/models.py", title="Models", icon=":material/menu_book:"),
    st.Page("pages/chapters.py", title="Chapters", icon=":material/timeline:", url_path="chapters"),
    st.Page(
        "pages/embeddings.py",
        title="Embeddings",
        icon=":material/scatter_plot:",
        url_path="embeddings",
    ),
    st.Page(
        "pages/compare.py",
        title="Side by side",
        icon=":material/view_column:",
        url_path="compare",
    ),
    st.Page("pages/lab.py", title="Lab", icon=":material/grid_on:", url_path="lab"),
    st.Page("pages/history.py", title="History", icon=":material/history:", url_path="history"),
    st.Page(
        "pages/library.py",
        title="Library",
        icon=":material/video_library:",
        url_path="library",
    ),
]
# Before anything is drawn: a session without a verified user (IAP) or a signed-in one (OIDC)
# stops here.
if resources.settings().auth == AUTH_OIDC:
    sign_in.require([page.url_path for page in PAGES])
owner = resources.owner()
navigation = st.navigation(PAGES)
follow.begin()
with st.sidebar:
    st.markdown("## :material/movie: Reelscope")
    running_list = st.container()  # filled after the page: it knows what the page follows
    connection.show(describe_connection(resources.settings()))
    if resources.settings().auth == AUTH_OIDC:
        sign_in.show_user(owner)
navigation.run()
prefetch.show()  # after the page: what other pages need, loaded while the user reads this one
with running_list:
    data_dir = resources.settings().data_dir
    running.show("running", resources.tasks(), owner, resources.store_if_open(data_dir))
follow.run()  # live work the page (and then the Running list) asked to follow, until it settles
