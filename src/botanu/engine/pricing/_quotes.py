"""Quotes: what the pricer would say about every span of one pricing key (category,
provider, models, service tier, system, operation, UTC day), so a batch is priced by
applying a few quotes instead of pricing each span. A quote is read off the real
`Pricer` with probe spans and checked against it; what it cannot express exactly is
marked `FALLBACK` and left to `Pricer.price` span by span. A quote of prices in another
currency holds them in that currency with the rate in force on its day: the bulk pricer
converts each amount with the pricer's own `convert`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from decimal import Context, Decimal
from typing import Any

from genai_prices.types import ModelPrice

from botanu.engine.pricing._currency import ExchangeRate, convert, split_note
from botanu.engine.pricing._pricer import Pricer, not_billed_line
from botanu.engine.pricing._rate_card import RateCardEntry
from botanu.engine.pricing._rates import (
    Line,
    TokenRates,
    UnitRate,
    scaled,
    token_rates,
)
from botanu.engine.pricing._resources import minimum_amount, unit_detail
from botanu.engine.records import CostLine, SpanRecord, stored_money

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
    "request_units": 9,  # a float: always priced by the quote's Python twin
}
# the span field a probe sets to give a unit a quantity (requests: always one)
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
_BILLABLE_PROBE = {"db": {"bytes_scanned": 1}}
# token probes (in, cache read, cache write, 1h write, out, reasoning): odd counts so a
# wrong rate or a wrong leaf cannot cancel out
_TOKEN_PROBES: tuple[tuple[int | None, ...], ...] = (
    (10_007, 2_003, 1_009, 307, 5_003, 1_001),
    (1_000_003, 200_001, 100_007, 30_011, 50_021, None),
    (1_234, None, None, None, 567, None),
    (999, None, None, None, None, None),
    (0, None, None, None, 41, 40),
)
_PROBE_FIELDS = (
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
)
_UNIT_PROBES = (1, 7, 1_000_003, 2**30 + 3)


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
    # the line's prices are in this rate's currency: amounts and details go through
    # `convert` (the line's own detail is the one before the conversion note)
    rate: ExchangeRate | None = None
    fallback_reason: str = field(default="", compare=False)


class QuoteBook:
    """Quotes of one pricer, built on first use and kept (bounded) across batches."""

    def __init__(self, pricer: Pricer, max_quotes: int = 100_000) -> None:
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
    def _probe(self, key: Key, **usage: Any) -> SpanRecord:
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
        price = self.pricer.price
        # a positive cost: a reported 0 may not be taken (see `carries_usage`)
        reported = Line.of(price(self._probe(key, reported_cost=Decimal(1))))
        quote = self._llm(key) if key[0] == "llm" else self._resource(key)
        quote.reported = reported
        quote.not_billed = Line.of(not_billed_line(self._probe(key)), keep_amount=True)
        return quote

    def _llm(self, key: Key) -> Quote:
        price = self.pricer.price
        absent = Line.of(price(self._probe(key)))
        present = price(self._probe(key, input_tokens=0, output_tokens=0))
        if present is None or present.amount is None:
            return Quote(FIXED, USAGE_TOKENS, Line.of(present), absent)
        found = self._token_rates(key)
        if isinstance(found, str):
            return Quote(FALLBACK, USAGE_ALWAYS, fallback_reason=found)
        rates, rate = found
        line = _before_conversion(Line.of(present), rate)
        if line is None:
            return Quote(FALLBACK, USAGE_ALWAYS, fallback_reason="no conversion note")
        for counts in self._token_probes(rates):
            fields = {n: c for n, c in zip(_PROBE_FIELDS, counts, strict=True) if c is not None}
            got = price(self._probe(key, **fields))
            amount, detail = convert(rates.amount(counts), line.detail, rate)
            if got is None or Line.of(got) != replace(line, detail=detail) or got.amount != amount:
                return Quote(FALLBACK, USAGE_ALWAYS, fallback_reason=f"probe {counts} differs")
        return Quote(TOKENS, USAGE_TOKENS, line, absent, tokens=rates, rate=rate)

    @staticmethod
    def _token_probes(rates: TokenRates) -> list[tuple[int | None, ...]]:
        probes = list(_TOKEN_PROBES)
        if rates.tier_start is not None:
            for total in (rates.tier_start, rates.tier_start + 1):
                probes.append((total, total // 4, total // 8, total // 16, 3, None))
        return probes

    def _token_rates(self, key: Key) -> tuple[TokenRates, ExchangeRate | None] | str:
        """The per-token rates the pricer applies to this key (in the currency of their
        card, with the rate into USD), or why there are none."""
        pricer = self.pricer
        day = date.fromordinal(date(1970, 1, 1).toordinal() + key[7])
        when = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        probe = self._probe(key)
        user, source = pricer.user_rate_card, pricer.llm_source(probe, day)
        entry = source.entry
        multiplier = Decimal(1)
        rate: ExchangeRate | None = None
        if user is not None and entry is not None and source.own_prices:
            model_price = ModelPrice(**dict(entry.token_prices))
            found_rate = user.usd_rate(day)
            if isinstance(found_rate, str):
                return found_rate
            rate = found_rate
        else:
            if entry is not None and entry.multiplier is not None:
                multiplier = entry.multiplier
            found = pricer.llm.model_price(
                probe.provider, probe.model or "", when, probe.service_tier
            )
            if isinstance(found, str):
                return found
            model_price = found
        rates = token_rates(model_price, multiplier)
        return rates if isinstance(rates, str) else (rates, rate)

    def _resource(self, key: Key) -> Quote:
        pricer, category = self.pricer, key[0]
        day = date.fromordinal(date(1970, 1, 1).toordinal() + key[7])
        probe = self._probe(key)
        source = pricer.resource_source(probe, day)
        entries, multiplier = source.entries, source.multiplier
        rate: ExchangeRate | None = None
        if source.name == "user_rate_card" and entries:
            found = source.card.usd_rate(day)
            if isinstance(found, str):  # no rate in force: the same unpriced line for all
                return Quote(FIXED, USAGE_ALWAYS, Line.of(pricer.price(probe)))
            rate = found
        if not entries:
            present = pricer.price(self._probe(key, **_BILLABLE_PROBE.get(category, {})))
            usage = _USAGE_BY_CATEGORY.get(category, USAGE_NEVER)
            return Quote(FIXED, usage, Line.of(present), Line.of(pricer.price(probe)))
        if len(entries) > 1:
            return Quote(FALLBACK, USAGE_ALWAYS, fallback_reason="several units")
        entry = entries[0]
        if entry.unit is None or entry.unit not in UNIT_CODES or entry.price is None:
            return Quote(FALLBACK, USAGE_ALWAYS, fallback_reason=f"unit {entry.unit}")
        mult = multiplier.multiplier if multiplier is not None else None
        units = self._unit_rate(key, entry, mult, rate)
        if isinstance(units, str):
            return Quote(FALLBACK, USAGE_ALWAYS, fallback_reason=units)
        absent = Line.of(pricer.price(probe)) if entry.unit in _ABSENT_UNITS else None
        return Quote(UNITS, USAGE_QUANTITY, units[1], absent, units=units[0], rate=rate)

    def _unit_rate(
        self,
        key: Key,
        entry: RateCardEntry,
        multiplier: Decimal | None,
        rate: ExchangeRate | None,
    ) -> tuple[UnitRate, Line] | str:
        """The entry as integers (in its card's currency), its detail text read off priced
        probes, checked."""
        assert entry.unit is not None
        assert entry.price is not None
        unit, price, per, minimum = entry.unit, entry.price, entry.per, entry.minimum
        price_e18 = scaled(price)
        price2_e18 = price_e18 if multiplier is None else scaled(_WIDE.multiply(price, multiplier))
        minimum_e18 = 0 if minimum is None else scaled(minimum)
        if price_e18 is None or price2_e18 is None or minimum_e18 is None or per > _MAX_QTY:
            return "price beyond 18 decimal places"
        # apply.sql holds these in DECIMAL(38, 18) columns
        if max(price_e18, price2_e18, abs(minimum_e18)) >= _MAX_E18:
            return "price or minimum out of range"
        # keep the pricer's own arithmetic exact: 34 digits (28 after a multiplier)
        bound2 = 10**28 if multiplier is not None else 10**34
        max_qty = min(
            _MAX_QTY,
            (10**34 - 1) // price_e18 if price_e18 else _MAX_QTY,
            (bound2 - 1) // price2_e18 if price2_e18 else _MAX_QTY,
        )
        texts = self._unit_texts(key, entry, multiplier, rate)
        if isinstance(texts, str):
            return texts
        line, d_rest, d_floor, min_e18 = texts
        if min_e18 is not None and min_e18 >= _MAX_E18:
            min_e18 = None
        units = UnitRate(
            unit,
            price_e18,
            price2_e18,
            per,
            max_qty,
            minimum,
            min_e18,
            f" {unit}",
            d_floor,
            d_rest,
            price,
            multiplier,
            rate,
        )
        differs = self._check_units(key, units, line)
        return differs if differs is not None else (units, line)

    def _check_units(self, key: Key, units: UnitRate, line: Line) -> str | None:
        """Why the unit rate disagrees with the pricer on some probe quantity, if it does
        (apply.sql's exact formula, the Python twin and the detail text all checked)."""
        for qty in (*_UNIT_PROBES, 0, 123_456_789):
            got = self._unit_line(key, units.unit, qty)
            seen = Line.of(got)
            if got is None or got.amount is None or seen is None or seen.meta() != line.meta():
                return f"probe {qty} differs"
            used = 1 if units.unit == "requests" else qty
            exact = None if units.unit == "request_units" else units.amount_e18(used)
            amount, detail = units.priced(used)
            in_sql = None if exact is None else Decimal(exact).scaleb(-18)
            if (
                got.detail != detail
                or stored_money(got.amount) != stored_money(amount)
                or (in_sql is not None and got.amount != convert(in_sql, None, units.rate)[0])
            ):
                return f"probe {qty} differs"
        return None

    def _unit_texts(
        self, key: Key, entry: RateCardEntry, multiplier: Decimal | None, rate: ExchangeRate | None
    ) -> tuple[Line, str, str, int | None] | str:
        """The line of a priced probe (its detail before any conversion note), the parts
        of a detail the entry declares (`unit_detail`), and the minimum's amount in the
        card's currency (when exact; the probes check it)."""
        first = self._unit_line(key, entry.unit or "", _UNIT_PROBES[-1])
        line = _before_conversion(Line.of(first), rate)
        if first is None or first.amount is None or line is None:
            return "no priced probe"
        d_floor, d_rest = unit_detail(entry)
        amount = minimum_amount(entry)
        if amount is None:
            return line, d_rest, "", None
        if multiplier is not None:  # as the pricer scales the line: the host's context
            amount = amount * multiplier
        return line, d_rest, d_floor, scaled(amount)

    def _unit_line(self, key: Key, unit: str, qty: int) -> CostLine | None:
        name = _UNIT_FIELDS.get(unit)
        return self.pricer.price(self._probe(key, **({name: qty} if name else {})))


def _before_conversion(line: Line | None, rate: ExchangeRate | None) -> Line | None:
    """A probe's line as it was in its card's currency (None: it was not converted as
    `convert` does): the detail before the conversion note, the amount before the rate."""
    if line is None or rate is None:
        return line
    split = split_note(line.detail, rate)
    if split is None:
        return None
    amount = None if line.amount is None else rate.from_usd(line.amount)
    return replace(line, detail=split[0], amount=amount)


# units whose quantity a span may not report (objects, messages and requests default to one)
_ABSENT_UNITS = frozenset(
    {"bytes", "bytes_scanned", "bytes_read", "bytes_written", "rows", "request_units"}
)
