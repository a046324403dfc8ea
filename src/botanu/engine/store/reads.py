"""The named reads every store offers: what the read model (`engine/reports.py`,
`engine/costing.py`) asks of a store, each one statement over the views both stores
define alike (`runs`, `events`, `spans`, `cost_lines`, `unpriced`). A store gets them by
deriving from `ViewReads` and answering `query`; a store whose SQL differs overrides the
read it must. Every value from a caller reaches SQL as a parameter, never as text;
`query` itself stays for `botanu sql` and `/api/query`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

__all__ = ["REPORT_COLUMNS", "RUN_FILTERS", "ViewReads"]

# report dimension -> the events column it groups by
REPORT_COLUMNS = {
    "workflow": "workflow",
    "customer": "customer_id",
    "tenant": "tenant_id",
    "value_type": "final_value_type",
}
# run filter -> the runs column it matches
RUN_FILTERS = {"workflow": "workflow", "customer": "customer_id", "outcome": "outcome_status"}
_SPAN_COLUMNS = (
    "trace_id",
    "span_id",
    "parent_span_id",
    "name",
    "kind",
    "service_name",
    "status_code",
    "start_ns",
    "end_ns",
    "category",
    "provider",
    "operation",
    "request_model",
    "response_model",
    "system",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "is_run_span",
    "attributes",
)


class QueryResult(NamedTuple):
    columns: list[str]
    rows: list[tuple[Any, ...]]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


class ViewReads(Protocol):
    """The named reads, written once over the shared views (a store derives from this to
    have them; `Store` includes them)."""

    def query(self, sql: str, parameters: Sequence[Any] | None = None) -> QueryResult: ...

    def report_rows(self, by: str, *, value_types: bool) -> list[tuple[Any, ...]]:
        """Events grouped by the report dimension `by` (and by value type with
        `value_types`): key, value type, events, runs, successes, pending, late outcomes,
        priced successes, unpriced events, cost, priced cost, waste, value units (of
        priced successes and partials), unpriced spans."""
        column = REPORT_COLUMNS[by]
        # aliases unlike the columns they sum: ClickHouse resolves an alias first
        kind, keys = "NULL", column
        if value_types:
            kind = "final_value_type"
            keys = column if column == kind else f"{column}, {kind}"
        return self.query(
            f"""
            SELECT {column} AS group_key,
                   {kind} AS value_kind,
                   count(*) AS n_events,
                   sum(attempts) AS n_runs,
                   count(*) FILTER (WHERE final_outcome = 'success') AS n_successes,
                   count(*) FILTER (WHERE final_outcome = 'pending') AS n_pending,
                   count(*) FILTER (WHERE outcome_resolved_at IS NOT NULL) AS n_late,
                   count(*) FILTER (WHERE final_outcome = 'success' AND total_cost IS NOT NULL)
                       AS n_priced_successes,
                   count(*) FILTER (WHERE total_cost IS NULL) AS n_events_unpriced,
                   coalesce(sum(total_cost), 0) AS cost_sum,
                   coalesce(sum(priced_cost), 0) AS priced_sum,
                   coalesce(sum(wasted_cost), 0) AS wasted_sum,
                   sum(final_value_amount) FILTER (
                       WHERE final_outcome IN ('success', 'partial') AND total_cost IS NOT NULL
                   ) AS value_units,
                   coalesce(sum(unpriced_spans), 0) AS n_unpriced
            FROM events
            GROUP BY {keys}
            """
        ).rows

    def span_count(self) -> int:
        """How many spans the store keeps."""
        return int(self.query("SELECT count(*) FROM spans").rows[0][0])

    def cost_line_counts(self) -> tuple[int, int]:
        """(unpriced cost lines, all cost lines)."""
        unpriced, lines = self.query(
            "SELECT count(*) FILTER (WHERE source = 'unpriced'), count(*) FROM cost_lines"
        ).rows[0]
        return int(unpriced), int(lines)

    def event_time_range(self) -> tuple[Any, Any]:
        """The first and last event start (None, None without events)."""
        first, last = self.query("SELECT min(started_at), max(started_at) FROM events").rows[0]
        return first, last

    def event_series(self, bucket: str) -> list[tuple[Any, ...]]:
        """Per workflow and `bucket` ('hour' or 'day') of the event's first attempt:
        workflow, bucket start, events, successes, priced successes, cost."""
        return self.query(
            """
            SELECT workflow,
                   date_trunc(?, started_at) AS bucket,
                   count(*) AS events,
                   count(*) FILTER (WHERE final_outcome = 'success') AS successes,
                   count(*) FILTER (WHERE final_outcome = 'success' AND total_cost IS NOT NULL)
                       AS priced_successes,
                   coalesce(sum(total_cost), 0) AS total_cost
            FROM events
            GROUP BY ALL
            ORDER BY workflow NULLS FIRST, bucket
            """,
            [bucket],
        ).rows

    def runs(
        self, columns: Sequence[str], filters: dict[str, str | None], limit: int
    ) -> list[dict[str, Any]]:
        """`columns` of the newest `limit` runs matching `filters` (`RUN_FILTERS` names)."""
        where, parameters = [], []
        for name, value in filters.items():
            if value is not None:
                where.append(f"{RUN_FILTERS[name]} = ?")
                parameters.append(value)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        return self.query(
            f"SELECT {', '.join(columns)} FROM runs {clause} "
            "ORDER BY started_at DESC, run_id DESC LIMIT ?",
            [*parameters, limit],
        ).as_dicts()

    def event_outcomes(self, event_ids: Sequence[str]) -> list[tuple[Any, ...]]:
        """(workflow, event id, final outcome, its source, when resolved late) of the
        events with these ids."""
        if not event_ids:
            return []
        return self.query(
            "SELECT workflow, event_id, final_outcome, outcome_source, outcome_resolved_at "
            f"FROM events WHERE event_id IN ({', '.join('?' * len(event_ids))})",
            list(event_ids),
        ).rows

    def run_filter_values(self, name: str) -> list[str]:
        """The values the run filter `name` can take."""
        column = RUN_FILTERS[name]
        rows = self.query(
            f"SELECT DISTINCT {column} FROM runs WHERE {column} IS NOT NULL ORDER BY 1"
        ).rows
        return [str(row[0]) for row in rows]

    def run_row(self, run_id: str) -> dict[str, Any] | None:
        """The run's row of `runs`, with its run span's error type; None if unknown."""
        found = self.query("SELECT * FROM runs WHERE run_id = ?", [run_id]).as_dicts()
        if not found:
            return None
        error = self.query(
            "SELECT outcome_error_type FROM spans WHERE run_id = ? AND is_run_span LIMIT 1",
            [run_id],
        ).rows
        return {**found[0], "outcome_error_type": error[0][0] if error else None}

    def run_spans(self, run_id: str) -> list[dict[str, Any]]:
        """The run's spans in start order."""
        return self.query(
            f"SELECT {', '.join(_SPAN_COLUMNS)} FROM spans WHERE run_id = ? "
            "ORDER BY start_ns, end_ns DESC, span_id",
            [run_id],
        ).as_dicts()

    def run_cost_lines(self, run_id: str) -> list[dict[str, Any]]:
        """The cost lines of the run's spans, in the spans' start order."""
        return self.query(
            """
            SELECT s.trace_id, s.span_id, s.name, c.category, s.provider,
                   coalesce(s.response_model, s.request_model, s.system) AS model,
                   c.amount, c.currency, c.source, c.catalog_version, c.matched_provider,
                   c.matched_model, c.effective_date, c.estimated, c.detail
            FROM cost_lines c JOIN spans s USING (trace_id, span_id)
            WHERE s.run_id = ?
            ORDER BY s.start_ns, s.span_id
            """,
            [run_id],
        ).as_dicts()

    def unpriced_groups(self) -> list[dict[str, Any]]:
        """The `unpriced` view, most spans first."""
        return self.query(
            "SELECT * FROM unpriced ORDER BY spans DESC, category, provider, model"
        ).as_dicts()
