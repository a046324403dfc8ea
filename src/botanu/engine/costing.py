"""Cost per outcome: the report every view of botanu starts from, computed exactly.

Sums come from the store as DECIMAL; ratios are computed here with Decimal, so a cost per
success is exact to the digit, not a float.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any, Literal

from botanu.store import Store

__all__ = ["DIMENSIONS", "OutcomeCost", "cost_per_outcome"]

Dimension = Literal["workflow", "customer", "tenant", "value_type"]
DIMENSIONS: dict[str, str] = {
    "workflow": "workflow",
    "customer": "customer_id",
    "tenant": "tenant_id",
    "value_type": "final_value_type",
}


@dataclass(frozen=True)
class OutcomeCost:
    """One row of the report: an event counts once, with all its attempts' cost."""

    key: str | None
    events: int
    runs: int
    successful_events: int
    priced_successes: int  # successful events whose cost is fully known: per-success divisor
    pending_events: int  # events with no outcome yet: neither success nor failure
    success_rate: Decimal  # of the events with an outcome: pending ones are left out
    total_cost: Decimal  # of the events whose cost is fully known
    priced_cost: Decimal  # what was priced, over all events: a lower bound
    wasted_cost: Decimal  # of the events whose waste is fully known
    cost_per_success: Decimal | None  # None when no fully priced event succeeded
    value_delivered: Decimal  # sum of the successful outcomes' value amounts
    unpriced_spans: int
    events_unpriced: int  # events left out of the cost figures: some usage unpriced

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        for name, value in out.items():
            if isinstance(value, Decimal):
                out[name] = format(value.normalize(), "f")
        return out


def cost_per_outcome(store: Store, by: Dimension = "workflow") -> list[OutcomeCost]:
    column = DIMENSIONS[by]
    # aliases unlike the columns they sum: ClickHouse resolves an alias before a column
    result = store.query(
        f"""
        SELECT {column} AS group_key,
               count(*) AS n_events,
               sum(attempts) AS n_runs,
               count(*) FILTER (WHERE final_outcome = 'success') AS n_successes,
               count(*) FILTER (WHERE final_outcome = 'pending') AS n_pending,
               count(*) FILTER (WHERE final_outcome = 'success' AND total_cost IS NOT NULL)
                   AS n_priced_successes,
               count(*) FILTER (WHERE total_cost IS NULL) AS n_events_unpriced,
               coalesce(sum(total_cost), 0) AS cost_sum,
               coalesce(sum(priced_cost), 0) AS priced_sum,
               coalesce(sum(wasted_cost), 0) AS wasted_sum,
               coalesce(sum(final_value_amount) FILTER (WHERE final_outcome = 'success'), 0)
                   AS value_sum,
               coalesce(sum(unpriced_spans), 0) AS n_unpriced
        FROM events
        GROUP BY {column}
        ORDER BY cost_sum DESC, group_key
        """
    )
    rows = []
    for row in result.rows:
        key, events, runs, successes, pending, priced_successes, events_unpriced = row[:7]
        total, priced, wasted = (Decimal(x) for x in row[7:10])
        value, unpriced = row[10:]
        decided = int(events) - int(pending)
        rows.append(
            OutcomeCost(
                key=key,
                events=int(events),
                runs=int(runs),
                successful_events=int(successes),
                priced_successes=int(priced_successes),
                success_rate=Decimal(successes) / Decimal(decided) if decided else Decimal(0),
                total_cost=total,
                wasted_cost=wasted,
                cost_per_success=total / Decimal(priced_successes) if priced_successes else None,
                value_delivered=Decimal(str(value)),
                unpriced_spans=int(unpriced),
                pending_events=int(pending),
                events_unpriced=int(events_unpriced),
                priced_cost=priced,
            )
        )
    return rows
