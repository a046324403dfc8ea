"""The read model: what the CLI and the dashboard show, read from the store, one function
per view (overview, report, runs, one run, unpriced, prices), each returning plain Python
values (Decimals, datetimes). The CLI's tables, the dashboard's pages and their JSON twins
all render these, so they always carry the same numbers.

Reads only through the store's named reads (`engine/store/reads.py`); every value from a
request reaches SQL as a parameter there, never as text.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from botanu.engine.costing import Dimension, OutcomeCost, cost_per_outcome, value_notes
from botanu.engine.store import Store

__all__ = [
    "CLI_RUN_COLUMNS",
    "RUN_COLUMNS",
    "RunFilters",
    "overview",
    "price_rows",
    "report",
    "run_choices",
    "run_detail",
    "run_list",
    "unpriced",
]

# the columns of `botanu runs` (CLI_RUN_COLUMNS), then the ones the dashboard adds
RUN_COLUMNS = (
    "run_id",
    "workflow",
    "event_id",
    "customer_id",
    "attempt",
    "started_at",
    "total_cost",
    "unpriced_spans",
    "outcome_status",
    "tenant_id",
    "duration_s",
    "outcome_value_type",
    "outcome_value_amount",
    "outcome_reason",
    "priced_cost",
    "outcome_source",
)
CLI_RUN_COLUMNS = RUN_COLUMNS[:9]
_BUCKET_DAYS_FROM = timedelta(days=2)  # data spanning more than this is charted per day


def report(store: Store, by: Dimension) -> list[OutcomeCost]:
    return cost_per_outcome(store, by)


def overview(store: Store) -> dict[str, Any]:
    """Headline figures, cost per successful outcome over time by workflow, and the
    workflows' report rows."""
    rows = cost_per_outcome(store, "workflow")
    total = sum((r.total_cost for r in rows), Decimal(0))
    wasted = sum((r.wasted_cost for r in rows), Decimal(0))
    events = sum(r.events for r in rows)
    runs = sum(r.runs for r in rows)
    successes = sum(r.successful_events for r in rows)
    pending = sum(r.pending_events for r in rows)
    priced_successes = sum(r.priced_successes for r in rows)
    unpriced_lines, cost_lines = store.cost_line_counts()
    bucket, series = _series(store)
    # value and ROI over the workflows whose value is known (in USD)
    valued = [r for r in rows if r.value_delivered is not None]
    value = sum((r.value_delivered or Decimal(0) for r in valued), Decimal(0)) if valued else None
    valued_cost = sum((r.total_cost for r in valued), Decimal(0))
    return {
        "total_cost": total,
        "wasted_cost": wasted,
        "wasted_share": wasted / total if total else None,
        "events": events,
        "runs": runs,
        "successful_events": successes,
        "pending_events": pending,
        "success_rate": (
            Decimal(successes) / Decimal(events - pending) if events > pending else None
        ),
        # cost figures cover fully priced events only; these say what was left out
        "cost_per_success": total / Decimal(priced_successes) if priced_successes else None,
        "priced_cost": sum((r.priced_cost for r in rows), Decimal(0)),
        "events_unpriced": sum(r.events_unpriced for r in rows),
        "unpriced_spans": int(unpriced_lines),
        "cost_lines": int(cost_lines),
        "unpriced_share": (
            Decimal(int(unpriced_lines)) / Decimal(int(cost_lines)) if cost_lines else None
        ),
        "value_delivered": value,
        "roi": (value - valued_cost) / valued_cost if value is not None and valued_cost else None,
        "value_notes": value_notes(rows),
        "bucket": bucket,
        "series": series,
        "workflows": rows,
    }


def _series(store: Store) -> tuple[str, list[dict[str, Any]]]:
    """Cost per successful outcome per workflow and time bucket (by the event's first
    attempt): all attempts' cost over the successful events, None where none succeeded;
    only events whose cost is fully known count."""
    first, last = store.event_time_range()
    bucket = "day" if first is not None and last - first > _BUCKET_DAYS_FROM else "hour"
    result = store.event_series(bucket)
    series: dict[str | None, list[dict[str, Any]]] = {}
    for workflow, start, events, successes, priced_successes, total in result:
        cost = Decimal(total)
        series.setdefault(workflow, []).append(
            {
                "bucket": start,
                "events": int(events),
                "successful_events": int(successes),
                "total_cost": cost,
                "cost_per_success": (
                    cost / Decimal(priced_successes) if priced_successes else None
                ),
            }
        )
    return bucket, [{"workflow": w, "points": p} for w, p in series.items()]


class RunFilters:
    """The run list's query string: workflow, customer, outcome, limit (1 to 1000)."""

    DEFAULT_LIMIT = 50
    MAX_LIMIT = 1000

    def __init__(
        self,
        workflow: str | None = None,
        customer: str | None = None,
        outcome: str | None = None,
        limit: str | int | None = None,
        *,
        max_limit: int = MAX_LIMIT,
    ) -> None:
        self.workflow = workflow or None
        self.customer = customer or None
        self.outcome = outcome or None
        if limit in (None, ""):
            self.limit = self.DEFAULT_LIMIT
        else:
            try:
                self.limit = int(limit)
            except ValueError:
                raise ValueError(f"limit must be a whole number, not {limit!r}") from None
            if not 1 <= self.limit <= max_limit:
                raise ValueError(f"limit must be between 1 and {max_limit}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow,
            "customer": self.customer,
            "outcome": self.outcome,
            "limit": self.limit,
        }


def run_list(store: Store, filters: RunFilters) -> list[dict[str, Any]]:
    """Runs, newest first, filtered."""
    wanted = {"workflow": filters.workflow, "customer": filters.customer}
    runs = store.runs(RUN_COLUMNS, {**wanted, "outcome": filters.outcome}, filters.limit)
    _add_event_outcomes(store, runs)
    return runs


def _add_event_outcomes(store: Store, runs: list[dict[str, Any]]) -> None:
    """Each run's event outcome: the final one of its event and where it came from (a
    late outcome wins over the runs' own), with when it was resolved late."""
    ids = sorted({str(run["event_id"]) for run in runs if run["event_id"] is not None})
    found = {(row[0], row[1]): row[2:] for row in store.event_outcomes(ids)}
    for run in runs:
        outcome, source, resolved_at = found.get(
            (run["workflow"], run["event_id"]), (None, None, None)
        )
        run["event_outcome"] = outcome
        run["event_outcome_source"] = source
        run["event_outcome_resolved_at"] = resolved_at


def run_choices(store: Store) -> dict[str, list[str]]:
    """The values the run list's filters can take."""
    return {name: store.run_filter_values(name) for name in ("workflow", "customer", "outcome")}


def run_detail(store: Store, run_id: str) -> dict[str, Any] | None:
    """One run: its row of `runs` with the run span's error type, its spans in start
    order, and the cost lines of those spans; None for an unknown run."""
    run = store.run_row(run_id)
    if run is None:
        return None
    _add_event_outcomes(store, [run])
    spans, lines = store.run_spans(run_id), store.run_cost_lines(run_id)
    return {"run": run, "spans": spans, "cost_lines": lines}


def unpriced(store: Store) -> list[dict[str, Any]]:
    """The `unpriced` view, most spans first."""
    return store.unpriced_groups()


def price_rows(
    provider: str, model: str, at: datetime | None = None, tier: str | None = None
) -> list[dict[str, Any]]:
    """What a million tokens of each kind cost for the model on the day (default today,
    UTC), through the same pricer as real spans: the rows of `botanu prices --json`."""
    from botanu.engine.pricing_lookup import PRICE_COLUMNS, explain_llm_price

    when = (at or datetime.now(timezone.utc)).replace(tzinfo=timezone.utc)
    rows = explain_llm_price(provider, model, when, tier)
    return [{c: row[c] for c in PRICE_COLUMNS} for row in rows]
