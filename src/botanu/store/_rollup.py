"""The run rollup, defined once: each column of `run_rollup` with what it is over a run's
spans and how two partial rollups of one run combine. Both ways the store keeps it come
from this list: a write rolls up its batch of new spans and merges that into the runs
already there (`merge_sql`); a rebuild rolls up all of a run's spans (`rollup_sql`). A
property test checks the two give the same rows.

Each span belongs to one run. `own_*` come from the run's own span, `any_*` from any of
its spans (for runs whose run span has not arrived). The outcome that stands is the run
span's, else the latest-ending span's that has one (`outcome_rank`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["ROLLUP_COLUMNS", "merge_sql", "rollup_sql"]

# How a column of two partial rollups of one run combines:
#   kept    - the first one known stays (own and any values, retry links)
#   added   - summed (costs, counts)
#   least / greatest - the earliest start, the latest end
#   ranked  - the value of the partial with the higher outcome_rank (the outcome fields)
#   rank    - outcome_rank itself: the higher one
Merge = Literal["kept", "added", "least", "greatest", "ranked", "rank"]

# the rank of a span's outcome: the run span above every other, then the later end
_RANK = "is_run_span::HUGEINT * 18446744073709551616 + end_ns"
_HAS_OUTCOME = "FILTER (WHERE outcome_status IS NOT NULL)"


@dataclass(frozen=True, slots=True)
class RollupColumn:
    name: str
    of_spans: str  # the aggregate over the run's spans (span_rows columns)
    merge: Merge


def _own(column: str, name: str | None = None) -> RollupColumn:
    return RollupColumn(
        name or f"own_{column}", f"any_value({column}) FILTER (WHERE is_run_span)", "kept"
    )


def _cost(category: str | None) -> RollupColumn:
    where = "" if category is None else f" FILTER (WHERE category = '{category}')"
    name = "total_cost" if category is None else f"{category}_cost"
    return RollupColumn(name, f"coalesce(sum(amount){where}, 0)", "added")


def _outcome(column: str) -> RollupColumn:
    return RollupColumn(column, f"arg_max({column}, {_RANK}) {_HAS_OUTCOME}", "ranked")


ROLLUP_COLUMNS: tuple[RollupColumn, ...] = (
    *(
        column
        for key in ("event_id", "workflow", "customer_id", "tenant_id", "environment")
        for column in (_own(key), RollupColumn(f"any_{key}", f"any_value({key})", "kept"))
    ),
    _own("attempt", "attempt"),
    _own("retry_of_run_id", "retry_of_run_id"),
    _own("parent_run_id", "parent_run_id"),
    RollupColumn("start_ns", "min(start_ns)", "least"),
    RollupColumn("end_ns", "max(end_ns)", "greatest"),
    _cost(None),
    *(_cost(category) for category in ("llm", "db", "storage", "messaging", "other")),
    RollupColumn("unpriced_spans", "count(*) FILTER (WHERE price_source = 'unpriced')", "added"),
    RollupColumn("spans", "count(*)", "added"),
    RollupColumn("outcome_rank", f"max({_RANK}) {_HAS_OUTCOME}", "rank"),
    *(
        _outcome(column)
        for column in (
            "outcome_status",
            "outcome_value_type",
            "outcome_value_amount",
            "outcome_reason",
            "outcome_source",
        )
    ),
)


def rollup_sql(source: str) -> str:
    """The run_rollup rows of every run with spans in `source` (a table or an aliased
    subquery of span_rows' shape), by column name."""
    columns = ",\n    ".join(f"{c.of_spans} AS {c.name}" for c in ROLLUP_COLUMNS)
    return (
        f"SELECT\n    run_id,\n    {columns}\nFROM {source}\n"
        "WHERE run_id IS NOT NULL\nGROUP BY run_id"
    )


_MERGED = {
    "kept": "coalesce(run_rollup.{0}, batch.{0})",
    "added": "run_rollup.{0} + batch.{0}",
    "least": "least(run_rollup.{0}, batch.{0})",
    "greatest": "greatest(run_rollup.{0}, batch.{0})",
    "ranked": (
        "CASE WHEN batch.outcome_rank > coalesce(run_rollup.outcome_rank, -1) "
        "THEN batch.{0} ELSE run_rollup.{0} END"
    ),
    "rank": "greatest(run_rollup.{0}, batch.{0})",
}


def merge_sql(batch: str) -> list[str]:
    """The statements that merge the rollup rows in table `batch` (`rollup_sql` of new
    spans) into run_rollup: the runs already there updated, the others inserted. (Two
    statements cost ~40% less than one INSERT ... ON CONFLICT DO UPDATE.)"""
    merged = ",\n    ".join(f"{c.name} = {_MERGED[c.merge].format(c.name)}" for c in ROLLUP_COLUMNS)
    return [
        f"UPDATE run_rollup SET\n    {merged}\nFROM {batch} AS batch\n"
        "WHERE run_rollup.run_id = batch.run_id",
        f"INSERT INTO run_rollup BY NAME SELECT * FROM {batch} ANTI JOIN run_rollup USING (run_id)",
    ]
