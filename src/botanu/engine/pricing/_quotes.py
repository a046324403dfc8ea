"""Quotes: what the pricer would say about every span of one pricing key (category,
provider, models, service tier, system, operation, UTC day), so a batch is priced by
applying a few quotes instead of pricing each span. A quote is read off the real
`Pricer` with probe spans and checked against it; what it cannot express exactly is
marked `FALLBACK` and left to `Pricer.price` span by span.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Context, Decimal
from typing import Any

from genai_prices.types import ModelPrice, Usage

from botanu.engine.batch import stored_money
from botanu.engine.pricing._llm import price_context, select_llm_entry
from botanu.engine.pricing._pricer import Pricer, not_billed_line
from botanu.engine.pricing._rate_card import RateCardEntry
from botanu.engine.pricing._rates import (
    Line,
    TokenRates,
    UnitRate,
    scaled,
    time_of_day,
    token_rates,
)
from botanu.engine.pricing._resources import select
from botanu.engine.records import CostLine, SpanRecord

__all__ = ["DAY_NS", "Key", "Quote", "QuoteBook"]

DAY_NS = 86_400_000_000_000
_MAX_QTY = 2**62  # quantities and `per` stay BIGINT-sized in price.sql
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
        rates = self._token_rates(key)
        if isinstance(rates, str):
            return Quote(FALLBACK, USAGE_ALWAYS, fallback_reason=rates)
        line = Line.of(present)
        for counts in self._token_probes(rates):
            fields = {n: c for n, c in zip(_PROBE_FIELDS, counts, strict=True) if c is not None}
            got = price(self._probe(key, **fields))
            if Line.of(got) != line or got is None or got.amount != rates.amount(counts):
                return Quote(FALLBACK, USAGE_ALWAYS, fallback_reason=f"probe {counts} differs")
        return Quote(TOKENS, USAGE_TOKENS, line, absent, tokens=rates)

    @staticmethod
    def _token_probes(rates: TokenRates) -> list[tuple[int | None, ...]]:
        probes = list(_TOKEN_PROBES)
        if rates.tier_start is not None:
            for total in (rates.tier_start, rates.tier_start + 1):
                probes.append((total, total // 4, total // 8, total // 16, 3, None))
        return probes

    def _token_rates(self, key: Key) -> TokenRates | str:
        """The per-token rates the pricer applies to this key, or why there are none."""
        pricer = self.pricer
        day = date.fromordinal(date(1970, 1, 1).toordinal() + key[7])
        when = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        probe = self._probe(key)
        user = pricer.user_rate_card
        entry = select_llm_entry(user, probe, probe.model, day) if user is not None else None
        multiplier = Decimal(1)
        if entry is not None and entry.token_prices:
            model_price = ModelPrice(**dict(entry.token_prices))
        else:
            if entry is not None and entry.multiplier is not None:
                multiplier = entry.multiplier
            found = pricer._llm.lookup(probe.provider, probe.model or "")
            if isinstance(found, str):
                return found
            provider, info = found
            if time_of_day(info):
                return "prices change by time of day"
            try:
                model_price = info.calc_price(
                    Usage(input_tokens=0, output_tokens=0),
                    provider,
                    genai_request_timestamp=when,
                    price_context=price_context(probe.service_tier),
                ).model_price
            except ValueError as exc:
                return str(exc)
        return token_rates(model_price, multiplier)

    def _resource(self, key: Key) -> Quote:
        pricer, category = self.pricer, key[0]
        day = date.fromordinal(date(1970, 1, 1).toordinal() + key[7])
        probe = self._probe(key)
        user = pricer.user_rate_card
        own = select(user, probe, day) if user is not None else None
        if own is not None and own.priced:
            entries, multiplier = own.priced, None
        else:
            shipped = select(pricer.rate_card, probe, day)
            entries = shipped.priced
            multiplier = own.multiplier if own is not None else None
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
        rate = self._unit_rate(key, entry, mult)
        if isinstance(rate, str):
            return Quote(FALLBACK, USAGE_ALWAYS, fallback_reason=rate)
        absent = Line.of(pricer.price(probe)) if entry.unit in _ABSENT_UNITS else None
        return Quote(UNITS, USAGE_QUANTITY, rate[1], absent, units=rate[0])

    def _unit_rate(
        self, key: Key, entry: RateCardEntry, multiplier: Decimal | None
    ) -> tuple[UnitRate, Line] | str:
        """The entry as integers, its detail text read off priced probes, checked."""
        assert entry.unit is not None
        assert entry.price is not None
        unit, price, per, minimum = entry.unit, entry.price, entry.per, entry.minimum
        price_e18 = scaled(price)
        price2_e18 = price_e18 if multiplier is None else scaled(_WIDE.multiply(price, multiplier))
        minimum_e18 = 0 if minimum is None else scaled(minimum)
        if price_e18 is None or price2_e18 is None or minimum_e18 is None or per > _MAX_QTY:
            return "price beyond 18 decimal places"
        # price.sql holds these in DECIMAL(38, 18) columns
        if max(price_e18, price2_e18, abs(minimum_e18)) >= _MAX_E18:
            return "price or minimum out of range"
        # keep the pricer's own arithmetic exact: 34 digits (28 after a multiplier)
        bound2 = 10**28 if multiplier is not None else 10**34
        max_qty = min(
            _MAX_QTY,
            (10**34 - 1) // price_e18 if price_e18 else _MAX_QTY,
            (bound2 - 1) // price2_e18 if price2_e18 else _MAX_QTY,
        )
        texts = self._unit_texts(key, unit, minimum)
        if isinstance(texts, str):
            return texts
        line, d_rest, d_floor, min_e18 = texts
        if min_e18 is not None and min_e18 >= _MAX_E18:
            min_e18 = None
        rate = UnitRate(
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
        )
        differs = self._check_units(key, rate, line)
        return differs if differs is not None else (rate, line)

    def _check_units(self, key: Key, rate: UnitRate, line: Line) -> str | None:
        """Why the unit rate disagrees with the pricer on some probe quantity, if it does
        (price.sql's exact formula, the Python twin and the detail text all checked)."""
        for qty in (*_UNIT_PROBES, 0, 123_456_789):
            got = self._unit_line(key, rate.unit, qty)
            seen = Line.of(got)
            if got is None or got.amount is None or seen is None or seen.meta() != line.meta():
                return f"probe {qty} differs"
            used = 1 if rate.unit == "requests" else qty
            exact = None if rate.unit == "request_units" else rate.amount_e18(used)
            if (
                got.detail != rate.detail(used)
                or stored_money(got.amount) != rate.pricer_amount(used)
                or (exact is not None and scaled(got.amount) != exact)
            ):
                return f"probe {qty} differs"
        return None

    def _unit_texts(
        self, key: Key, unit: str, minimum: Decimal | None
    ) -> tuple[Line, str, str, int | None] | str:
        """The line of a priced probe, its detail after "<qty> <unit>", the note of a
        billed minimum, and the minimum's amount (when exact)."""
        first = self._unit_line(key, unit, _UNIT_PROBES[-1])
        line = Line.of(first)
        if first is None or first.amount is None or first.detail is None or line is None:
            return "no priced probe"
        head = f"{_UNIT_PROBES[-1] if unit != 'requests' else 1} {unit}"
        if not first.detail.startswith(head):
            return "unexpected detail"
        d_rest = first.detail[len(head) :]
        if minimum is None or minimum <= 0:
            return line, d_rest, "", None
        below = self._unit_line(key, unit, 0)
        if below is None or below.detail is None or not below.detail.endswith(d_rest):
            return "unexpected detail below the minimum"
        d_floor = below.detail[len(f"0 {unit}") : len(below.detail) - len(d_rest)]
        return line, d_rest, d_floor, scaled(below.amount) if below.amount is not None else None

    def _unit_line(self, key: Key, unit: str, qty: int) -> CostLine | None:
        name = _UNIT_FIELDS.get(unit)
        return self.pricer.price(self._probe(key, **({name: qty} if name else {})))


# units whose quantity a span may not report (objects, messages and requests default to one)
_ABSENT_UNITS = frozenset(
    {"bytes", "bytes_scanned", "bytes_read", "bytes_written", "rows", "request_units"}
)
