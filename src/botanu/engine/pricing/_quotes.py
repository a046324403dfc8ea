"""Quotes: how every span of one pricing key (category, provider, models, service tier,
system, operation, UTC day) is priced, so a batch is priced by applying a few quotes
instead of pricing each span. A quote is declared by the key's price source: the rates
it applies (genai-prices' model price or a rate card's entry, times a user multiplier,
in the card's currency with the exchange rate in force that day) and the line's
metadata, which the source gives any span of the key. What rates cannot express exactly
(time-of-day prices, stacked tiers, several units, prices beyond 18 places) is marked
`FALLBACK` and priced span by span through the same source (`PriceSources.line_of`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Context, Decimal
from typing import Any

from botanu.engine.pricing._currency import ExchangeRate, to_usd
from botanu.engine.pricing._rate_card import RateCardEntry
from botanu.engine.pricing._rates import Line, TokenRates, UnitRate, scaled, token_rates
from botanu.engine.pricing._resources import minimum_amount, unit_detail
from botanu.engine.pricing._sources import (
    PriceSources,
    multiplier_note,
    not_billed_line,
    reported_line,
)
from botanu.engine.records import CostLine, SpanRecord

__all__ = ["DAY_NS", "Key", "Quote", "QuoteBook"]

DAY_NS = 86_400_000_000_000
_MAX_QTY = 2**62  # quantities and `per` stay BIGINT-sized in apply.sql
_MAX_E18 = 10**37  # amounts in 1e-18 USD that DECIMAL(38, 18) holds with room to spare
_WIDE = Context(prec=80)
# (category, provider, request_model, response_model, service_tier, system, operation, day)
Key = tuple[Any, Any, Any, Any, Any, Any, Any, int]

FIXED, TOKENS, UNITS, FALLBACK = 1, 2, 3, 4
# how a span shows it has usage to price (else the quote's `absent` line applies)
USAGE_TOKENS, USAGE_DB, USAGE_ALWAYS, USAGE_NEVER, USAGE_QUANTITY = 1, 2, 3, 4, 5
UNIT_CODES = {
    "requests": 1,
    "objects": 2,
    "messages": 3,
    "bytes": 4,
    "bytes_scanned": 5,
    "bytes_read": 6,
    "bytes_written": 7,
    "rows": 8,
    "request_units": 9,  # a float: always priced span by span
}
# the span field that gives a unit a quantity (requests: always one)
_UNIT_FIELDS = {
    "objects": "object_count",
    "messages": "message_count",
    "bytes": "bytes_written",
    "bytes_scanned": "bytes_scanned",
    "bytes_read": "bytes_read",
    "bytes_written": "bytes_written",
    "rows": "rows",
    "request_units": "request_units",
}
_USAGE_BY_CATEGORY = {"db": USAGE_DB, "storage": USAGE_ALWAYS, "messaging": USAGE_ALWAYS}
# the usage that makes a span of the category billable when no rate matches it
_BILLABLE = {"db": {"bytes_scanned": 1}}
# units whose quantity a span may not report (objects, messages and requests default to one)
_ABSENT_UNITS = frozenset(
    {"bytes", "bytes_scanned", "bytes_read", "bytes_written", "rows", "request_units"}
)


@dataclass(slots=True)
class Quote:
    """How to price every span of a key: the kind, the lines, and the rates."""

    kind: int
    usage: int
    line: Line | None = None
    absent: Line | None = None  # the line of a span without usage (None: no line)
    reported: Line | None = None  # the line of a span that reports its own cost
    not_billed: Line | None = None  # a failed call's without usage, where it gets a line
    tokens: TokenRates | None = None
    units: UnitRate | None = None
    # the rates are in this rate's currency: each amount and its detail go through
    # `convert` (`line.detail` is the one before the conversion note)
    rate: ExchangeRate | None = None
    fallback_reason: str = field(default="", compare=False)


class QuoteBook:
    """Quotes of one pricer, built on first use and kept (bounded) across batches."""

    def __init__(self, pricer: PriceSources, max_quotes: int = 100_000) -> None:
        self.pricer = pricer
        self._quotes: dict[Key, Quote] = {}
        self._max = max_quotes

    def quote(self, key: Key) -> Quote:
        found = self._quotes.get(key)
        if found is None:
            if len(self._quotes) >= self._max:
                self._quotes.clear()
            found = self._quotes[key] = self._build(key)
        return found

    # --- building -------------------------------------------------------------------------
    def _span(self, key: Key, **usage: Any) -> SpanRecord:
        """A span of the key: the source gives it the line it gives every span of the key
        with that usage (its metadata; the rates are declared apart)."""
        category, provider, request_model, response_model, tier, system, operation, day = key
        return SpanRecord(
            trace_id="0" * 32,
            span_id="0" * 16,
            name="",
            start_ns=day * DAY_NS,
            end_ns=day * DAY_NS,
            category=category,
            provider=provider,
            request_model=request_model,
            response_model=response_model,
            service_tier=tier,
            system=system,
            operation=operation,
            **usage,
        )

    def _build(self, key: Key) -> Quote:
        span = self._span(key)
        quote = self._llm(key, span) if key[0] == "llm" else self._resource(key, span)
        quote.reported = Line.of(reported_line(span, Decimal(1)))
        quote.not_billed = Line.of(not_billed_line(span), keep_amount=True)
        return quote

    def _llm(self, key: Key, span: SpanRecord) -> Quote:
        pricer = self.pricer
        absent = Line.of(pricer.line_of(span))
        present, rate = pricer.source_line(self._span(key, input_tokens=0, output_tokens=0))
        if present is None or present.amount is None:
            return Quote(FIXED, USAGE_TOKENS, Line.of(present), absent)
        rates = self._token_rates(key, span)
        if isinstance(rates, str):
            return Quote(FALLBACK, USAGE_ALWAYS, fallback_reason=rates)
        return Quote(TOKENS, USAGE_TOKENS, _in_usd(present, rate), absent, tokens=rates, rate=rate)

    def _token_rates(self, key: Key, span: SpanRecord) -> TokenRates | str:
        """The key's token prices as per-token rates (in its source's currency), or why
        five token leaves cannot express them."""
        found = self.pricer.llm_rates(span, _day(key))
        return found if isinstance(found, str) else token_rates(*found)

    def _resource(self, key: Key, span: SpanRecord) -> Quote:
        pricer, category = self.pricer, key[0]
        source = pricer.resource_source(span, _day(key))
        entries = source.entries
        if not entries:
            present = pricer.line_of(self._span(key, **_BILLABLE.get(category, {})))
            usage = _USAGE_BY_CATEGORY.get(category, USAGE_NEVER)
            return Quote(FIXED, usage, Line.of(present), Line.of(pricer.line_of(span)))
        if len(entries) > 1:
            return Quote(FALLBACK, USAGE_ALWAYS, fallback_reason="several units")
        entry = entries[0]
        if entry.unit is None or entry.unit not in UNIT_CODES or entry.price is None:
            return Quote(FALLBACK, USAGE_ALWAYS, fallback_reason=f"unit {entry.unit}")
        field_name = _UNIT_FIELDS.get(entry.unit)
        present, rate = pricer.source_line(
            self._span(key, **({field_name: 1} if field_name else {}))
        )
        if present is None or present.amount is None:  # no exchange rate in force that day
            return Quote(FIXED, USAGE_ALWAYS, Line.of(present))
        units = _unit_rate(entry, source.multiplier)
        if isinstance(units, str):
            return Quote(FALLBACK, USAGE_ALWAYS, fallback_reason=units)
        absent = Line.of(pricer.line_of(span)) if entry.unit in _ABSENT_UNITS else None
        line = _in_usd(present, rate)
        return Quote(UNITS, USAGE_QUANTITY, line, absent, units=units, rate=rate)


def _day(key: Key) -> date:
    return date.fromordinal(date(1970, 1, 1).toordinal() + key[7])


def _in_usd(line: CostLine, rate: ExchangeRate | None) -> Line:
    """A priced line's metadata once in USD (the conversion's effective date), with the
    detail it had before: each span's amount and note are converted on their own."""
    usd = Line.of(to_usd(line, rate))
    assert usd is not None
    return replace(usd, detail=line.detail)


def _unit_rate(entry: RateCardEntry, scaling: RateCardEntry | None) -> UnitRate | str:
    """The entry as integers (in its card's currency), or why it cannot be applied
    exactly in SQL."""
    assert entry.unit is not None
    assert entry.price is not None
    unit, price, per, minimum = entry.unit, entry.price, entry.per, entry.minimum
    multiplier = scaling.multiplier if scaling is not None else None
    price_e18 = scaled(price)
    price2_e18 = price_e18 if multiplier is None else scaled(_WIDE.multiply(price, multiplier))
    minimum_e18 = 0 if minimum is None else scaled(minimum)
    if price_e18 is None or price2_e18 is None or minimum_e18 is None or per > _MAX_QTY:
        return "price beyond 18 decimal places"
    # apply.sql holds these in DECIMAL(38, 18) columns
    if max(price_e18, price2_e18, abs(minimum_e18)) >= _MAX_E18:
        return "price or minimum out of range"
    # where the pricer's own arithmetic is exact: 34 digits (28 after a multiplier)
    bound2 = 10**28 if multiplier is not None else 10**34
    max_qty = min(
        _MAX_QTY,
        (10**34 - 1) // price_e18 if price_e18 else _MAX_QTY,
        (bound2 - 1) // price2_e18 if price2_e18 else _MAX_QTY,
    )
    d_floor, d_rest = unit_detail(entry)
    if scaling is not None:  # the note the scaled line's detail carries
        d_rest = f"{d_rest}; {multiplier_note(scaling)}"
    amount = minimum_amount(entry)
    min_e18 = None
    if amount is not None:
        if multiplier is not None:  # as the pricer scales the line: the host's context
            amount = amount * multiplier
        min_e18 = scaled(amount)
        if min_e18 is not None and min_e18 >= _MAX_E18:
            min_e18 = None
    else:
        d_floor = ""
    return UnitRate(
        unit, price_e18, price2_e18, per, max_qty, minimum, min_e18, f" {unit}", d_floor, d_rest
    )
