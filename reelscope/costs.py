"""What a request or a run costs, decided once: one function from tokens and the catalog's price,
one way to write US dollars.

Ask (before and after a run), History and Side by side all call `cost_of` (through `usage_cost`
for a run's reported usage) and write amounts with `format_usd`, so the same run shows the same
figure everywhere. The price is the catalog's (reelscope/catalog.py `Price`) for the backend that
answers (`Model.price_on`): USD per million tokens on Vertex AI's standard tier or the Gemini
Developer API's paid tier, read from third-party tables that cite Google's pages.

How a cost is made, as Vertex bills it:
- input: each modality's tokens at its own rate where the price has one (audio, on some
  models), the rest at the input rate; cached tokens at the cached rate where there is one;
- output: the response and the thinking tokens, both at the output rate;
- a prompt longer than a long-context threshold pays the long-context rates for every token.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from reelscope.catalog import Price
from reelscope.generation.events import Usage

NO_PRICE = "No Vertex price is known for this model, so there is no cost."
NO_OUTPUT_PRICE = "No output price is known for this model: the cost covers input only."
NO_USAGE = "The backend reported no token usage, so there is no cost."
PER_MILLION = 1_000_000
BATCH_TIER = "batch"  # a run's spec.extra["tier"] when a Vertex AI batch job answered it


@dataclass(frozen=True)
class TokenUse:
    """Tokens to price: a request's estimate (output unknown) or a run's reported usage."""

    input_tokens: int
    output_tokens: int | None = None  # response + thinking; None before the run
    input_by_modality: Mapping[str, int] = field(default_factory=dict)  # part of input_tokens
    cached_tokens: int = 0  # part of input_tokens, served from Vertex's context cache


@dataclass(frozen=True)
class Cost:
    """USD for input and output (None where it cannot be known), and what the figure leaves out."""

    input_usd: float | None
    output_usd: float | None
    input_by_modality_usd: Mapping[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def total_usd(self) -> float | None:
        """Input plus output; None unless both are known (a partial sum is not a run's cost)."""
        if self.input_usd is None or self.output_usd is None:
            return None
        return self.input_usd + self.output_usd


def cost_of(price: Price | None, use: TokenUse, *, no_price: str = NO_PRICE) -> Cost:
    """The cost of `use` at `price`: the one place a cost is computed. `no_price` says why
    there is none when `price` is None (catalog `Model.no_price_reason` for the backend)."""
    if price is None:
        return Cost(None, None, notes=(no_price,))
    notes: list[str] = []
    input_rate, output_rate, cached_rate, modality_rates = _rates(price, use.input_tokens, notes)
    by_modality = {
        modality: tokens * modality_rates.get(modality, input_rate) / PER_MILLION
        for modality, tokens in use.input_by_modality.items()
    }
    rest = max(use.input_tokens - sum(use.input_by_modality.values()), 0)
    input_usd = sum(by_modality.values()) + rest * input_rate / PER_MILLION
    if modality_rates and not use.input_by_modality and use.input_tokens:
        names = " and ".join(m.lower() for m in modality_rates)
        notes.append(
            f"Vertex AI did not say how many input tokens were {names}, which has its own "
            "price: every input token is priced at the input rate."
        )
    if use.cached_tokens and cached_rate is not None:
        input_usd -= use.cached_tokens * (input_rate - cached_rate) / PER_MILLION
    elif use.cached_tokens:
        notes.append("No cached-input price is known: cached tokens are priced as input.")
    return Cost(input_usd, _output_usd(use, output_rate, notes), by_modality, tuple(notes))


def usage_cost(price: Price | None, usage: Usage | None, *, no_price: str = NO_PRICE) -> Cost:
    """A run's cost from the usage the backend reported (its last usage event)."""
    if usage is None or usage.prompt_tokens is None:
        return Cost(None, None, notes=(NO_USAGE,))
    use = TokenUse(
        input_tokens=usage.prompt_tokens,
        output_tokens=(usage.output_tokens or 0) + (usage.thinking_tokens or 0),
        input_by_modality=dict(usage.prompt_by_modality),
        cached_tokens=usage.cached_tokens or 0,
    )
    return cost_of(price, use, no_price=no_price)


def batch_price(price: Price | None) -> Price | None:
    """The price of the same tokens sent as a Vertex AI batch job (the catalog's batch rates),
    or None where the catalog has none: a cost at the online price is never passed off as one."""
    if price is None or price.batch_input_usd_per_mtok is None:
        return None
    long = price.long_context
    if long is not None and long.batch_input_usd_per_mtok is not None:
        long = replace(
            long,
            input_usd_per_mtok=long.batch_input_usd_per_mtok,
            output_usd_per_mtok=long.batch_output_usd_per_mtok or long.output_usd_per_mtok,
            cached_input_usd_per_mtok=None,
        )
    elif long is not None:
        return None  # a long prompt's batch rate is unknown
    return replace(
        price,
        input_usd_per_mtok=price.batch_input_usd_per_mtok,
        output_usd_per_mtok=price.batch_output_usd_per_mtok,
        input_by_modality={},  # batch rates are given for all input alike
        cached_input_usd_per_mtok=None,
        long_context=long,
        basis=f"{price.basis}, batch rate",
    )


def format_usd(amount: float | None) -> str:
    """US dollars as every page writes them: four significant digits (a run often costs a
    fraction of a cent, a price per million tokens can be $1.875), at least the cents, "–" when
    unknown. For costs and prices per million tokens alike."""
    if amount is None or not math.isfinite(amount):
        return "–"
    digits = 2 if amount == 0 else max(2, min(8, 3 - math.floor(math.log10(abs(amount)))))
    whole, _, fraction = f"{amount:,.{digits}f}".partition(".")
    return f"${whole}.{fraction.rstrip('0').ljust(2, '0')}"


def price_basis(price: Price) -> str:
    """What a price is and when it was read, e.g. "third-party table, as of 2026-08-21"."""
    return f"{price.basis}, as of {price.as_of.isoformat()}"


def describe_price(price: Price) -> str:
    """The price in one paragraph (Markdown, the sources as links), never as Google's list price."""
    rates = [f"{format_usd(price.input_usd_per_mtok)} input"]
    rates += [f"{format_usd(r)} {m.lower()} input" for m, r in price.input_by_modality.items()]
    if price.output_usd_per_mtok is not None:
        rates.append(f"{format_usd(price.output_usd_per_mtok)} output (thinking included)")
    text = f"Price per million tokens: {', '.join(rates)}"
    if (long := price.long_context) is not None:
        text += (
            f"; above {long.above_tokens:,} input tokens {format_usd(long.input_usd_per_mtok)} "
            f"input, {format_usd(long.output_usd_per_mtok)} output"
        )
    if price.regional_premium_pct:
        text += f"; {price.regional_premium_pct:g}% more at any location but global"
    sources = ", ".join(f"[source]({url})" for url in price.sources)
    text += f". Figures from a {price_basis(price)} ({sources}), not Google's list price."
    return " ".join([text, *price.notes])


def _rates(
    price: Price, input_tokens: int, notes: list[str]
) -> tuple[float, float | None, float | None, Mapping[str, float]]:
    """Input, output and cached rates and the per-modality input rates that apply."""
    long = price.long_context
    if long is not None and input_tokens > long.above_tokens:
        notes.append(
            f"Over {long.above_tokens:,} input tokens: the long-context price applies to every "
            "token of the request."
        )
        return long.input_usd_per_mtok, long.output_usd_per_mtok, long.cached_input_usd_per_mtok, {}
    return (
        price.input_usd_per_mtok,
        price.output_usd_per_mtok,
        price.cached_input_usd_per_mtok,
        price.input_by_modality,
    )


def _output_usd(use: TokenUse, rate: float | None, notes: list[str]) -> float | None:
    if use.output_tokens is None:
        return None  # before the run: nothing is known of the output yet
    if rate is None:
        if use.output_tokens:
            notes.append(NO_OUTPUT_PRICE)
            return None
        return 0.0
    return use.output_tokens * rate / PER_MILLION
