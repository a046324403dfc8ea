"""The price sources, in order of preference (reported > not billed > user rate card >
genai-prices or shipped rate card > unpriced), each saying two things: the rates it
applies to every span of a pricing key (which the quotes hand to apply.sql, the one
applier) and the line it gives one span (for what rates cannot express). A span is priced
as a batch of one. It is never $0 for usage no source can price, nor is a reported 0
beside usage trusted; a call that failed before reporting usage is the one $0 inferred.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from genai_prices.types import ModelPrice

from botanu.engine.pricing._currency import ExchangeRate, to_usd
from botanu.engine.pricing._llm import LLMCatalog, price_with_entry, select_llm_entry
from botanu.engine.pricing._rate_card import (
    RateCard,
    RateCardEntry,
    load_rate_card,
    shipped_rate_card,
)
from botanu.engine.pricing._resources import has_billable_usage, price_entries, select
from botanu.engine.records import (
    UNIT_FIELDS,
    CostLine,
    PriceSource,
    SpanRecord,
)

__all__ = [
    "NOT_BILLED_DETAIL",
    "REPORTED_ZERO_NOTE",
    "LLMSource",
    "PriceSources",
    "ResourceSource",
    "multiplier_note",
    "not_billed_line",
    "reported_line",
    "with_reported_zero_note",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# GenAI operations that are not a model call: without tokens they have nothing to price
_NOT_MODEL_CALLS = frozenset({"execute_tool", "invoke_agent", "create_agent"})
# the detail added to the line of a span whose reported 0 was not taken
REPORTED_ZERO_NOTE = "reported 0 ignored: the span carries usage"
# the detail of the $0 line of a failed call without usage
NOT_BILLED_DETAIL = "the call failed before any usage was reported: providers do not bill it"
QUANTITY_FIELDS = ("request_units", *UNIT_FIELDS)
# a line in its card's currency (None: no line), and the rate into USD (None: it is USD)
_InCurrency = tuple[CostLine | None, "ExchangeRate | None"]
# every call of these is a billable request, whatever quantities it reports
REQUEST_CATEGORIES = ("storage", "messaging")


@dataclass(frozen=True, slots=True)
class LLMSource:
    """The user's entry that applies to an LLM call (None: none does), and whether it
    prices the tokens itself (else it is a multiplier on genai-prices' price)."""

    entry: RateCardEntry | None
    own_prices: bool


@dataclass(frozen=True, slots=True)
class ResourceSource:
    """The rate-card entries that price other work (one per unit; none: no card prices
    it), whose card they are, a user multiplier on them, and the earliest start of
    matching entries not yet in force."""

    entries: list[RateCardEntry]
    card: RateCard
    name: PriceSource
    multiplier: RateCardEntry | None
    not_yet: date | None


class PriceSources:
    """The price sources of one pricer, in their order of preference: for a pricing key
    the rates each declares (`llm_rates`; `resource_source`'s rate-card entries), and for
    one span the line it gives (`line_of`). `Pricer` prices spans with them."""

    def __init__(
        self,
        user_rate_card: RateCard | str | os.PathLike[str] | None = None,
        *,
        rate_card: RateCard | None = None,
    ) -> None:
        if user_rate_card is None or isinstance(user_rate_card, RateCard):
            self.user_rate_card = user_rate_card
        else:
            self.user_rate_card = load_rate_card(user_rate_card)
        self.rate_card = rate_card if rate_card is not None else shipped_rate_card()
        if self.rate_card.currency != "USD":
            # a user multiplier scales its prices as USD: they must be USD already
            raise ValueError(f"the base rate card {self.rate_card.path} must be in USD")
        self._llm = LLMCatalog()

    @property
    def llm(self) -> LLMCatalog:
        """The genai-prices catalog this pricer prices LLM calls from."""
        return self._llm

    @property
    def catalog_version(self) -> str:
        """The genai-prices catalog in use: `genai-prices==<version>+sha256:<hash>`."""
        return self._llm.version

    def line_of(self, record: SpanRecord) -> CostLine | None:
        """The line the span's price source gives it, priced span by span (what a quote
        cannot apply in bulk: time-of-day prices, stacked tiers, odd counts): the
        catalog's own arithmetic, in USD. A reported cost and a failed call are left to
        the applier, which wraps this line as it wraps a quote's."""
        line, rate = self.source_line(record)
        return None if line is None else to_usd(line, rate)

    def source_line(self, record: SpanRecord) -> tuple[CostLine | None, ExchangeRate | None]:
        """`line_of` before its conversion: the line in its card's currency, and the rate
        into USD in force on the span's day (None: it is USD)."""
        when = _EPOCH + timedelta(microseconds=record.start_ns // 1000)
        if record.category == "llm":
            return self._price_llm(record, when)
        return self._price_resource(record, when.date())

    def _price_llm(self, record: SpanRecord, when: datetime) -> _InCurrency:
        tokens = (
            record.input_tokens,
            record.output_tokens,
            record.cache_read_tokens,
            record.cache_write_tokens,
        )
        if all(count is None for count in tokens):
            if (record.operation or "").lower() in _NOT_MODEL_CALLS:
                return None, None
            why = "no token counts on the LLM span (usage not reported)"
            return _unpriced(record, why), None
        user, source = self.user_rate_card, self.llm_source(record, when.date())
        if user is not None and source.entry is not None and source.own_prices:
            return _user_llm_line(record, source.entry, user, when.date())
        line = self._catalog_line(record, when)
        if user is not None and source.entry is not None and line.amount is not None:
            return _discounted(line, source.entry, user), None
        return line, None

    def llm_source(self, record: SpanRecord, day: date) -> LLMSource:
        """Where the price of an LLM call on `day` comes from: the user's entry for it
        with its own token prices, else genai-prices (times the user's multiplier when an
        entry gives one). The order of preference, for spans and quotes alike."""
        user = self.user_rate_card
        entry = select_llm_entry(user, record, record.model, day) if user else None
        return LLMSource(entry, entry is not None and bool(entry.token_prices))

    def llm_rates(self, record: SpanRecord, day: date) -> tuple[ModelPrice, Decimal] | str:
        """The token prices the call's source applies to every call of its key on `day`
        (in the source's currency) and the multiplier on them, or why it declares none:
        the rates a quote applies in bulk, from the sources `llm_source` orders."""
        source = self.llm_source(record, day)
        entry = source.entry
        if entry is not None and source.own_prices:
            return ModelPrice(**dict(entry.token_prices)), Decimal(1)
        when = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        found = self._llm.model_price(
            record.provider, record.model or "", when, record.service_tier
        )
        if isinstance(found, str):
            return found
        multiplier = entry.multiplier if entry is not None else None
        return found, Decimal(1) if multiplier is None else multiplier

    def _catalog_line(self, record: SpanRecord, when: datetime) -> CostLine:
        model = record.model
        if model is None:
            return _unpriced(record, "no model name on the LLM span")
        priced = self._llm.price(record, model, when)
        if isinstance(priced, str):
            # the catalog that did not know it: a newer one may, on reprice
            return _unpriced(record, priced, catalog_version=self._llm.version)
        return _line(
            record,
            priced.amount,
            source="genai-prices",
            catalog_version=self._llm.version,
            matched_provider=priced.provider_id,
            matched_model=priced.model_id,
            effective_date=priced.effective_date,
            detail=priced.note,
        )

    def _price_resource(self, record: SpanRecord, day: date) -> _InCurrency:
        user, source = self.user_rate_card, self.resource_source(record, day)
        if source.entries:
            line, rate = _resource_line(record, source.entries, source.name, source.card, day)
            if user is not None and source.multiplier and line.amount is not None:
                # a multiplier scales the shipped card's prices, which are USD
                return _discounted(line, source.multiplier, user), rate
            return line, rate
        if not has_billable_usage(record):
            return None, None
        why = _why_no_rate(record, day, source.not_yet)
        versions = [card.version for card in (self.rate_card, user) if card is not None]
        return _unpriced(record, why, catalog_version=";".join(versions)), None

    def resource_source(self, record: SpanRecord, day: date) -> ResourceSource:
        """Where the price of other work on `day` comes from: the user's entries when they
        price it, else the shipped rate card's (times the user's multiplier when one
        applies). The order of preference, for spans and quotes alike."""
        user = self.user_rate_card
        own = select(user, record, day) if user is not None else None
        if user is not None and own is not None and own.priced:
            return ResourceSource(own.priced, user, "user_rate_card", None, own.not_yet)
        shipped = select(self.rate_card, record, day)
        starts = [s.not_yet for s in (own, shipped) if s is not None and s.not_yet is not None]
        multiplier = own.multiplier if own is not None else None
        return ResourceSource(
            shipped.priced, self.rate_card, "rate_card", multiplier, min(starts, default=None)
        )


def not_billed_line(record: SpanRecord) -> CostLine:
    """The $0 line of a call that failed before reporting usage (the provider bills none)."""
    return CostLine(
        trace_id=record.trace_id,
        span_id=record.span_id,
        category=record.category,
        amount=Decimal(0),
        source="not_billed",
        matched_provider=record.provider or record.system,
        matched_model=record.model,
        detail=NOT_BILLED_DETAIL,
    )


def with_reported_zero_note(detail: str | None) -> str:
    """A line's detail with the note that the span's reported 0 was not taken."""
    return f"{detail}; {REPORTED_ZERO_NOTE}" if detail else REPORTED_ZERO_NOTE


def reported_line(record: SpanRecord, reported: Decimal) -> CostLine:
    """The line of a span that reports its own cost: taken as given."""
    return CostLine(
        trace_id=record.trace_id,
        span_id=record.span_id,
        category=record.category,
        amount=reported,
        source="reported",
        matched_provider=record.provider or record.system,
        matched_model=record.model,
        estimated=False,
        detail="cost reported on the span",
    )


def _why_no_rate(record: SpanRecord, day: date, not_yet: date | None) -> str:
    if not record.system:
        return f"no system name on the {record.category} span"
    what = f"{record.category} system {record.system!r}"
    if record.operation:
        what += f" operation {record.operation!r}"
    if not_yet is not None:
        return f"no price in force on {day} for {what} (the first starts {not_yet})"
    return f"no rate for {what}: add one to your rate card"


def _user_llm_line(
    record: SpanRecord, entry: RateCardEntry, card: RateCard, day: date
) -> _InCurrency:
    # the rate first: without one every span of the day is unpriced alike, whatever its usage
    rate = card.usd_rate(day)
    if isinstance(rate, str):
        return _unpriced(record, rate, catalog_version=card.version), None
    amount = price_with_entry(record, entry)
    if isinstance(amount, str):
        return _unpriced(record, amount), None
    line = _line(
        record,
        amount,
        source="user_rate_card",
        catalog_version=card.version,
        matched_provider=record.provider,
        matched_model=record.model,
        effective_date=entry.effective_from,
        detail=f"{entry.label}: {entry.source}",
    )
    return line, rate


def _line(
    record: SpanRecord,
    amount: Decimal,
    *,
    source: PriceSource,
    catalog_version: str,
    matched_provider: str | None,
    matched_model: str | None,
    effective_date: date | None,
    detail: str | None,
) -> CostLine:
    return CostLine(
        trace_id=record.trace_id,
        span_id=record.span_id,
        category=record.category,
        amount=amount,
        source=source,
        catalog_version=catalog_version,
        matched_provider=matched_provider,
        matched_model=matched_model,
        effective_date=effective_date,
        detail=detail,
    )


def _resource_line(
    record: SpanRecord, entries: list[RateCardEntry], source: PriceSource, card: RateCard, day: date
) -> tuple[CostLine, ExchangeRate | None]:
    rate = card.usd_rate(day)
    if isinstance(rate, str):
        return _unpriced(record, rate, catalog_version=card.version), None
    priced = price_entries(record, entries)
    if priced.amount is None:
        why = f"{priced.names}: {priced.detail}"
        return _unpriced(record, why, catalog_version=card.version), None
    line = _line(
        record,
        priced.amount,
        source=source,
        catalog_version=card.version,
        matched_provider=record.system,
        matched_model=priced.names,
        effective_date=priced.effective_date,
        detail=priced.detail,
    )
    return line, rate


def _discounted(line: CostLine, entry: RateCardEntry, card: RateCard) -> CostLine:
    """A line from the next source scaled by a user `multiplier` (a negotiated discount)."""
    assert line.amount is not None
    assert entry.multiplier is not None
    start = entry.effective_from
    if line.effective_date is not None and line.effective_date > start:
        start = line.effective_date
    note = multiplier_note(entry)
    return replace(
        line,
        amount=line.amount * entry.multiplier,
        source="user_rate_card",
        catalog_version=f"{line.catalog_version};{card.version}",
        effective_date=start,
        detail=f"{line.detail}; {note}" if line.detail else note,
    )


def multiplier_note(entry: RateCardEntry) -> str:
    """What a line's detail says of a user multiplier applied to it."""
    return f"multiplied by {entry.multiplier} ({entry.label}: {entry.source})"


def _unpriced(record: SpanRecord, why: str, catalog_version: str | None = None) -> CostLine:
    return CostLine(
        trace_id=record.trace_id,
        span_id=record.span_id,
        category=record.category,
        amount=None,
        source="unpriced",
        catalog_version=catalog_version,
        matched_provider=record.provider or record.system,
        matched_model=record.model,
        detail=why,
    )
