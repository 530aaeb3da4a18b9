"""Sidebar panel: where requests go, with which credentials, or what to set up."""

from __future__ import annotations

import streamlit as st

from reelscope.settings import BACKEND_VERTEX
from reelscope.vertex import Connection


def show(connection: Connection) -> None:
    st.markdown("#### Connection")
    status = "Ready" if connection.ready else "Not connected"
    icon = ":green[:material/check_circle:]" if connection.ready else ":orange[:material/error:]"
    st.markdown(f"{icon} **{status}**")
    lines = [f"- Backend: {connection.backend_name} ({connection.backend_reason})"]
    if connection.backend == BACKEND_VERTEX:
        lines += [
            f"- Project: `{connection.project or 'not set'}`",
            f"- Location: `{connection.location}`",
        ]
    lines += [
        f"- Endpoint: `{connection.endpoint}`"
        + (" (override)" if connection.endpoint_overridden else ""),
        f"- Credentials: {connection.credentials_source or 'none found'}",
    ]
    st.markdown("\n".join(lines))
    if not connection.ready:
        st.warning(
            "\n\n".join(connection.problems)
            + "\n\nTo connect, run these in the shell that starts Reelscope, then restart it:"
        )
        st.code("\n".join(connection.fixes), language="bash", wrap_lines=True)
        st.caption("Everything that needs no model keeps working meanwhile.")
