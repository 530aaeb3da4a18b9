"""Generation parameters: per-model defaults and clamping into a model's valid ranges."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from reelscope.catalog import Model, Range

SAFETY_CATEGORIES: dict[str, str] = {
    "HARM_CATEGORY_HARASSMENT": "Harassment",
    "HARM_CATEGORY_HATE_SPEECH": "Hate speech",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT": "Sexually explicit",
    "HARM_CATEGORY_DANGEROUS_CONTENT": "Dangerous content",
}
# "DEFAULT" means: send nothing, let the model apply its own threshold.
SAFETY_THRESHOLDS: dict[str, str] = {
    "DEFAULT": "Model default",
    "BLOCK_LOW_AND_ABOVE": "Block most",
    "BLOCK_MEDIUM_AND_ABOVE": "Block some",
    "BLOCK_ONLY_HIGH": "Block few",
    "BLOCK_NONE": "Block none",
    "OFF": "Off",
}
THINKING_DYNAMIC = "dynamic"
THINKING_OFF = "off"
# Parameters bounded by a catalog range of the same name on the model.
RANGED_PARAMETERS = ("temperature", "top_p", "top_k", "max_output_tokens", "candidate_count")
SAMPLING_PARAMETERS = ("temperature", "top_p", "top_k")
# What follows the model's default across a model switch while the user has left it there.
_FOLLOW_DEFAULTS = (*RANGED_PARAMETERS, "thinking_level", "thinking_budget")


def takes(model: Model, parameter: str) -> bool:
    """Whether `model` takes `parameter` from the user: only then is a control shown for it
    and the field sent. The one place this is decided (UI, clamping and request all ask here).

    `parameter` is a GenerationParams field name. Sampling parameters on a model whose backend
    ignores them, a fixed top-K (no range), fields absent from the model's catalog entry and
    system instructions on a model the catalog marks without them are not taken; stop
    sequences, safety and streaming are taken by every model.
    """
    if parameter in SAMPLING_PARAMETERS and model.sampling_ignored:
        return False
    if parameter in RANGED_PARAMETERS:
        return getattr(model, parameter) is not None
    thinking = model.thinking
    if parameter == "thinking_level":
        return thinking is not None and thinking.control == "level"
    if parameter == "thinking_budget":
        return thinking is not None and thinking.control == "budget"
    if parameter == "system_instruction":
        return model.system_instruction
    if parameter in ("stop_sequences", "safety", "stream"):
        return True
    raise ValueError(f"Unknown generation parameter {parameter!r}")


def range_for(model: Model, parameter: str) -> Range | None:
    """The range the user may set `parameter` in on `model`; None when the model doesn't take it."""
    return getattr(model, parameter) if takes(model, parameter) else None


@dataclass(frozen=True)
class GenerationParams:
    """What the user chose. Fields a model does not take are kept but never sent."""

    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_output_tokens: int | None = None
    candidate_count: int = 1
    stop_sequences: tuple[str, ...] = ()
    thinking_level: str | None = None
    # "dynamic", "off" or a token count, for models controlled by a thinking budget.
    thinking_budget: str | int | None = None
    safety: dict[str, str] = field(default_factory=dict)
    stream: bool = True
    system_instruction: str = ""  # sent as the request's systemInstruction, where taken


@dataclass(frozen=True)
class Adjustment:
    """A value that had to change to fit the model, said the way the user reads it."""

    parameter: str
    old: object
    new: object
    reason: str

    def __str__(self) -> str:
        return f"{self.parameter}: {self.old} → {self.new} ({self.reason})"


def defaults_for(model: Model) -> GenerationParams:
    """The model's own defaults for what it takes; None for what it doesn't."""
    thinking = model.thinking
    top_k, max_tokens = range_for(model, "top_k"), range_for(model, "max_output_tokens")
    return GenerationParams(
        temperature=_default(range_for(model, "temperature")),
        top_p=_default(range_for(model, "top_p")),
        top_k=int(top_k.default) if top_k else None,
        max_output_tokens=int(max_tokens.default) if max_tokens else None,
        candidate_count=1,
        thinking_level=thinking.default_level if takes(model, "thinking_level") else None,
        thinking_budget=thinking.default_budget if takes(model, "thinking_budget") else None,
    )


def switch_model(
    old: Model | None, new: Model, params: GenerationParams, stop_sequences_max: int = 5
) -> tuple[GenerationParams, list[Adjustment]]:
    """`params`, set on `old`, carried to `new`: a value still at `old`'s default becomes `new`'s
    default (1.0 on Gemini 3.5 Flash is 0.4 on Gemini 1.0 Pro Vision), the rest is fitted into
    `new`'s ranges by clamp_to, which says what changed and why.
    """
    if old is not None:
        before, after = defaults_for(old), defaults_for(new)
        params = replace(
            params,
            **{
                name: getattr(after, name)
                for name in _FOLLOW_DEFAULTS
                if getattr(params, name) == getattr(before, name)
            },
        )
    return clamp_to(new, params, stop_sequences_max)


def clamp_to(
    model: Model, params: GenerationParams, stop_sequences_max: int = 5
) -> tuple[GenerationParams, list[Adjustment]]:
    """Fit `params` into `model`'s ranges. Returns the new params and what changed, and why.

    A parameter the new model does not take is reset to the model's default (or cleared), so a
    later switch back starts from sane values rather than from a stale one. Empty stop
    sequences are dropped; at most `stop_sequences_max` are kept (the one place of that cap).
    """
    defaults = defaults_for(model)
    changes: list[Adjustment] = []

    def fit(name: str, label: str, value: float | None, as_int: bool = False):
        spec = range_for(model, name)
        if spec is None or value is None:
            return getattr(defaults, name)
        clamped = spec.clamp(value)
        clamped = int(clamped) if as_int else clamped
        if clamped != value:
            changes.append(Adjustment(label, value, clamped, f"{model.name} allows {_fmt(spec)}"))
        return clamped

    fitted = replace(
        params,
        temperature=fit("temperature", "Temperature", params.temperature),
        top_p=fit("top_p", "Top-P", params.top_p),
        top_k=fit("top_k", "Top-K", params.top_k, as_int=True),
        max_output_tokens=fit(
            "max_output_tokens", "Max output tokens", params.max_output_tokens, as_int=True
        ),
        candidate_count=fit("candidate_count", "Responses", params.candidate_count, True),
        thinking_level=_fit_level(model, params, defaults, changes),
        thinking_budget=_fit_budget(model, params, defaults, changes),
        stop_sequences=tuple(s for s in params.stop_sequences if s),
    )
    if len(fitted.stop_sequences) > stop_sequences_max:
        kept = fitted.stop_sequences[:stop_sequences_max]
        changes.append(
            Adjustment(
                "Stop sequences",
                len(fitted.stop_sequences),
                len(kept),
                f"at most {stop_sequences_max}",
            )
        )
        fitted = replace(fitted, stop_sequences=kept)
    return fitted, changes


def _fit_level(
    model: Model, params: GenerationParams, defaults: GenerationParams, changes: list[Adjustment]
) -> str | None:
    spec = model.thinking
    if spec is None or not takes(model, "thinking_level"):
        return None
    if params.thinking_level in spec.levels:
        return params.thinking_level
    if params.thinking_level is not None:
        changes.append(
            Adjustment(
                "Thinking level",
                params.thinking_level,
                defaults.thinking_level,
                f"{model.name} takes {', '.join(spec.levels)}",
            )
        )
    return defaults.thinking_level


def _fit_budget(
    model: Model, params: GenerationParams, defaults: GenerationParams, changes: list[Adjustment]
) -> str | int | None:
    spec = model.thinking
    if spec is None or spec.budget is None or not takes(model, "thinking_budget"):
        return None
    value = params.thinking_budget
    if value == THINKING_DYNAMIC or (value == THINKING_OFF and spec.can_disable):
        return value
    if isinstance(value, int):
        clamped = int(spec.budget.clamp(value))
        if clamped != value:
            changes.append(
                Adjustment(
                    "Thinking budget", value, clamped, f"{model.name} allows {_fmt(spec.budget)}"
                )
            )
        return clamped
    if value is not None:
        changes.append(
            Adjustment("Thinking budget", value, defaults.thinking_budget, "not allowed")
        )
    return defaults.thinking_budget


def _default(spec: Range | None) -> float | None:
    return spec.default if spec else None


def _fmt(spec: Range) -> str:
    def number(x: float) -> str:
        return f"{x:,.0f}" if float(x).is_integer() and abs(x) >= 10 else f"{x:g}"

    return f"{number(spec.min)}–{number(spec.max)}"
