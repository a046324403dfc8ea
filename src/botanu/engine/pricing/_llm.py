"""LLM prices from the bundled genai-prices catalog: OpenTelemetry provider names mapped
to catalog ids, token counts to its usage keys, the billed service tier to its price
context, priced at the span's time. Never fetches prices over the network.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path

from genai_prices.types import (
    ModelInfo,
    ModelPrice,
    PriceContext,
    Provider,
    StartDateConstraint,
    TimeOfDateConstraint,
    Usage,
)

from botanu.engine.pricing._rate_card import RateCard, RateCardEntry
from botanu.engine.records import SpanRecord

__all__ = [
    "LLMCatalog",
    "LLMPrice",
    "catalog_version",
    "genai_provider_id",
    "price_context",
    "select_llm_entry",
    "usage_for",
]

# OpenTelemetry gen_ai.provider.name (and older gen_ai.system spellings) -> genai-prices id.
# Needed because the catalog's own matching sends anything containing "openai" to openai.
_PROVIDER_IDS: Mapping[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "aws.bedrock": "aws",
    "aws_bedrock": "aws",
    "bedrock": "aws",
    "azure.ai.openai": "azure",
    "azure.openai": "azure",  # the published botanu SDK's spelling
    "az.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "az.ai.inference": "azure",
    "gcp.gen_ai": "google",
    "gcp.vertex_ai": "google",
    "gcp.gemini": "google",
    "vertex_ai": "google",
    "gemini": "google",
    "x_ai": "x-ai",
    "xai": "x-ai",
    "mistral_ai": "mistral",
    "mistralai": "mistral",
    "cohere": "cohere",
    "groq": "groq",
    "deepseek": "deepseek",
    "perplexity": "perplexity",
}
# the service tier a provider billed that means its standard prices
_STANDARD_TIERS = frozenset({"default", "auto", "standard", "standard_only", "scale", "on_demand"})
_MAX_CACHED_MODELS = 10_000


def genai_provider_id(provider: str | None) -> str | None:
    """The genai-prices provider id for an OpenTelemetry provider name (unknown: as given)."""
    if provider is None:
        return None
    key = provider.strip().lower()
    return _PROVIDER_IDS.get(key, key)


@cache
def catalog_version() -> str:
    """`genai-prices==<version>+sha256:<12 hex of the bundled data file>`."""
    import genai_prices
    from genai_prices import data

    digest = hashlib.sha256(Path(data.__file__).read_bytes()).hexdigest()[:12]
    return f"genai-prices=={genai_prices.__version__}+sha256:{digest}"


def price_context(service_tier: str | None) -> PriceContext | None:
    """The genai-prices price context for the tier the provider billed (None: standard)."""
    if not service_tier:
        return None
    tier = service_tier.strip().lower()
    if tier in _STANDARD_TIERS:
        return None
    if tier == "batch":
        return {"processing": "batch"}
    return {"service_tier": tier}


def usage_for(record: SpanRecord) -> Usage:
    """The span's token counts as genai-prices usage (input includes cache, output reasoning)."""
    counts = {
        "input_tokens": record.input_tokens,
        "output_tokens": record.output_tokens,
        "cache_read_tokens": record.cache_read_tokens,
        "cache_write_tokens": record.cache_write_tokens,
        "cache_write_1h_tokens": record.cache_write_1h_tokens,
        "output_reasoning_tokens": record.reasoning_tokens,
    }
    return Usage(**{key: value for key, value in counts.items() if value is not None})


class LLMPrice:
    """What the catalog said: amount, the matched ids, and when that price took effect."""

    __slots__ = ("amount", "effective_date", "model_id", "note", "provider_id")

    def __init__(
        self,
        amount: Decimal,
        provider_id: str,
        model_id: str,
        effective_date: date | None,
        note: str | None,
    ) -> None:
        self.amount = amount
        self.provider_id = provider_id
        self.model_id = model_id
        self.effective_date = effective_date
        self.note = note


class LLMCatalog:
    """The bundled catalog with model look-ups cached per (provider, model), misses too."""

    def __init__(self) -> None:
        from genai_prices.data import providers
        from genai_prices.data_snapshot import DataSnapshot

        # a private snapshot: no global state, and never the auto-updating one
        self._snapshot = DataSnapshot(providers=providers, from_auto_update=False)
        self._models: dict[tuple[str | None, str], tuple[Provider, ModelInfo] | str] = {}
        self.version = catalog_version()

    def lookup(self, provider: str | None, model: str) -> tuple[Provider, ModelInfo] | str:
        """The catalog's provider and model, or why there is none."""
        provider_id = genai_provider_id(provider)
        key = (provider_id, model.lower())
        found = self._models.get(key)
        if found is None:
            try:
                found = self._snapshot.find_provider_model(model, None, provider_id, None)
            except LookupError as exc:
                found = _UNKNOWN_PROVIDER if _no_such_provider(provider_id, exc) else _UNKNOWN
            if len(self._models) >= _MAX_CACHED_MODELS:
                self._models.clear()
            self._models[key] = found
        if isinstance(found, str):  # worded for this span, not the first one that missed
            return _lookup_miss(provider, model, unknown_provider=found == _UNKNOWN_PROVIDER)
        return found

    def model_price(
        self, provider: str | None, model: str, when: datetime, service_tier: str | None
    ) -> ModelPrice | str:
        """The catalog's price per token kind for every call of `model` at `when` (UTC)
        in `service_tier`, or why it has none a key can hold: the catalog does not know
        the model, or its price changes within the day (time-of-day prices)."""
        found = self.lookup(provider, model)
        if isinstance(found, str):
            return found
        catalog_provider, info = found
        if _time_of_day(info):
            return "prices change by time of day"
        try:
            return info.calc_price(
                Usage(input_tokens=0, output_tokens=0),
                catalog_provider,
                genai_request_timestamp=when,
                price_context=price_context(service_tier),
            ).model_price
        except ValueError as exc:
            return str(exc)

    def price(self, record: SpanRecord, model: str, when: datetime) -> LLMPrice | str:
        """The catalog price of the span's tokens at `when`, or why it cannot be priced."""
        found = self.lookup(record.provider, model)
        if isinstance(found, str):
            return found
        provider, info = found
        context = price_context(record.service_tier)
        try:
            result = info.calc_price(
                usage_for(record), provider, genai_request_timestamp=when, price_context=context
            )
        except ValueError as exc:
            return f"token counts do not add up: {exc}"
        note = None
        variant_start = None
        if context is not None:
            tier = next(iter(context.values()))
            if result.model_price == info.get_prices(when):
                # genai-prices falls back to standard prices silently; say so
                note = f"no {tier} price for {info.id} on {when.date()}: standard rates"
            else:
                note = f"{tier} rates"
                variant_start = _variant_start(info, when, context)
        effective = _price_start(info, when)
        if variant_start is not None and (effective is None or variant_start > effective):
            effective = variant_start
        return LLMPrice(result.total_price, provider.id, info.id, effective, note)


def price_with_entry(record: SpanRecord, entry: RateCardEntry) -> Decimal | str:
    """The span's tokens at a user rate card's per-million-token prices."""
    rates = ModelPrice(**dict(entry.token_prices))
    try:
        return rates.calc_price(usage_for(record))["total_price"]
    except ValueError as exc:
        return f"token counts do not add up: {exc}"


def select_llm_entry(
    card: RateCard, record: SpanRecord, model: str | None, day: date
) -> RateCardEntry | None:
    """The user entry for this span in force on `day`: token prices before a multiplier,
    then a named model before a provider-wide entry, then the latest."""
    provider = (record.provider or "").lower()
    model_key = (model or "").lower()
    best: RateCardEntry | None = None
    best_rank: tuple[bool, bool, bool, date, int] | None = None
    for entry in card.entries_for("llm"):
        if entry.effective_from > day:
            continue
        if entry.providers and provider not in entry.providers:
            continue
        if entry.models and not any(fnmatchcase(model_key, p) for p in entry.models):
            continue
        rank = (
            bool(entry.token_prices),
            bool(entry.models),
            bool(entry.providers),
            entry.effective_from,
            entry.line,
        )
        if best_rank is None or rank > best_rank:
            best, best_rank = entry, rank
    return best


_UNKNOWN = "model"
_UNKNOWN_PROVIDER = "provider"


def _time_of_day(info: ModelInfo) -> bool:
    prices = info.prices if isinstance(info.prices, list) else []
    constraints = [p.constraint for p in prices] + [v.constraint for v in info.price_variants or ()]
    return any(isinstance(c, TimeOfDateConstraint) for c in constraints)


def _no_such_provider(provider_id: str | None, exc: LookupError) -> bool:
    return provider_id is not None and str(exc).startswith("Unable to find provider")


def _lookup_miss(provider: str | None, model: str, *, unknown_provider: bool) -> str:
    if unknown_provider:
        return f"unknown provider: genai-prices has no provider {provider!r}"
    where = f" for provider {provider!r}" if provider else ""
    return f"unknown model: genai-prices has no price for {model!r}{where}"


def _price_start(info: ModelInfo, when: datetime) -> date | None:
    """The start date of the dated catalog price in force at `when` (None: undated)."""
    if not isinstance(info.prices, list):
        return None
    for conditional in reversed(info.prices):
        constraint = conditional.constraint
        if constraint is None or constraint.active(when):
            return constraint.start_date if isinstance(constraint, StartDateConstraint) else None
    return None


def _variant_start(info: ModelInfo, when: datetime, context: PriceContext) -> date | None:
    starts = [
        variant.constraint.start_date
        for variant in info.price_variants or ()
        if isinstance(variant.constraint, StartDateConstraint)
        and variant.constraint.active(when)
        and all(context.get(key) == value for key, value in variant.when.items())
    ]
    return max(starts, default=None)
