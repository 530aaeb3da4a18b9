"""The model catalog as tables that fit the page: what each model takes, where it runs, and
what it costs.

One table of fifteen columns was cut at the right edge; split up, with short cell texts and
the format of each column in its header's help (hover), every column is visible at 1440 px.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from reelscope.catalog import Catalog, Model, Range
from reelscope.costs import format_usd, price_basis
from reelscope.settings import BACKEND_NAMES, BACKEND_VERTEX

_RANGE_HELP = "min–max (default)"
_PER_MILLION = "USD per million tokens"
VERTEX_PRICING = "https://cloud.google.com/gemini-enterprise-agent-platform/generative-ai/pricing"
_PRICE_COLUMNS = (
    "ID", "Input", "Audio in", "Output", "Cached in", "Long prompt", "Batch", "Regional",
    "Basis", "Source",
)  # fmt: skip
GEMINI_API_PRICING = "https://ai.google.dev/gemini-api/docs/pricing"
GEMINI_API_PRICES_NOTE = (
    "USD per million tokens on the Gemini Developer API's paid tier (the models it serves); "
    "thinking is billed as output. The figures come from third-party tables of Google's Gemini "
    "API pricing page, each with its date and source; where none was found the row says so "
    "and no cost is shown. Check the source before you rely on a figure."
)
PRICES_NOTE = (
    "USD per million tokens on Vertex AI's standard tier; thinking is billed as output. "
    "Google's current Vertex AI pricing page could not be read, so these figures come from "
    "third-party tables that cite it, each with its date and source: they are not Google's list "
    "price. Check the source before you rely on a figure."
)


def show(catalog: Catalog, today: dt.date, backend: str = BACKEND_VERTEX) -> None:
    """The catalog's tables; status, shutdown dates and prices are `backend`'s."""
    st.markdown("##### Parameters and video limits")
    st.dataframe(
        [_parameters_row(m, today, backend) for m in catalog.models],
        hide_index=True,
        height=_height(len(catalog.models)),
        column_config={
            "ID": st.column_config.TextColumn("ID", width=150, pinned=True),
            "Status": st.column_config.TextColumn("Status", width=65),
            "Temperature": st.column_config.TextColumn("Temperature", width=90, help=_RANGE_HELP),
            "Top-P": st.column_config.TextColumn("Top-P", width=85, help=_RANGE_HELP),
            "Top-K": st.column_config.TextColumn(
                "Top-K", width=70, help=f"{_RANGE_HELP}, or fixed: the model ignores the setting"
            ),
            "Max output": st.column_config.TextColumn(
                "Max output", width=105, help=f"output tokens, {_RANGE_HELP}"
            ),
            "Thinking": st.column_config.TextColumn(
                "Thinking",
                width=180,
                help="levels lowest–highest (default), or a token budget min–max (default)",
            ),
            "Videos": st.column_config.TextColumn("Videos", width=55, help="videos per prompt"),
            "Video length": st.column_config.TextColumn(
                "Video length",
                width=100,
                help="longest video with audio / without audio; 'ignored': audio is not heard",
            ),
            "Tokens / frame": st.column_config.TextColumn(
                "Tok/frame", width=70, help="tokens per video frame at default resolution"
            ),
        },
    )
    st.markdown("##### Availability")
    st.dataframe(
        [_availability_row(m, today, backend) for m in catalog.models],
        hide_index=True,
        height=_height(len(catalog.models), row_px=66),
        row_height=66,  # above 4rem (64 px) Streamlit wraps long cells (the location lists)
        column_config={
            "Model": st.column_config.TextColumn("Model", width=170, pinned=True),
            "ID": st.column_config.TextColumn("ID", width=170),
            "Status": st.column_config.TextColumn("Status", width=65),
            "Released": st.column_config.TextColumn("Released", width=90),
            "Shutdown": st.column_config.TextColumn("Shutdown", width=90),
            "Source": st.column_config.LinkColumn("Source", display_text="page", width=60),
            "Locations": st.column_config.TextColumn(
                "Locations", width=310, help="where Vertex AI serves the model"
            ),
            "Backends": st.column_config.TextColumn(
                "Backends",
                width=170,
                help="which APIs serve it: Vertex AI, and the Gemini Developer API where a "
                "Gemini API page says so (status, shutdown and prices are the current "
                "backend's; limits are Vertex AI's)",
            ),
        },
    )
    st.markdown("##### Prices")
    st.caption(PRICES_NOTE if backend == BACKEND_VERTEX else GEMINI_API_PRICES_NOTE)
    st.dataframe(
        [_price_row(m, backend) for m in catalog.models if m.on(backend)],
        hide_index=True,
        height=_height(len(catalog.models), row_px=66),
        row_height=66,  # the basis wraps onto a second or third line
        column_config={
            "ID": st.column_config.TextColumn("ID", width=155, pinned=True),
            "Input": st.column_config.TextColumn("Input", width=55, help=_PER_MILLION),
            "Audio in": st.column_config.TextColumn(
                "Audio in", width=60, help=f"{_PER_MILLION}, where audio has its own price"
            ),
            "Output": st.column_config.TextColumn("Output", width=55, help=_PER_MILLION),
            "Cached in": st.column_config.TextColumn("Cached in", width=65, help=_PER_MILLION),
            "Long prompt": st.column_config.TextColumn(
                "Long prompt",
                width=130,
                help=f"above this many input tokens, every token costs input / output, "
                f"{_PER_MILLION}",
            ),
            "Batch": st.column_config.TextColumn(
                "Batch", width=100, help=f"batch prediction, input / output, {_PER_MILLION}"
            ),
            "Regional": st.column_config.TextColumn(
                "Regional", width=60, help="on top, at any location but global"
            ),
            "Basis": st.column_config.TextColumn(
                "Basis", width=150, help="what the figures are, and the date they were read"
            ),
            "Source": st.column_config.LinkColumn("Source", display_text="page", width=55),
        },
    )
    with st.expander("Notes and every source"):
        shown = [m for m in catalog.models if m.on(backend)]
        st.markdown("\n".join(_price_notes(m, backend) for m in shown))


def _parameters_row(model: Model, today: dt.date, backend: str) -> dict[str, object]:
    ignored = model.sampling_ignored
    return {
        "ID": model.id,
        "Status": model.status(today, backend).value,
        "Temperature": "ignored" if ignored else _range(model.temperature),
        "Top-P": "ignored" if ignored else _range(model.top_p),
        "Top-K": f"fixed {model.top_k_fixed}" if model.top_k_fixed else _range(model.top_k),
        "Max output": _range(model.max_output_tokens),
        "Thinking": _thinking(model),
        "Videos": _number(model.videos_per_prompt),
        "Video length": _video_length(model),
        "Tokens / frame": _number(model.video_tokens_per_frame),
    }


def _availability_row(model: Model, today: dt.date, backend: str) -> dict[str, object]:
    shutdown = model.shutdown_on(backend)
    return {
        "Model": model.name,
        "ID": model.id,
        "Status": model.status(today, backend).value,
        "Released": model.released.isoformat() if model.released else "",
        "Shutdown": shutdown.isoformat() if shutdown else "",
        "Source": model.sources[0],
        "Locations": ", ".join(model.locations),
        "Backends": ", ".join(BACKEND_NAMES[b] for b in model.backends),
    }


def _price_row(model: Model, backend: str = BACKEND_VERTEX) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(_PRICE_COLUMNS, "–") | {"ID": model.id}
    price = model.price_on(backend)
    if price is None and backend != BACKEND_VERTEX:
        return row | {"Basis": model.no_price_reason(backend), "Source": GEMINI_API_PRICING}
    if price is None:  # where a price would be: Google's page, or the one the notes cite
        cited = [url for url in model.sources if "/pricing" in url]
        return row | {"Basis": "no price found", "Source": (cited or [VERTEX_PRICING])[0]}
    long = price.long_context
    batch = (price.batch_input_usd_per_mtok, price.batch_output_usd_per_mtok)
    return row | {
        "Input": format_usd(price.input_usd_per_mtok),
        "Audio in": format_usd(price.input_by_modality.get("AUDIO")),
        "Output": format_usd(price.output_usd_per_mtok),
        "Cached in": format_usd(price.cached_input_usd_per_mtok),
        "Long prompt": (
            f">{long.above_tokens // 1000:,}k: {format_usd(long.input_usd_per_mtok)} / "
            f"{format_usd(long.output_usd_per_mtok)}"
            if long
            else "–"
        ),
        "Batch": " / ".join(format_usd(v) for v in batch) if any(batch) else "–",
        "Regional": f"+{price.regional_premium_pct:g}%" if price.regional_premium_pct else "–",
        "Basis": price_basis(price),
        "Source": price.sources[0],
    }


def _price_notes(model: Model, backend: str = BACKEND_VERTEX) -> str:
    """One list item: what the table cannot hold (conflicts, gaps, introductory prices, and
    another backend's dates)."""
    price = model.price_on(backend)
    facts = model.elsewhere.get(backend)
    if facts is not None:
        sources = ", ".join(f"[{_host(url)}]({url})" for url in facts.sources)
        said = " ".join((*facts.notes, *(price.notes if price else (facts.no_price,))))
        basis = f"{price_basis(price)}, " if price else ""
        return f"- `{model.id}`: {basis}{BACKEND_NAMES[backend]} ({sources}). {said}"
    if price is None and backend != BACKEND_VERTEX:
        return f"- `{model.id}`: {model.no_price_reason(backend)}"
    if price is None:
        said = [note.removeprefix("Price: ") for note in model.notes if note.startswith("Price:")]
        return f"- `{model.id}`: " + (" ".join(said) or "no sourced Vertex AI price found.")
    sources = ", ".join(f"[{_host(url)}]({url})" for url in price.sources)
    return f"- `{model.id}`: {price_basis(price)} ({sources}). " + " ".join(price.notes)


def _host(url: str) -> str:
    parts = url.split("/")
    return "/".join(parts[3:5]) if "github.com" in url else parts[2]


def _height(rows: int, row_px: int = 35) -> int:
    return rows * row_px + 38  # every model visible without scrolling the table


def _video_length(model: Model) -> str:
    def minutes(seconds: int | None) -> str:
        return f"{seconds / 60:g}" if seconds else "–"

    if not (model.video_seconds_with_audio or model.video_seconds_without_audio):
        return "–"
    with_audio = minutes(model.video_seconds_with_audio) if model.audio_in_video else "ignored"
    return f"{with_audio} / {minutes(model.video_seconds_without_audio)} min"


def _number(value: int | None) -> str:
    return "–" if value is None else str(value)


def _range(spec: Range | None) -> str:
    if spec is None:
        return "–"
    return f"{spec.min:g}–{spec.max:g} ({spec.default:g})"


def _thinking(model: Model) -> str:
    spec = model.thinking
    if spec is None:
        return "–"
    if spec.control == "level":
        levels = [level.lower() for level in spec.levels]
        shown = ", ".join(levels) if len(levels) <= 2 else f"{levels[0]}–{levels[-1]}"
        return f"{shown} ({spec.default_level.lower()})"
    return f"budget {spec.budget.min:g}–{spec.budget.max:g} ({spec.default_budget})"
