"""Before launch: how many cells, the refused ones with their reasons, and the cost online and
as a batch job, with a confirmation above the user's own threshold.

`show` returns whether the grid may be launched as things stand: refused cells are left out
only with the user's consent, and a cost above the threshold needs its confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from components.common import kept
from reelscope.costs import batch_price, describe_price, format_usd, price_basis
from reelscope.lab.grid import VARIANT_NAMES, GridSpec
from reelscope.lab.plan import ASSUMED_OUTPUT_TOKENS, BATCH_SUGGESTED_FROM, Plan
from reelscope.settings import BACKEND_VERTEX
from reelscope.untrusted import safe_inline


@dataclass(frozen=True)
class Consent:
    leave_out_refused: bool
    over_threshold_confirmed: bool

    @property
    def ok(self) -> bool:
        return self.leave_out_refused and self.over_threshold_confirmed


def show(
    key: str,
    spec: GridSpec,
    online: Plan,
    batch: Plan | None,
    no_batch: str | None = None,
    backend: str = BACKEND_VERTEX,
) -> Consent:
    """The plan of the grid; what the user agreed to. `no_batch`: why there is no batch plan.
    Prices are `backend`'s."""
    total = len(online.cells)
    st.markdown(
        f"**{total} cells**: {len(spec.rows)} videos × {len(spec.variants)} variants × "
        f"{len(spec.models)} models · {len(online.runnable)} to send"
    )
    left, right = st.columns(2)
    left.metric("Online (estimate)", format_usd(online.usd),
                help=_cost_help(online))  # fmt: skip
    if batch is not None:
        right.metric("As a batch job (estimate)", format_usd(batch.usd), help=_cost_help(batch))
    else:
        right.metric("As a batch job", "–", help=no_batch)
    st.caption(
        f"Input tokens: {online.input_tokens:,} estimated; output assumed at up to "
        f"{ASSUMED_OUTPUT_TOKENS:,} tokens a cell ({online.output_tokens:,} in all). "
        + " ".join(dict.fromkeys(online.notes + (batch.notes if batch else ())))
    )
    with st.expander("Prices used"):
        for model in {c.model.id: c.model for c in online.cells}.values():
            price = model.price_on(backend)
            if price is None:
                st.markdown(f"**{model.name}**: {model.no_price_reason(backend)}")
                continue
            batch_rates = batch_price(price)
            batch_text = (
                f" Batch: {format_usd(batch_rates.input_usd_per_mtok)} input, "
                f"{format_usd(batch_rates.output_usd_per_mtok)} output per million tokens "
                f"({price_basis(batch_rates)})."
                if batch_rates
                else " No batch price is known."
            )
            st.markdown(f"**{model.name}**: {describe_price(price)}{batch_text}")
    if len(online.runnable) >= BATCH_SUGGESTED_FROM and batch is not None:
        st.info(
            f"{len(online.runnable)} cells: a batch job costs about half and does not use "
            "your online quota. It takes minutes to hours.",
            icon=":material/lightbulb:",
        )
    return Consent(_refused(key, spec, online), _threshold(key, online, batch))


def _refused(key: str, spec: GridSpec, plan: Plan) -> bool:
    refused = plan.refused
    if not refused:
        return True
    st.warning(f"{len(refused)} cells cannot be sent as they are:", icon=":material/block:")
    reasons: dict[str, list[str]] = {}
    for cell in refused:
        where = (
            f"{spec.rows[cell.cell.row].label} · "
            f"{spec.column_label(cell.cell.variant, cell.model.name)}"
        )
        reasons.setdefault(cell.refusal or "", []).append(where)
    for reason, cells in reasons.items():
        shown = ", ".join(cells[:6]) + (f" and {len(cells) - 6} more" if len(cells) > 6 else "")
        st.markdown(f"- {safe_inline(reason)} ({safe_inline(shown)})")
    if not plan.runnable:
        st.error("No cell can be sent: change the videos or the models.", icon=":material/block:")
        return False
    return st.checkbox(
        f"Leave these {len(refused)} cells out and send the other {len(plan.runnable)}",
        **kept.bind(f"{key}.leave_out", False),
    )


def _threshold(key: str, online: Plan, batch: Plan | None) -> bool:
    limit = st.number_input(
        "Ask me to confirm above (USD)",
        min_value=0.0,
        step=1.0,
        help="A grid whose estimate is above this asks you to confirm before anything is sent.",
        **kept.bind(f"{key}.threshold", 5.0),
    )
    highest = max(online.usd, batch.usd if batch else 0.0)
    if highest <= limit:
        return True
    return st.checkbox(
        f"Yes, send it: up to {format_usd(highest)}, above my {format_usd(limit)} limit",
        key=f"{key}.confirm",
    )


def _cost_help(plan: Plan) -> str:
    variants = sorted({VARIANT_NAMES[c.cell.variant] for c in plan.runnable})
    return (
        f"{len(plan.runnable)} cells (variants {', '.join(variants) or '–'}): their input as "
        "estimated from each video's length, plus the assumed output."
    )
