"""Sign-in with st.login (REELSCOPE_AUTH=oidc): the one screen a signed-out session gets, and
the signed-in user's name and Sign out in the sidebar.

Streamlit does the OpenID Connect flow with the provider in secrets.toml's [auth] and keeps
the user's claims in `st.user`; reelscope/sign_in.py decides whose email counts.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from reelscope.sign_in import email_of
from reelscope.untrusted import safe_inline


def require(url_paths: Sequence[str]) -> None:
    """Unless someone is signed in, the sign-in screen, and the script run ends (app.py calls
    it first). The screen answers at each of the app's own addresses (`url_paths`), so a
    bookmarked page signs in too; with no st.navigation in a script run, Streamlit would list
    the pages/ folder in the sidebar instead."""
    if email_of(st.user.to_dict()) is not None:
        return
    pages = [st.Page(_screen, title="Sign in", default=True)] + [
        st.Page(_screen, title="Sign in", url_path=path) for path in url_paths if path
    ]
    st.navigation(pages, position="hidden").run()
    st.stop()


def user_or_stop() -> str:
    """The signed-in user's email (app.py's `require` let nobody else this far)."""
    email = email_of(st.user.to_dict())
    if email is None:
        st.error("Sign in to use Reelscope.", icon=":material/no_accounts:")
        st.stop()
        raise AssertionError("st.stop() returned")  # for type checkers: st.stop ends the run
    return email


def _screen() -> None:
    st.title("Reelscope")
    if st.user.is_logged_in:
        # Signed in, but the provider gave no email it vouches for: nothing to own work by.
        st.error(
            "Your sign-in gave Reelscope no verified email address, so it cannot keep your "
            "work apart from others'. Sign in with an account that has one, or ask whoever "
            "set up the provider to include the `email` scope.",
            icon=":material/no_accounts:",
        )
        st.button("Sign out", on_click=st.logout, key="sign-in.out")
    else:
        st.write("Sign in to open the studio: your runs, videos and collections are kept as yours.")
        st.button("Sign in", type="primary", on_click=st.login, key="sign-in.in")


def show_user(email: str) -> None:
    """Who is signed in, and Sign out (in the sidebar)."""
    st.caption(f"Signed in as {safe_inline(email)}")
    st.button("Sign out", on_click=st.logout, key="sign-in.out", type="tertiary")
