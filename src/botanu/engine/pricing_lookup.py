"""Explaining a price: what one million tokens of each kind cost for a model on a day,
priced through the same `Pricer` as real spans, so user rate cards show too. Each context
tier (a higher rate for long prompts) is its own set of rows, base tier first. Rates are
USD; a user price in another currency also shows its own figure and the rate used."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from genai_prices.types import TieredPrices

from botanu.engine.pricing import Pricer, price_context
from botanu.engine.pricing._llm import LLMCatalog
from botanu.engine.records import CostLine, SpanRecord
from botanu.engine.service import default_pricer

__all__ = ["PRICE_COLUMNS", "TABLE_COLUMNS", "explain_llm_price"]

MILLION = 1_000_000
BASE_TIER = "base"
# the rows' fields, in order; the table leaves out the two that its usage label repeats
PRICE_COLUMNS = (
    "usage",
    "tier",
    "prompt_tokens_over",
    "per_million_tokens",
    "source",
    "matched_model",
    "effective_date",
    "detail",
)
TABLE_COLUMNS = tuple(c for c in PRICE_COLUMNS if c not in ("tier", "prompt_tokens_over"))
# usage label -> extra token counts on a call of N prompt tokens that shows that usage's rate
_USAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("input", ()),
    ("cached input", ("cache_read_tokens",)),
    ("cache write", ("cache_write_tokens",)),
    ("output", ()),
)


def explain_llm_price(
    provider: str, model: str, when: datetime, service_tier: str | None = None
) -> list[dict[str, Any]]:
    """One row per usage and context tier (base tier first), each rate measured on a call
    the engine prices: a tier's rows come from a prompt inside that tier."""
    probe = _Probe(default_pricer(), provider, model, when, service_tier)
    fee = probe.amount(probe.price(0))  # a per-request fee, kept out of the token rates
    rows: list[dict[str, Any]] = []
    previous: list[Decimal | None] | None = None
    starts = _tier_starts(provider, model, when, service_tier)
    # (tier start, prompt size inside the tier); a tier from 0 tokens leaves no base tier
    tiers: list[tuple[int | None, int]] = (
        [(None, starts[0] if starts else MILLION)] if not starts or starts[0] else []
    )
    tiers += [(start, start + 1) for start in starts]
    for start, prompt in tiers:
        tier_rows = [
            _row(probe, usage, extra, prompt=prompt, fee=fee, start=start)
            for usage, extra in _USAGES
        ]
        rates = [row["per_million_tokens"] for row in tier_rows]
        if rates != previous:  # a tier the engine charges no differently is no tier
            rows.extend(tier_rows)
            previous = rates
    return rows


class _Probe:
    """Prices made-up calls of the model through the pricer, as real spans are."""

    def __init__(
        self, pricer: Pricer, provider: str, model: str, when: datetime, tier: str | None
    ) -> None:
        self.pricer, self.provider, self.model, self.tier = pricer, provider, model, tier
        self.start_ns = int(when.timestamp() * 1e9)
        self.day = when.date()

    def price(self, prompt: int, output: int = 0, **extra: int) -> CostLine | None:
        return self.pricer.price(self.call(prompt, output, **extra))

    def call(self, prompt: int, output: int = 0, **extra: int) -> SpanRecord:
        return SpanRecord(
            trace_id="0" * 32,
            span_id="0" * 16,
            name="price lookup",
            start_ns=self.start_ns,
            end_ns=self.start_ns,
            category="llm",
            provider=self.provider,
            request_model=self.model,
            service_tier=self.tier,
            input_tokens=prompt,
            output_tokens=output,
            **extra,  # type: ignore[arg-type]
        )

    @staticmethod
    def amount(line: CostLine | None) -> Decimal | None:
        return line.amount if line is not None else None

    def detail(
        self, call: SpanRecord, line: CostLine | None, per_million: Decimal | None
    ) -> str | None:
        """The line's detail; a price in another currency restated per million tokens in
        that currency, with the rate (the source's own line before conversion)."""
        detail = line.detail if line is not None else None
        if per_million is None:
            return detail
        before, rate = self.pricer.source_line(call)
        if rate is None or before is None:  # not converted: a catalog price, or a multiplier
            return detail
        note = rate.note(rate.from_usd(per_million), " per million tokens")
        return f"{before.detail}; {note}" if before.detail else note


def _row(
    probe: _Probe,
    usage: str,
    extra: tuple[str, ...],
    *,
    prompt: int,
    fee: Decimal | None,
    start: int | None,
) -> dict[str, Any]:
    if usage == "output":  # output tokens do not move the tier: price a million of them
        call = probe.call(prompt, MILLION)
        before, count = probe.amount(probe.price(prompt)), MILLION
    else:
        call = probe.call(prompt, **dict.fromkeys(extra, prompt))
        before, count = fee, prompt
    line = probe.pricer.price(call)
    amount = probe.amount(line)
    rate = None
    if amount is not None:
        rate = (amount - (before or Decimal(0))) * MILLION / count
    detail = probe.detail(call, line, rate)
    if fee and amount is not None:
        plus = f"plus ${format(fee.normalize(), 'f')} per request"
        detail = f"{detail}; {plus}" if detail else plus
    tier = BASE_TIER if start is None else f"prompts over {_tokens(start)} tokens"
    return {
        "usage": usage if start is None else f"{usage}, {tier}",
        "tier": tier,
        "prompt_tokens_over": start,
        "per_million_tokens": rate,
        "source": line.source if line else "unpriced",
        "matched_model": line.matched_model if line else None,
        "effective_date": line.effective_date if line else None,
        "detail": detail,
    }


@cache
def _catalog() -> LLMCatalog:
    return LLMCatalog()


def _tier_starts(provider: str, model: str, when: datetime, service_tier: str | None) -> list[int]:
    """The prompt sizes (input tokens, cache included) above which the catalog charges a
    higher rate: a tier applies to prompts of more than its start, as genai-prices says."""
    found = _catalog().lookup(provider, model)
    if isinstance(found, str):
        return []
    _, info = found
    starts: set[int] = set()
    for prices in (info.get_prices(when), info.get_prices(when, price_context(service_tier))):
        for value in vars(prices).values():
            if isinstance(value, TieredPrices):
                starts.update(tier.start for tier in value.tiers)
    return sorted(starts)


def _tokens(count: int) -> str:
    if count and count % MILLION == 0:
        return f"{count // MILLION}M"
    if count and count % 1000 == 0:
        return f"{count // 1000}k"
    return f"{count:,}"
