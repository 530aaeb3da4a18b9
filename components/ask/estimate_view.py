"""What a request will cost before it is sent, and what a finished run really cost beside it.

The estimate is local (reelscope/estimate.py: frames × tokens per frame at the resolution,
audio, timestamps, images, text); the countTokens answer, once asked for, sits beside it for
as long as the request stays the same. After a run, its usage is shown beside the estimate
recorded when Run was pressed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from components.ask import token_count
from reelscope.catalog import Catalog, Model, Price
from reelscope.costs import NO_PRICE, Cost, describe_price, format_usd, usage_cost
from reelscope.estimate import TokenEstimate
from reelscope.generation.events import RunError
from reelscope.generation.request import sent_instruction
from reelscope.media import MediaSource
from reelscope.media_rules import estimate_sources, fit_proposals
from reelscope.runs import Run, SourceRef
from reelscope.settings import BACKEND_NAMES, BACKEND_VERTEX


def fingerprint(
    model: Model,
    sources: Sequence[MediaSource],
    prompt: str,
    resolution: str | None,
    system_instruction: str = "",
) -> str:
    """Identifies a request's content: a count is shown only for the request it counted."""
    instruction = sent_instruction(model, system_instruction)
    return repr(
        (model.id, [SourceRef.of(s) for s in sources], prompt.strip(), resolution, instruction)
    )


def remember_count(key: str, request_id: str, result: int | RunError) -> None:
    st.session_state[f"{key}.counted"] = (request_id, result)


def show(
    key: str,
    model: Model,
    sources: Sequence[MediaSource],
    prompt: str,
    resolution: str | None,
    request_id: str,
    system_instruction: str = "",
    backend: str = BACKEND_VERTEX,
) -> TokenEstimate:
    """The estimate (and the count, if any) for this request; proposals when it does not fit.

    The system instruction, where the model takes one, is text the model reads: counted as such.
    """
    text = "\n".join(filter(None, (sent_instruction(model, system_instruction), prompt)))
    estimate = estimate_sources(model, sources, text, resolution, backend)
    kept = st.session_state.get(f"{key}.counted")
    counted = kept[1] if kept and kept[0] == request_id else None
    with st.container(border=True, key=f"{key}.box"):
        st.markdown("**Before sending**")
        with _metric_row():
            _metric("Estimated tokens", f"{estimate.total:,}", help=breakdown(estimate))
            _metric(
                "Counted tokens",
                f"{counted:,}" if isinstance(counted, int) else "–",
                help=f"The {BACKEND_NAMES[backend]}'s countTokens answer for this request: "
                "press Count tokens.",
            )
            share = estimate.share_of_limit
            _metric("Share of context", _share(share) if share is not None else "–")
            _metric(
                "Input cost",
                format_usd(estimate.cost.input_usd),
                help=cost_breakdown(estimate.cost) or None,
            )
        st.caption(breakdown(estimate))
        st.caption(price_text(model, estimate.price, backend))
        for note in estimate.notes:
            st.caption(note)
        if counted is not None:
            token_count.show(counted, model)
        if too_long(model, estimate, counted if isinstance(counted, int) else None):
            _too_long(model, estimate, sources, text, resolution)
    return estimate


# Metrics side by side, each as wide as its label and value, wrapping onto a second line where
# the layout is narrow: in four equal columns "Estimated tokens" was cut to "Estimated to…".
def _metric_row() -> Any:
    return st.container(horizontal=True, gap="medium")


def _metric(label: str, value: str, **options: Any) -> None:
    st.metric(label, value, width="content", **options)


def breakdown(estimate: TokenEstimate) -> str:
    return (
        f"{estimate.frames:,} frames → {estimate.video_tokens:,} tokens · "
        f"audio {estimate.audio_tokens:,} · timestamps {estimate.timestamp_tokens:,} · "
        f"images {estimate.image_tokens:,} · text {estimate.text_tokens:,}"
    )


def price_text(model: Model, price: Price | None, backend: str = BACKEND_VERTEX) -> str:
    if price is None:
        return f"{model.no_price_reason(backend)} The cost is not estimated."
    return describe_price(price)


def cost_breakdown(cost: Cost) -> str:
    """Where the input's dollars go, by modality, when there is more than one."""
    parts = [f"{m.lower()} {format_usd(usd)}" for m, usd in cost.input_by_modality_usd.items()]
    return " · ".join(parts) if len(parts) > 1 else ""


def record(estimate: TokenEstimate, counted: int | None, resolution: str | None) -> dict[str, Any]:
    """What a run keeps of its estimate (RunSpec.extra["estimate"]): plain, serialisable."""
    return {
        "input_tokens": estimate.total,
        "counted_tokens": counted,
        "cost_usd": estimate.cost_usd,
        "media_resolution": resolution,
    }


def counted_for(key: str, request_id: str) -> int | None:
    kept = st.session_state.get(f"{key}.counted")
    return kept[1] if kept and kept[0] == request_id and isinstance(kept[1], int) else None


def too_long(model: Model, estimate: TokenEstimate, counted: int | None) -> str | None:
    """The refusal when the request cannot fit the context: countTokens' figure wins over the
    estimate (which counts the documented maximum tokens per frame)."""
    limit = model.input_token_limit
    tokens = counted if counted is not None else estimate.total
    if limit is None or tokens <= limit:
        return None
    how = "counted" if counted is not None else "estimated"
    return (
        f"This request is {tokens:,} tokens ({how}); {model.name} takes at most {limit:,}. "
        "Clip a video, lower its frames a second or the media resolution (the estimate below "
        "proposes settings that fit), or switch to a model with a larger context."
    )


def show_actual(key: str, run: Run | None, catalog: Catalog, backend: str = BACKEND_VERTEX) -> None:
    """A finished run's usage and cost beside its estimate (nothing while it is live).

    It always takes one place on the page, empty or not: a next run's view then replaces the
    last run's figures at once, instead of leaving them on screen, dimmed, while it waits.
    """
    slot = st.empty()
    if run is None or not run.done:
        return
    estimated = run.spec.extra.get("estimate")
    usage = run.state().usage
    if not estimated or usage is None or usage.prompt_tokens is None:
        return
    recorded = run.spec.extra.get("backend")  # the one that answered it
    backend = recorded if recorded in BACKEND_NAMES else backend
    try:
        model = catalog.get(run.spec.model_id)
    except KeyError:
        price, no_price = None, NO_PRICE
    else:
        price, no_price = model.price_on(backend), model.no_price_reason(backend)
    output = (usage.output_tokens or 0) + (usage.thinking_tokens or 0)
    cost = usage_cost(price, usage, no_price=no_price)
    with slot.container(border=True, key=f"{key}.box"):
        st.markdown("**This run: estimate and actual**")
        with _metric_row():
            _metric("Estimated at Run", f"{estimated['input_tokens']:,}")
            difference = usage.prompt_tokens - estimated["input_tokens"]
            _metric(
                "Actual input tokens",
                f"{usage.prompt_tokens:,}",
                delta=f"{difference:+,} vs estimate",
                delta_color="off",
            )
            _metric("Actual output", f"{output:,}", help="Output plus thinking.")
            _metric("Actual cost", format_usd(cost.total_usd))
        st.caption(actual_text(cost))


def actual_text(cost: Cost) -> str:
    """The run's cost split into input and output, and what the figure leaves out."""
    parts = []
    if cost.input_usd is not None:
        split = cost_breakdown(cost)
        parts.append(f"Input {format_usd(cost.input_usd)}" + (f" ({split})" if split else ""))
    if cost.output_usd is not None:
        parts.append(f"output {format_usd(cost.output_usd)}, thinking included")
    return " · ".join([", ".join(parts), *cost.notes]) if parts else " ".join(cost.notes)


def _too_long(
    model: Model,
    estimate: TokenEstimate,
    sources: Sequence[MediaSource],
    prompt: str,
    resolution: str | None,
) -> None:
    limit = estimate.input_token_limit or 0
    lines = [
        f"About {estimate.total:,} tokens: more than {model.name} takes ({limit:,}), so "
        "Vertex AI would refuse it. Any one of these fits:"
    ]
    lines += [
        f"- {label}: {p.message}" for label, p in fit_proposals(model, sources, prompt, resolution)
    ]
    if len(lines) == 1:
        lines.append("- Remove a video, or use fewer or smaller images.")
    st.warning("\n".join(lines), icon=":material/warning:")


def _share(share: float) -> str:
    return f"{share:.1%}" if share >= 0.001 else f"{share:.2%}"  # 0.04%, not 0.0%
