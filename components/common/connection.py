"""Sidebar panel: where requests go, with which credentials, or what to set up."""

from __future__ import annotations

import streamlit as st

from reelscope.vertex import Connection


def show(connection: Connection) -> None:
    st.markdown("#### Connection")
    status = "Ready" if connection.ready else "Not connected"
    icon = ":green[:material/check_circle:]" if connection.ready else ":orange[:material/error:]"
    st.markdown(f"{icon} **{status}**")
    st.markdown(
        f"- Project: `{connection.project or 'not set'}`\n"
        f"- Location: `{connection.location}`\n"
        f"- Endpoint: `{connection.endpoint}`"
        + (" (override)" if connection.endpoint_overridden else "")
        + f"\n- Credentials: {connection.credentials_source or 'none found'}"
    )
    if not connection.ready:
        st.warning(
            "\n\n".join(connection.problems)
            + "\n\nTo connect, run these in the shell that starts Reelscope, then restart it:"
        )
        st.code("\n".join(connection.fixes), language="bash", wrap_lines=True)
        st.caption("Everything that needs no model keeps working meanwhile.")
