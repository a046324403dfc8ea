"""The run rollup, defined once: each column with what it reads of a run's spans and how
partial rollups of one run combine. Every way a store keeps it comes from this list:

- DuckDB: a write rolls up its batch of new spans and merges that into the runs already
  there (`merge_sql`); a rebuild rolls up all of a run's spans (`rollup_sql`). A property
  test checks the two give the same rows.
- ClickHouse: `botanu price` rolls up each UTC day of spans (`day_rollup_sql`), and the
  views merge a run's days (`day_merge_sql`). The contract test checks both stores give
  the same runs.

Each span belongs to one run. `own_*` come from the run's own span, `any_*` from any of
its spans (for runs whose run span has not arrived). The outcome that stands is the run
span's, else the latest-ending span's that has one (its rank). ClickHouse keeps a rank per
outcome field, the rank of the span the field came from, so days merge exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["ROLLUP_COLUMNS", "day_merge_sql", "day_rollup_sql", "merge_sql", "rollup_sql"]

# What a column is over a run's spans, and how partials of one run combine:
#   own     - the run span's value; the first one known stays
#   any     - any span's value; the first one known stays
#   first   - the earliest start;  last - the latest end
#   sum     - the sum of `value` (0 when none), over the spans `where` holds
#   count   - the spans `where` holds
#   rank    - the outcome's rank (DuckDB only: ClickHouse ranks each outcome field)
#   outcome - an outcome field: the value of the partial with the higher rank
Kind = Literal["own", "any", "first", "last", "sum", "count", "rank", "outcome"]


@dataclass(frozen=True, slots=True)
class RollupColumn:
    name: str  # in DuckDB's run_rollup
    day_name: str  # in ClickHouse's botanu_run_rollup (its aliases are global to a query)
    kind: Kind
    value: str = ""  # the span_rows column read
    where: str | None = None  # sum and count: which spans


def _pair(key: str) -> tuple[RollupColumn, RollupColumn]:
    return (
        RollupColumn(f"own_{key}", f"own_{key}", "own", key),
        RollupColumn(f"any_{key}", f"any_{key}", "any", key),
    )


def _cost(category: str | None) -> RollupColumn:
    if category is None:
        return RollupColumn("total_cost", "cost_total", "sum", "amount")
    return RollupColumn(
        f"{category}_cost", f"cost_{category}", "sum", "amount", f"category = '{category}'"
    )


ROLLUP_COLUMNS: tuple[RollupColumn, ...] = (
    *(c for key in ("event_id", "workflow", "customer_id", "tenant_id", "environment")
      for c in _pair(key)),
    RollupColumn("attempt", "own_attempt", "own", "attempt"),
    RollupColumn("retry_of_run_id", "own_retry_of_run_id", "own", "retry_of_run_id"),
    RollupColumn("parent_run_id", "own_parent_run_id", "own", "parent_run_id"),
    RollupColumn("start_ns", "first_start_ns", "first", "start_ns"),
    RollupColumn("end_ns", "last_end_ns", "last", "end_ns"),
    _cost(None),
    *(_cost(category) for category in ("llm", "db", "storage", "messaging", "other")),
    RollupColumn("unpriced_spans", "n_unpriced", "count", where="price_source = 'unpriced'"),
    RollupColumn("spans", "n_spans", "count"),
    RollupColumn("outcome_rank", "", "rank"),
    RollupColumn("outcome_status", "status", "outcome", "outcome_status"),
    RollupColumn("outcome_value_type", "value_type", "outcome", "outcome_value_type"),
    RollupColumn("outcome_value_amount", "value_amount", "outcome", "outcome_value_amount"),
    RollupColumn("outcome_reason", "reason", "outcome", "outcome_reason"),
    RollupColumn("outcome_source", "source", "outcome", "outcome_source"),
)  # fmt: skip

_SEP = ",\n    "

# --- DuckDB: one row per run ------------------------------------------------------------

# a span's outcome rank: the run span above every other, then the later end
_RANK = "is_run_span::HUGEINT * 18446744073709551616 + end_ns"
_HAS_OUTCOME = "FILTER (WHERE outcome_status IS NOT NULL)"


def _of_spans(c: RollupColumn) -> str:
    where = f" FILTER (WHERE {c.where})" if c.where else ""
    return {
        "own": f"any_value({c.value}) FILTER (WHERE is_run_span)",
        "any": f"any_value({c.value})",
        "first": f"min({c.value})",
        "last": f"max({c.value})",
        "sum": f"coalesce(sum({c.value}){where}, 0)",
        "count": f"count(*){where}",
        "rank": f"max({_RANK}) {_HAS_OUTCOME}",
        "outcome": f"arg_max({c.value}, {_RANK}) {_HAS_OUTCOME}",
    }[c.kind]


def _merged(c: RollupColumn) -> str:
    old, new = f"run_rollup.{c.name}", f"batch.{c.name}"
    return {
        "own": f"coalesce({old}, {new})",
        "any": f"coalesce({old}, {new})",
        "first": f"least({old}, {new})",
        "last": f"greatest({old}, {new})",
        "sum": f"{old} + {new}",
        "count": f"{old} + {new}",
        "rank": f"greatest({old}, {new})",
        "outcome": (
            "CASE WHEN batch.outcome_rank > coalesce(run_rollup.outcome_rank, -1) "
            f"THEN {new} ELSE {old} END"
        ),
    }[c.kind]


def rollup_sql(source: str) -> str:
    """The run_rollup rows of every run with spans in `source` (a table or an aliased
    subquery of span_rows' shape), by column name."""
    columns = _SEP.join(f"{_of_spans(c)} AS {c.name}" for c in ROLLUP_COLUMNS)
    return (
        f"SELECT\n    run_id,\n    {columns}\nFROM {source}\n"
        "WHERE run_id IS NOT NULL\nGROUP BY run_id"
    )


def merge_sql(batch: str) -> list[str]:
    """The statements that merge the rollup rows in table `batch` (`rollup_sql` of new
    spans) into run_rollup: the runs already there updated, the others inserted. (Two
    statements cost ~40% less than one INSERT ... ON CONFLICT DO UPDATE.)"""
    merged = _SEP.join(f"{c.name} = {_merged(c)}" for c in ROLLUP_COLUMNS)
    return [
        f"UPDATE run_rollup SET\n    {merged}\nFROM {batch} AS batch\n"
        "WHERE run_rollup.run_id = batch.run_id",
        f"INSERT INTO run_rollup BY NAME SELECT * FROM {batch} ANTI JOIN run_rollup USING (run_id)",
    ]


# --- ClickHouse: one row per (UTC day, run) ------------------------------------------------

_DAY_COLUMNS = tuple(c for c in ROLLUP_COLUMNS if c.kind != "rank")


def _of_day(c: RollupColumn) -> list[str]:
    """A day's column(s) over the spans of the subquery in `day_rollup_sql` (`rank` is
    the span's outcome rank there)."""
    if c.kind == "outcome":
        # the field's rank is the rank of the span it came from, so a NULL field of a
        # later day does not hide a value of an earlier one
        has = "outcome_status IS NOT NULL"
        with_value = has if c.value == "outcome_status" else f"{has} AND {c.value} IS NOT NULL"
        return [f"argMaxIf({c.value}, rank, {has})", f"maxIf(rank, {with_value})"]
    if c.kind == "sum":
        summed = f"sumIf({c.value}, {c.where})" if c.where else f"sum({c.value})"
        return [f"coalesce({summed}, 0)"]
    if c.kind == "count":
        return [f"countIf({c.where})" if c.where else "count()"]
    return [
        {
            "own": f"anyIf({c.value}, is_run_span)",
            "any": f"any({c.value})",
            "first": f"min({c.value})",
            "last": f"max({c.value})",
        }[c.kind]
    ]


def day_rollup_sql(db: str) -> str:
    """Insert the rollup of one UTC day of priced spans ({lo}, {hi}: its bounds) into the
    stage table, as {day}."""
    names = [
        name
        for c in _DAY_COLUMNS
        for name in ((c.day_name, f"{c.day_name}_rank") if c.kind == "outcome" else (c.day_name,))
    ]
    values = [value for c in _DAY_COLUMNS for value in _of_day(c)]
    return (
        f"INSERT INTO {db}.botanu_run_rollup_stage (day, run_id, {', '.join(names)})\n"
        f"SELECT\n    {{day:Date}},\n    assumeNotNull(run_id),\n    {_SEP.join(values)}\n"
        "FROM (\n"
        "    SELECT *, bitShiftLeft(toUInt128(is_run_span), 64) + toUInt128(end_ns) + 1 AS rank\n"
        f"    FROM {db}.botanu_spans FINAL\n"
        "    WHERE start_time >= {lo:DateTime64(9, 'UTC')} "
        "AND start_time < {hi:DateTime64(9, 'UTC')}\n"
        "      AND run_id IS NOT NULL\n"
        ")\nGROUP BY run_id"
    )


def day_merge_sql(db: str) -> str:
    """A run's day rows merged into one, with the day column names (the views read it)."""
    merged = {
        "own": "any({0}) AS {0}",
        "any": "any({0}) AS {0}",
        "first": "min({0}) AS {0}",
        "last": "max({0}) AS {0}",
        "sum": "sum({0}) AS {0}",
        "count": "sum({0}) AS {0}",
        "outcome": "argMax({0}, {0}_rank) AS {0}",
    }
    columns = _SEP.join(merged[c.kind].format(c.day_name) for c in _DAY_COLUMNS)
    return f"SELECT\n    run_id,\n    {columns}\nFROM {db}.botanu_run_rollup\nGROUP BY run_id"
