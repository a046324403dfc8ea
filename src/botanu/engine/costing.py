"""Cost per outcome: the report every view of botanu starts from, computed exactly.

Sums come from the store as DECIMAL; ratios are computed here with Decimal, so a cost per
success is exact to the digit, not a float.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Context, Decimal
from typing import Any, Literal

from botanu.engine.store import Store
from botanu.engine.store.reads import REPORT_COLUMNS

__all__ = ["DIMENSIONS", "VALUE_HINT", "OutcomeCost", "cost_per_outcome", "value_notes"]

Dimension = Literal["workflow", "customer", "tenant", "value_type"]
DIMENSIONS: dict[str, str] = REPORT_COLUMNS  # dimension -> the events column


# what a report says under its figures when a row's outcomes carry a value nobody priced
VALUE_HINT = "no values set: botanu value set VALUE_TYPE AMOUNT"
COST_CURRENCY = "USD"  # what every cost figure is in
_EXACT = Context(prec=100)  # sums of the store's DECIMAL(38, 18) amounts, never rounded


@dataclass(frozen=True)
class OutcomeCost:
    """One row of the report: an event counts once, with all its attempts' cost."""

    key: str | None
    events: int
    runs: int
    successful_events: int
    priced_successes: int  # successful events whose cost is fully known: per-success divisor
    pending_events: int  # events with no outcome yet: neither success nor failure
    late_outcomes: int  # events whose final outcome was resolved after their runs
    success_rate: Decimal  # of the events with an outcome: pending ones are left out
    total_cost: Decimal  # of the events whose cost is fully known
    priced_cost: Decimal  # what was priced, over all events: a lower bound
    wasted_cost: Decimal  # of the events whose waste is fully known
    cost_per_success: Decimal | None  # None when no fully priced event succeeded
    # the final outcomes' value (amount x value per unit) over the fully priced events whose
    # final outcome is a success or partial; None when none of it has a value in USD
    value_delivered: Decimal | None
    roi: Decimal | None  # (value_delivered - total_cost) / total_cost
    value_note: str | None  # why value is missing or partial: no value set, other currency
    unpriced_spans: int
    events_unpriced: int  # events left out of the cost figures: some usage unpriced

    @property
    def needs_values(self) -> bool:
        """Some of this row's outcomes carry a value type with no value set."""
        return self.value_note is not None and self.value_note.startswith("no value set")

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        for name, value in out.items():
            if isinstance(value, Decimal):
                out[name] = format(value.normalize(), "f")
        return out


def cost_per_outcome(store: Store, by: Dimension = "workflow") -> list[OutcomeCost]:
    valuations = _valuations(store)
    # one scan, grouped by value type as well so value is priced per type here (counts and
    # sums add up across a row's types); failures deliver no value. With no valuations the
    # types are not read (~7% of the scan).
    rows_read = store.report_rows(by, value_types=bool(valuations))
    groups: dict[str | None, _Group] = {}
    for row in rows_read:
        groups.setdefault(row[0], _Group()).add(row[1:])
    rows = [group.finish(key, valuations) for key, group in groups.items()]
    rows.sort(key=lambda r: (-r.total_cost, r.key is None, r.key or ""))
    return rows


def value_notes(rows: Sequence[OutcomeCost]) -> list[str]:
    """What a report says under its value column: which rows' values are missing or not
    added to their USD cost, and how to add values."""
    notes = [f"{row.key or '(none)'}: {row.value_note}" for row in rows if row.value_note]
    if any(row.needs_values for row in rows):
        notes.append(VALUE_HINT)
    return notes


class _Group:
    """The partial sums of one report row, one value type at a time."""

    def __init__(self) -> None:
        # events, runs, successes, pending, late, priced successes, unpriced
        self.counts = [0] * 7
        self.sums = [Decimal(0)] * 3  # total, priced, wasted
        self.unpriced_spans = 0
        self.units: dict[str | None, Decimal] = {}  # value type (if read) -> delivered units

    def add(self, row: tuple[Any, ...]) -> None:
        kind, counts, sums, units, unpriced = row[0], row[1:8], row[8:11], row[11], row[12]
        self.counts = [a + int(b) for a, b in zip(self.counts, counts, strict=True)]
        self.sums = [_EXACT.add(a, Decimal(b)) for a, b in zip(self.sums, sums, strict=True)]
        self.unpriced_spans += int(unpriced)
        if units:  # float sums: read as their shortest text
            self.units[kind] = _EXACT.add(self.units.get(kind, Decimal(0)), Decimal(str(units)))

    def finish(self, key: str | None, valuations: dict[str, tuple[Decimal, str]]) -> OutcomeCost:
        events, runs, successes, pending, late, priced_successes, events_unpriced = self.counts
        total, priced, wasted = self.sums
        value, note = _value(self.units, valuations)
        decided = events - pending
        return OutcomeCost(
            key=key,
            events=events,
            runs=runs,
            successful_events=successes,
            priced_successes=priced_successes,
            pending_events=pending,
            late_outcomes=late,
            success_rate=Decimal(successes) / Decimal(decided) if decided else Decimal(0),
            total_cost=total,
            priced_cost=priced,
            wasted_cost=wasted,
            cost_per_success=total / Decimal(priced_successes) if priced_successes else None,
            value_delivered=value,
            roi=(value - total) / total if value is not None and total else None,
            value_note=note,
            unpriced_spans=self.unpriced_spans,
            events_unpriced=events_unpriced,
        )


def _value(
    delivered: dict[str | None, Decimal], valuations: dict[str, tuple[Decimal, str]]
) -> tuple[Decimal | None, str | None]:
    """Delivered units priced by the valuations, in the cost's currency, and a note.
    A value in another currency is never added to USD: the row's value is then None."""
    if not valuations:
        return None, "no value set" if delivered else None
    units = {t: u for t, u in delivered.items() if t is not None}  # an amount with no type
    foreign = sorted(
        {valuations[t][1] for t in units if valuations.get(t, ("", "USD"))[1] != COST_CURRENCY}
    )
    if foreign:
        return None, f"values in {', '.join(foreign)} not added to {COST_CURRENCY} cost"
    valued = [_EXACT.multiply(units[t], valuations[t][0]) for t in units if t in valuations]
    missing = sorted(t for t in units if t not in valuations)
    note = f"no value set for {', '.join(missing)}" if missing else None
    total = functools.reduce(_EXACT.add, valued, Decimal(0))
    return (total if valued else None), note


def _valuations(store: Store) -> dict[str, tuple[Decimal, str]]:
    """Value type -> (value per unit, currency)."""
    return {value_type: (amount, currency) for value_type, amount, currency in store.valuations()}
