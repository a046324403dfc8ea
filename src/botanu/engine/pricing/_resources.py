"""Price the non-LLM work of a span (bytes scanned, storage requests, queue messages, DB
request units) from rate-card entries: for each unit the span uses, the entry in force at
the span's date, then quantity * price / per. Quantities are counts, never money.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Context, Decimal

from botanu.engine.pricing._rate_card import RateCard, RateCardEntry, Unit
from botanu.engine.records import SpanRecord

__all__ = [
    "ResourcePrice",
    "Selection",
    "has_billable_usage",
    "minimum_amount",
    "price_entries",
    "quantity",
    "select",
    "unit_detail",
]

# a fixed context so the global decimal context of the host cannot change an amount;
# quantity * price / per is exact unless the division does not terminate (34 digits then)
_MONEY = Context(prec=34)
_ONE = Decimal(1)


def quantity(record: SpanRecord, unit: Unit) -> Decimal | None:
    """How many `unit`s the span used; None when the span does not say.

    `requests` is one per span (a span is one API call). `objects` and `messages` count
    the span's objects or messages, one when it does not say (a storage or messaging call
    touches at least one). `bytes` is bytes read plus bytes written.
    """
    return _QUANTITIES[unit](record)


def _count(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _count_or_one(value: int | None) -> Decimal:
    return _ONE if value is None else Decimal(value)


def _bytes(record: SpanRecord) -> Decimal | None:
    if record.bytes_read is None and record.bytes_written is None:
        return None
    return Decimal((record.bytes_read or 0) + (record.bytes_written or 0))


def _request_units(record: SpanRecord) -> Decimal | None:
    units = record.request_units
    # repr is the shortest text that round-trips: 2.86 RU stays 2.86, not 2.8599999...
    return None if units is None else Decimal(repr(units))


_QUANTITIES: dict[Unit, Callable[[SpanRecord], Decimal | None]] = {
    "requests": lambda record: _ONE,
    "objects": lambda record: _count_or_one(record.object_count),
    "messages": lambda record: _count_or_one(record.message_count),
    "bytes": _bytes,
    "request_units": _request_units,
    "bytes_scanned": lambda record: _count(record.bytes_scanned),
    "bytes_read": lambda record: _count(record.bytes_read),
    "bytes_written": lambda record: _count(record.bytes_written),
    "rows": lambda record: _count(record.rows),
}


def has_billable_usage(record: SpanRecord) -> bool:
    """Whether a span no rate matched still cost money somewhere (so: unpriced, not free).

    Every storage and messaging call is a billable request on a cloud service; a database
    span is when it reports bytes scanned or request units (a plain SQL query on your own
    server has no per-query price).
    """
    if record.category in ("storage", "messaging"):
        return True
    if record.category == "db":
        return record.bytes_scanned is not None or record.request_units is not None
    return False


@dataclass(slots=True)
class Selection:
    """The entries of one card that apply to a span on a day."""

    priced: list[RateCardEntry] = field(default_factory=list)  # the best entry per unit
    multiplier: RateCardEntry | None = None
    not_yet: date | None = None  # earliest start of matching entries not yet in force


def select(card: RateCard, record: SpanRecord, day: date) -> Selection:
    """Entries matching the span's category, system and operation, in force on `day`.

    Per unit, an entry naming the operation beats one that does not, one naming the
    system beats a catch-all, then the latest `effective_from` wins.
    """
    system = (record.system or "").lower()
    operation = (record.operation or "").strip().lower()
    best: dict[Unit | None, tuple[tuple[bool, bool, date, int], RateCardEntry]] = {}
    not_yet: date | None = None
    for entry in card.entries_for(record.category):
        if entry.systems and system not in entry.systems:
            continue
        if entry.operations and operation not in entry.operations:
            continue
        if entry.effective_from > day:
            if not_yet is None or entry.effective_from < not_yet:
                not_yet = entry.effective_from
            continue
        rank = (bool(entry.operations), bool(entry.systems), entry.effective_from, entry.line)
        # price entries are keyed by unit; multiplier entries (no unit) by None
        key = entry.unit if entry.price is not None else None
        current = best.get(key)
        if current is None or rank > current[0]:
            best[key] = (rank, entry)
    multiplier = best.pop(None, None)
    return Selection(
        priced=[entry for _, entry in best.values()],
        multiplier=None if multiplier is None else multiplier[1],
        not_yet=not_yet,
    )


def unit_detail(entry: RateCardEntry) -> tuple[str, str]:
    """What a line's detail says of an entry after "<quantity> <unit>": the note of a
    billed minimum (when the quantity is below it), then the price and where it is from.
    Bulk pricing builds the same detail from these parts."""
    per = "" if entry.per == 1 else f" per {entry.per}"
    return f" (billed the minimum {entry.minimum})", f" at {entry.price}{per} ({entry.label})"


def minimum_amount(entry: RateCardEntry) -> Decimal | None:
    """What the entry bills for a quantity below its minimum (None: it has none)."""
    if entry.minimum is None or entry.minimum <= 0 or entry.price is None:
        return None
    return _MONEY.divide(_MONEY.multiply(entry.minimum, entry.price), Decimal(entry.per))


@dataclass(slots=True)
class ResourcePrice:
    amount: Decimal | None  # None: no entry had its quantity on the span
    detail: str
    effective_date: date
    names: str


def price_entries(record: SpanRecord, entries: list[RateCardEntry]) -> ResourcePrice:
    """Sum quantity * price / per over the chosen entries (one per unit)."""
    total: Decimal | None = None
    parts: list[str] = []
    missing: list[str] = []
    for entry in sorted(entries, key=lambda e: str(e.unit)):
        assert entry.unit is not None  # price entries only
        assert entry.price is not None
        used = quantity(record, entry.unit)
        if used is None:
            missing.append(entry.unit)
            continue
        billed = used if entry.minimum is None else max(used, entry.minimum)
        amount = _MONEY.divide(_MONEY.multiply(billed, entry.price), Decimal(entry.per))
        total = amount if total is None else _MONEY.add(total, amount)
        floor, rest = unit_detail(entry)
        parts.append(f"{used} {entry.unit}{floor if billed != used else ''}{rest}")
    if missing:
        parts.append(f"needs {', '.join(missing)}, which the span does not report")
    return ResourcePrice(
        amount=total,
        detail="; ".join(parts),
        effective_date=max(entry.effective_from for entry in entries),
        names=", ".join(sorted({entry.label for entry in entries})),
    )
