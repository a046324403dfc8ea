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
    success_rate: Decimal
    total_cost: Decimal
    wasted_cost: Decimal
    cost_per_success: Decimal | None  # None when nothing succeeded
    value_delivered: Decimal  # sum of the successful outcomes' value amounts
    unpriced_spans: int

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
               coalesce(sum(total_cost), 0) AS cost_sum,
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
    for key, events, runs, successes, total_sum, wasted_sum, value, unpriced in result.rows:
        total, wasted = Decimal(total_sum), Decimal(wasted_sum)
        rows.append(
            OutcomeCost(
                key=key,
                events=int(events),
                runs=int(runs),
                successful_events=int(successes),
                success_rate=Decimal(successes) / Decimal(events) if events else Decimal(0),
                total_cost=total,
                wasted_cost=wasted,
                cost_per_success=total / Decimal(successes) if successes else None,
                value_delivered=Decimal(str(value)),
                unpriced_spans=int(unpriced),
            )
        )
    return rows
