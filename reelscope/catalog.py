"""The model catalog: a data file (`models.toml`) and the loader that validates it."""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from reelscope.settings import BACKEND_GEMINI_API, BACKEND_NAMES, BACKEND_VERTEX, BACKENDS

CATALOG_FILE = Path(__file__).with_name("models.toml")

THINKING_LEVELS = ("MINIMAL", "LOW", "MEDIUM", "HIGH")
# Where a model on the Gemini Developer API is documented: its `sources` must include one.
GEMINI_API_DOCS = "https://ai.google.dev/"
MEDIA_RESOLUTIONS = ("LOW", "MEDIUM", "HIGH")


class CatalogError(ValueError):
    """The catalog file is malformed; the message names the model and the field."""


class Status(StrEnum):
    GA = "ga"
    PREVIEW = "preview"
    RETIRING = "retiring"  # still served, shutdown date announced
    RETIRED = "retired"


@dataclass(frozen=True)
class Range:
    """A numeric parameter's valid range and default, as the model card gives it."""

    min: float
    max: float
    default: float
    note: str | None = None  # what the catalog says about this default, shown beside it

    def clamp(self, value: float) -> float:
        return min(max(value, self.min), self.max)


@dataclass(frozen=True)
class ThinkingSpec:
    """How a model's thinking is controlled: by named level (Gemini 3) or token budget (2.5)."""

    control: str  # "level" | "budget"
    levels: tuple[str, ...] = ()
    default_level: str | None = None
    budget: Range | None = None
    default_budget: str = "dynamic"  # "dynamic" | "off"
    can_disable: bool = False


@dataclass(frozen=True)
class MediaTokens:
    """Tokens one video frame and one image cost, per media resolution (None = the default)."""

    frame: Mapping[str | None, int]
    image: Mapping[str | None, int]  # empty when no source gives image tokens for the model
    sources: tuple[str, ...]

    def per_frame(self, resolution: str | None) -> int:
        return self.frame.get(resolution, self.frame[None])

    def per_image(self, resolution: str | None) -> int | None:
        return self.image.get(resolution, self.image.get(None))


MODALITIES = ("TEXT", "IMAGE", "VIDEO", "AUDIO", "DOCUMENT")  # Vertex's promptTokensDetails


@dataclass(frozen=True)
class LongContext:
    """The prices of a request whose prompt is longer than `above_tokens`: for all its tokens."""

    above_tokens: int
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    cached_input_usd_per_mtok: float | None = None
    batch_input_usd_per_mtok: float | None = None
    batch_output_usd_per_mtok: float | None = None


@dataclass(frozen=True)
class Price:
    """USD per million tokens on Vertex AI's standard (online) tier, with where and when it was
    read. Thinking tokens are billed as output. reelscope/costs.py turns it into a run's cost."""

    input_usd_per_mtok: float
    output_usd_per_mtok: float | None
    as_of: dt.date
    basis: str  # what the figure is, e.g. "third-party table": never "list price" unless so
    sources: tuple[str, ...]
    input_by_modality: Mapping[str, float] = field(default_factory=dict)  # "AUDIO": 1.0
    cached_input_usd_per_mtok: float | None = None
    batch_input_usd_per_mtok: float | None = None  # Vertex batch prediction (Reelscope: online)
    batch_output_usd_per_mtok: float | None = None
    long_context: LongContext | None = None
    regional_premium_pct: float | None = None  # on top, at any location but global
    notes: tuple[str, ...] = ()  # conflicts between sources, introductory prices, gaps


NONE_ANNOUNCED = "none announced"  # a backend's `shutdown` when its page says it has none


@dataclass(frozen=True)
class BackendFacts:
    """What another backend than Vertex AI says of a model where it differs (`[models.on.X]`):
    its price there (or why none is known) and its shutdown date there, each with its sources.
    A fact the table does not give is Vertex AI's for the shutdown date, unknown for a price."""

    sources: tuple[str, ...]
    price: Price | None = None
    no_price: str = ""  # why no price is known on this backend (required without a price)
    shutdown: dt.date | None = None
    shutdown_given: bool = False  # False: the Vertex AI date holds here too
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Model:
    id: str
    name: str
    launch_stage: str
    locations: tuple[str, ...]
    sources: tuple[str, ...]
    released: dt.date | None = None
    shutdown: dt.date | None = None
    input_token_limit: int | None = None
    max_output_tokens: Range | None = None
    sampling: str = "settable"
    temperature: Range | None = None
    top_p: Range | None = None
    top_k: Range | None = None
    top_k_fixed: int | None = None
    candidate_count: Range | None = None
    thinking: ThinkingSpec | None = None
    system_instruction: bool = True  # takes a system instruction (systemInstruction)
    videos_per_prompt: int | None = None
    video_seconds_with_audio: int | None = None
    video_seconds_without_audio: int | None = None
    audio_in_video: bool = True
    video_tokens_per_frame: int | None = None
    audio_tokens_per_second: int | None = None
    notes: tuple[str, ...] = ()
    media_tokens: MediaTokens | None = None
    price: Price | None = None
    backends: tuple[str, ...] = (BACKEND_VERTEX,)  # where it is served (settings.BACKENDS)
    elsewhere: Mapping[str, BackendFacts] = field(default_factory=dict)  # by backend, not Vertex

    def status(self, today: dt.date, backend: str = BACKEND_VERTEX) -> Status:
        shutdown = self.shutdown_on(backend)
        if shutdown is not None:
            return Status.RETIRED if shutdown <= today else Status.RETIRING
        return Status(self.launch_stage)

    def is_callable(self, today: dt.date, backend: str = BACKEND_VERTEX) -> bool:
        """That backend still serves it: the app only sends requests to these."""
        return self.status(today, backend) is not Status.RETIRED

    def shutdown_on(self, backend: str) -> dt.date | None:
        """The date that backend stops serving it: its own where the catalog gives one."""
        facts = self.elsewhere.get(backend)
        return facts.shutdown if facts is not None and facts.shutdown_given else self.shutdown

    def price_on(self, backend: str) -> Price | None:
        """Its price on that backend; None where no sourced figure is known there (a Vertex AI
        price is never passed off as another backend's)."""
        if backend == BACKEND_VERTEX:
            return self.price
        facts = self.elsewhere.get(backend)
        return facts.price if facts is not None else None

    def no_price_reason(self, backend: str) -> str:
        """Why `price_on(backend)` is None, in a sentence for the page."""
        facts = self.elsewhere.get(backend)
        if backend != BACKEND_VERTEX and facts is not None and facts.no_price:
            return facts.no_price
        return f"No sourced {BACKEND_NAMES[backend]} price is known for {self.name}."

    @property
    def sampling_ignored(self) -> bool:
        return self.sampling == "ignored"

    def serves(self, location: str) -> bool:
        return location in self.locations

    def on(self, backend: str) -> bool:
        """Served by that backend (Vertex AI or the Gemini Developer API)."""
        return backend in self.backends


@dataclass(frozen=True)
class MediaFacts:
    """Media facts shared by every Gemini model (seed 003 and the model cards)."""

    video_mime_types: tuple[str, ...]
    image_mime_types: tuple[str, ...]
    inline_limit_bytes: int
    youtube_per_request: int
    stop_sequences_max: int
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Catalog:
    models: tuple[Model, ...]
    media: MediaFacts
    default_model_id: str
    _by_id: Mapping[str, Model] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {m.id: m for m in self.models})

    def get(self, model_id: str) -> Model:
        try:
            return self._by_id[model_id]
        except KeyError:
            raise KeyError(f"Unknown model {model_id!r}") from None

    @property
    def default_model(self) -> Model:
        return self._by_id[self.default_model_id]

    def default_model_on(self, backend: str, today: dt.date) -> Model:
        """The catalog's default where that backend serves it, else its first callable model
        there (the catalog lists the newest first)."""
        default = self.default_model
        if default.on(backend):
            return default
        on_backend = [m for m in self.models if m.on(backend)]
        callable_there = [m for m in on_backend if m.is_callable(today)]
        return (callable_there or on_backend or [default])[0]


def load_catalog(path: Path = CATALOG_FILE) -> Catalog:
    """Read and validate a catalog file. Raises CatalogError with the model and field at fault."""
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    return parse_catalog(data)


def parse_catalog(data: Mapping[str, Any]) -> Catalog:
    media = _parse_media(_require(data, "media", "catalog"))
    models = tuple(_parse_model(entry) for entry in data.get("models", []))
    if not models:
        raise CatalogError("catalog: no [[models]] entries")
    ids = [m.id for m in models]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CatalogError(f"catalog: duplicate model ids {duplicates}")
    default_id = _require(_require(data, "defaults", "catalog"), "model", "defaults")
    if default_id not in ids:
        raise CatalogError(f"defaults.model: {default_id!r} is not in the catalog")
    return Catalog(models=models, media=media, default_model_id=default_id)


def _parse_media(raw: Mapping[str, Any]) -> MediaFacts:
    return MediaFacts(
        video_mime_types=tuple(_require(raw, "video_mime_types", "media")),
        image_mime_types=tuple(_require(raw, "image_mime_types", "media")),
        inline_limit_bytes=int(_require(raw, "inline_limit_bytes", "media")),
        youtube_per_request=int(_require(raw, "youtube_per_request", "media")),
        stop_sequences_max=int(_require(raw, "stop_sequences_max", "media")),
        sources=tuple(_require(raw, "sources", "media")),
    )


def _parse_model(raw: Mapping[str, Any]) -> Model:
    where = f"model {raw.get('id', '?')!r}"
    model_id = _require(raw, "id", where)
    sources = tuple(_require(raw, "sources", where))
    if not sources or not all(str(s).startswith("https://") for s in sources):
        raise CatalogError(f"{where}: every fact needs a source; give https:// links in sources")
    stage = _require(raw, "launch_stage", where)
    if stage not in (Status.GA, Status.PREVIEW):
        raise CatalogError(f"{where}: launch_stage must be 'ga' or 'preview', not {stage!r}")
    sampling = raw.get("sampling", "settable")
    if sampling not in ("settable", "ignored"):
        raise CatalogError(f"{where}: sampling must be 'settable' or 'ignored'")
    top_k_raw = raw.get("top_k")
    top_k_fixed = top_k_raw.get("fixed") if isinstance(top_k_raw, Mapping) else None
    return Model(
        id=model_id,
        name=_require(raw, "name", where),
        launch_stage=stage,
        locations=tuple(_require(raw, "locations", where)),
        sources=sources,
        released=_date(raw.get("released"), where, "released"),
        shutdown=_date(raw.get("shutdown"), where, "shutdown"),
        input_token_limit=raw.get("input_token_limit"),
        max_output_tokens=_range(raw, "max_output_tokens", where),
        sampling=sampling,
        temperature=_range(raw, "temperature", where),
        top_p=_range(raw, "top_p", where),
        top_k=None if top_k_fixed is not None else _range(raw, "top_k", where),
        top_k_fixed=top_k_fixed,
        candidate_count=_range(raw, "candidate_count", where),
        thinking=_thinking(raw.get("thinking"), where),
        system_instruction=_flag(raw, "system_instruction", where, default=True),
        videos_per_prompt=raw.get("videos_per_prompt"),
        video_seconds_with_audio=raw.get("video_seconds_with_audio"),
        video_seconds_without_audio=raw.get("video_seconds_without_audio"),
        audio_in_video=bool(raw.get("audio_in_video", True)),
        video_tokens_per_frame=raw.get("video_tokens_per_frame"),
        audio_tokens_per_second=raw.get("audio_tokens_per_second"),
        notes=tuple(raw.get("notes", ())),
        media_tokens=_media_tokens(raw, where),
        price=_price(raw.get("price"), where),
        backends=(backends := _backends(raw, sources, where)),
        elsewhere=_elsewhere(raw.get("on", {}), backends, where),
    )


def _elsewhere(
    spec: Mapping[str, Any], backends: tuple[str, ...], where: str
) -> dict[str, BackendFacts]:
    facts = {}
    for backend, raw in spec.items():
        at = f"{where}: on.{backend}"
        if backend == BACKEND_VERTEX or backend not in backends:
            raise CatalogError(f"{at}: give facts only for another backend listed in backends")
        price = _price(raw.get("price"), at)
        no_price = str(raw.get("no_price", "")).strip()
        if (price is None) == (not no_price):
            raise CatalogError(f"{at}: give a price or say why none is known (no_price), not both")
        shutdown = raw.get("shutdown")
        if shutdown is not None and shutdown != NONE_ANNOUNCED:
            shutdown = _date(shutdown, at, "shutdown")
        facts[backend] = BackendFacts(
            sources=_sources(raw, at),
            price=price,
            no_price=no_price,
            shutdown=None if shutdown == NONE_ANNOUNCED else shutdown,
            shutdown_given="shutdown" in raw,
            notes=tuple(raw.get("notes", ())),
        )
    return facts


def _backends(raw: Mapping[str, Any], sources: tuple[str, ...], where: str) -> tuple[str, ...]:
    backends = tuple(raw.get("backends", (BACKEND_VERTEX,)))
    if not backends or len(set(backends)) != len(backends) or set(backends) - set(BACKENDS):
        raise CatalogError(f"{where}: backends must be distinct values from {BACKENDS}")
    if BACKEND_GEMINI_API in backends and not any(s.startswith(GEMINI_API_DOCS) for s in sources):
        raise CatalogError(
            f"{where}: a model on {BACKEND_GEMINI_API} needs its {GEMINI_API_DOCS} page in sources"
        )
    return backends


def _media_tokens(raw: Mapping[str, Any], where: str) -> MediaTokens | None:
    spec = raw.get("media_tokens")
    if spec is None:
        return None
    frame = _per_resolution(spec.get("frame"), f"{where}: media_tokens.frame")
    if None not in frame:
        raise CatalogError(f"{where}: media_tokens.frame needs a default")
    if frame[None] != raw.get("video_tokens_per_frame", frame[None]):
        raise CatalogError(f"{where}: media_tokens.frame default ≠ video_tokens_per_frame")
    image = _per_resolution(spec.get("image", {}), f"{where}: media_tokens.image")
    return MediaTokens(frame=frame, image=image, sources=_sources(spec, f"{where}: media_tokens"))


def _per_resolution(spec: Any, where: str) -> dict[str | None, int]:
    if not isinstance(spec, Mapping):
        raise CatalogError(f"{where} must be a table of token counts")
    counts: dict[str | None, int] = {}
    for key, value in spec.items():
        level = None if key == "default" else key.upper()
        if level is not None and level not in MEDIA_RESOLUTIONS:
            raise CatalogError(f"{where}: {key!r} is not default or one of {MEDIA_RESOLUTIONS}")
        if not isinstance(value, int) or value <= 0:
            raise CatalogError(f"{where}.{key} must be a positive whole number")
        counts[level] = value
    return counts


def _price(spec: Mapping[str, Any] | None, where: str) -> Price | None:
    if spec is None:
        return None
    where = f"{where}: price"
    as_of = _date(spec.get("as_of"), where, "as_of")
    if as_of is None:
        raise CatalogError(f"{where}: give as_of, the date the price was read")
    modality = spec.get("input_by_modality", {})
    if not isinstance(modality, Mapping) or any(m.upper() not in MODALITIES for m in modality):
        raise CatalogError(f"{where}: input_by_modality takes {', '.join(MODALITIES).lower()}")
    return Price(
        input_usd_per_mtok=_amount(spec, "input_usd_per_mtok", where, required=True),
        output_usd_per_mtok=_amount(spec, "output_usd_per_mtok", where),
        as_of=as_of,
        basis=str(_require(spec, "basis", where)),
        sources=_sources(spec, where),
        input_by_modality={
            name.upper(): _amount(modality, name, f"{where}.input_by_modality", required=True)
            for name in modality
        },
        cached_input_usd_per_mtok=_amount(spec, "cached_input_usd_per_mtok", where),
        batch_input_usd_per_mtok=_amount(spec, "batch_input_usd_per_mtok", where),
        batch_output_usd_per_mtok=_amount(spec, "batch_output_usd_per_mtok", where),
        long_context=_long_context(spec.get("long_context"), where),
        regional_premium_pct=_amount(spec, "regional_premium_pct", where),
        notes=tuple(spec.get("notes", ())),
    )


def _long_context(spec: Mapping[str, Any] | None, where: str) -> LongContext | None:
    if spec is None:
        return None
    where = f"{where}.long_context"
    above = spec.get("above_tokens")
    if not isinstance(above, int) or above <= 0:
        raise CatalogError(f"{where}: above_tokens must be a positive whole number")
    return LongContext(
        above_tokens=above,
        input_usd_per_mtok=_amount(spec, "input_usd_per_mtok", where, required=True),
        output_usd_per_mtok=_amount(spec, "output_usd_per_mtok", where, required=True),
        cached_input_usd_per_mtok=_amount(spec, "cached_input_usd_per_mtok", where),
        batch_input_usd_per_mtok=_amount(spec, "batch_input_usd_per_mtok", where),
        batch_output_usd_per_mtok=_amount(spec, "batch_output_usd_per_mtok", where),
    )


def _amount(
    spec: Mapping[str, Any], key: str, where: str, *, required: bool = False
) -> float | None:
    value = _require(spec, key, where) if required else spec.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise CatalogError(f"{where}: {key}: prices must be non-negative numbers")
    return float(value)


def _sources(spec: Mapping[str, Any], where: str) -> tuple[str, ...]:
    sources = tuple(spec.get("sources", ()))
    if not sources or not all(str(s).startswith("https://") for s in sources):
        raise CatalogError(f"{where}: give the https:// sources of these figures")
    return sources


def _range(raw: Mapping[str, Any], key: str, where: str) -> Range | None:
    spec = raw.get(key)
    if spec is None:
        return None
    try:
        low, high, default = spec["min"], spec["max"], spec["default"]
    except (KeyError, TypeError):
        raise CatalogError(f"{where}: {key} needs min, max and default") from None
    if not low <= default <= high:
        raise CatalogError(f"{where}: {key} default {default} is outside {low}–{high}")
    note = spec.get("note")
    if note is not None and not (isinstance(note, str) and note.strip()):
        raise CatalogError(f"{where}: {key} note must be a sentence")
    return Range(low, high, default, note)


def _thinking(spec: Mapping[str, Any] | None, where: str) -> ThinkingSpec | None:
    if spec is None:
        return None
    control = spec.get("control")
    if control == "level":
        levels = tuple(spec.get("levels", ()))
        unknown = [lvl for lvl in levels if lvl not in THINKING_LEVELS]
        if not levels or unknown:
            raise CatalogError(f"{where}: thinking levels must come from {THINKING_LEVELS}")
        default = spec.get("default")
        if default not in levels:
            raise CatalogError(f"{where}: thinking default {default!r} is not one of {levels}")
        return ThinkingSpec(control="level", levels=levels, default_level=default)
    if control == "budget":
        default = spec.get("default", "dynamic")
        can_disable = bool(spec.get("can_disable", False))
        if default not in ("dynamic", "off") or (default == "off" and not can_disable):
            raise CatalogError(f"{where}: thinking default must be 'dynamic' or 'off' (if allowed)")
        budget = Range(spec["min"], spec["max"], spec["min"])
        return ThinkingSpec(
            control="budget", budget=budget, default_budget=default, can_disable=can_disable
        )
    raise CatalogError(f"{where}: thinking control must be 'level' or 'budget'")


def _flag(raw: Mapping[str, Any], key: str, where: str, *, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise CatalogError(f"{where}: {key} must be true or false")
    return value


def _date(value: Any, where: str, key: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    raise CatalogError(f"{where}: {key} must be a TOML date (YYYY-MM-DD)")


def _require(raw: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in raw:
        raise CatalogError(f"{where}: missing {key!r}")
    return raw[key]
