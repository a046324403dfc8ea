"""`botanu price` inside ClickHouse: a UTC day of the Collector's spans normalized and
priced by SQL, never read into Python. The SQL comes from the engine's own declarations
(the normalize table, apply.sql and the quotes of the bulk pricer), so the rows are the
ones the Python path makes. The day's steps, each a statement over the day alone:

1. stage: the day's new spans normalized (`in_database.normalized_columns`), each with
   its pricing key's hash; a span SQL cannot read exactly is marked `python`;
2. quotes: the day's distinct pricing keys go to the bulk pricer, which gives a quote per
   key and the lines they name; both are loaded as small tables beside the stage;
3. priced: the stage joined to its quotes through apply.sql (rows it leaves to the
   pricer marked `python`), then to the lines, into `botanu_spans`;
4. the spans marked `python` are named for the job to read (as `pending.sql` reads
   them) and price in Python with the same pricer.

The stage tables are named after the day (workers never share a day) and dropped at the
end, or at the start of the next attempt after a crash.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, Protocol

from botanu import semconv as sc
from botanu.engine.batch import SCALAR_FIELDS
from botanu.engine.ingest.bounds import MAX_SPAN_COST
from botanu.engine.ingest.in_database import first_value, normalized_columns
from botanu.engine.pricing import apply_sql
from botanu.engine.pricing._bulk import KEY_FIELDS
from botanu.engine.pricing._sources import QUANTITY_FIELDS, REPORTED_ZERO_NOTE, REQUEST_CATEGORIES
from botanu.engine.records import COST_COLUMNS, TOKEN_FIELDS


class ClickHouseStore(Protocol):
    """What these steps use of the ClickHouse store (its SQL runners and names)."""

    url: Any
    _db: str
    _traces: str
    _resource: str

    def _command(
        self,
        sql: str,
        parameters: dict[str, Any] | None = None,
        settings: dict[str, Any] | None = None,
    ) -> None: ...

    def _rows(self, sql: str, parameters: dict[str, Any] | None = None) -> list[Any]: ...

    def _arrow(self, sql: str, parameters: dict[str, Any]) -> Any: ...

    def _insert_arrow(
        self, table: str, rows: Any, settings: dict[str, Any] | None = None
    ) -> None: ...


__all__ = ["QuotesFor", "price_day"]

# (keys) -> (quote columns, one row per key in order; lines with their ids)
QuotesFor = Callable[[Sequence[tuple[Any, ...]]], tuple[Any, Any]]
_COSTS = tuple(COST_COLUMNS.values())  # the cost line in botanu_spans
_LINE_TYPES = {
    "line_id": "Int32",
    "amount": "Nullable(Decimal(38, 18))",
    "price_source": "Nullable(String)",
    "catalog_version": "Nullable(String)",
    "matched_provider": "Nullable(String)",
    "matched_model": "Nullable(String)",
    "effective_date": "Nullable(Date)",
    "estimated": "Nullable(Bool)",
    "price_detail": "Nullable(String)",
}


def price_day(
    store: ClickHouseStore, day: date, quotes_for: QuotesFor, new_only: str, window: dict[str, Any]
) -> tuple[int, str]:
    """Price the day's spans that `new_only` selects in SQL; returns how many spans the
    day had and the SQL condition (over TraceId, SpanId) of those left to Python."""
    names = _tables(store._db, day)
    drop_stage(store, day)  # what a run stopped midway left
    spans = _stage(store, names["stage"], new_only, window)
    if not spans:
        return 0, "0"
    keys = store._arrow(
        f"SELECT DISTINCT {', '.join(KEY_FIELDS)} FROM {names['stage']} WHERE NOT python", {}
    )
    if keys.num_rows:
        day_number = day.toordinal() - date(1970, 1, 1).toordinal()
        rows = zip(*(keys[name].to_pylist() for name in KEY_FIELDS), strict=True)
        quotes, lines = quotes_for([(*row, day_number) for row in rows])
        for name in KEY_FIELDS:  # each quote beside its key: the stage joins on it
            quotes = quotes.append_column(name, keys[name])
        _load(store, names["quotes"], quotes, _quote_types(quotes))
        _load(store, names["lines"], _with_no_line(lines), _LINE_TYPES)
        store._command(
            f"CREATE TABLE {names['priced']} ENGINE = Memory AS\n"
            f"{_priced(names, (*SCALAR_FIELDS, 'on_child'))}",
            settings=_APPLY_SETTINGS,
        )
        _insert(store, names)
    left = f"SELECT trace_id, span_id FROM {names['stage']} WHERE python"
    if keys.num_rows:  # and those apply.sql left to the pricer
        left += f" UNION ALL SELECT trace_id, span_id FROM {names['priced']} WHERE python"
    return spans, f"(TraceId, SpanId) IN ({left})"


def drop_stage(store: ClickHouseStore, day: date) -> None:
    """Drop the day's stage tables, where they are."""
    for table in _tables(store._db, day).values():
        store._command(f"DROP TABLE IF EXISTS {table}")


def _tables(db: str, day: date) -> dict[str, str]:
    """The day's stage tables, qualified by the database (`_bare` strips it)."""
    tag = day.strftime("%Y%m%d")
    return {part: f"{db}.botanu_{part}_{tag}" for part in ("stage", "quotes", "lines", "priced")}


def _bare(table: str) -> str:
    return table.rsplit(".", 1)[1]


def _stage(store: ClickHouseStore, stage: str, new_only: str, window: dict[str, Any]) -> int:
    columns, python = normalized_columns(store._resource)
    types = dict(
        store._rows(
            "SELECT name, type FROM system.columns WHERE database = {db:String} "
            "AND table = 'botanu_spans'",
            {"db": store.url.database},
        )
    )
    on_child = first_value("SpanAttributes", (sc.LLM_USAGE_ON_CHILD,))
    select = ",\n    ".join(f"CAST({sql} AS {types[n]}) AS {n}" for n, sql in columns.items())
    store._command(
        f"CREATE TABLE {stage} ENGINE = Memory AS\nSELECT\n    {select},\n"
        f"    {python} AS python,\n"
        f"    {on_child} = 'true' AS on_child\n"
        f"FROM {store._traces}\n"
        "WHERE Timestamp >= {lo:DateTime64(9, 'UTC')} AND Timestamp < {hi:DateTime64(9, 'UTC')}\n"
        f"  {new_only}\n"
        "LIMIT 1 BY TraceId, SpanId",
        window,
        settings={"short_circuit_function_evaluation": "disable"},
    )
    return int(store._rows(f"SELECT count() FROM {stage}")[0][0])


def _load(store: ClickHouseStore, table: str, rows: Any, types: dict[str, str]) -> None:
    columns = ", ".join(f"{name} {types[name]}" for name in rows.column_names)
    store._command(f"CREATE TABLE {table} ({columns}) ENGINE = Memory")
    store._insert_arrow(_bare(table), rows)


def _quote_types(quotes: Any) -> dict[str, str]:
    import pyarrow as pa

    types = {}
    for field in quotes.schema:
        kind = field.type
        if pa.types.is_decimal(kind):  # rates too: Int64 * Decimal64(18) would overflow
            sql = "Decimal(38, 18)"
        elif pa.types.is_string(kind):
            sql = "String"
        elif pa.types.is_boolean(kind):
            sql = "Bool"
        else:
            sql = {8: "Int8", 16: "Int16", 32: "Int32", 64: "Int64"}[kind.bit_width]
        types[field.name] = sql if field.name == "category" else f"Nullable({sql})"
    return types


def _with_no_line(lines: Any) -> Any:
    """The lines and one more, `_NO_LINE`: a span without a cost line joins it (an inner
    join keeps the applier's types as they are; ClickHouse's outer join would not)."""
    import pyarrow as pa

    nothing = {name: pa.nulls(1, lines.schema.field(name).type) for name in lines.column_names}
    nothing["line_id"] = pa.array([_NO_LINE], pa.int32())
    return pa.concat_tables([lines, pa.table(nothing, schema=lines.schema)])


def _priced(names: dict[str, str], carry: tuple[str, ...]) -> str:
    """The stage's spans through apply.sql, `carry` passed along, and `python`: the
    rows it leaves to Python (its -1, and lines in another currency)."""
    usage = " OR ".join(f"ifNull({name} > 0, false)" for name in (*TOKEN_FIELDS, *QUANTITY_FIELDS))
    requests = ", ".join(f"'{c}'" for c in REQUEST_CATEGORIES)
    carries = f"(category IN ({requests}) OR {usage})"
    # the key's NULLs match each other (a span without a model meets its quote)
    on = " AND ".join(f"s.{name} <=> q.{name}" for name in KEY_FIELDS)
    rows = (
        f"(SELECT s.* EXCEPT (python), q.* EXCEPT ({', '.join(KEY_FIELDS)}),\n"
        f"    if(reported_cost = 0 AND {carries}, true, NULL) AS zero,\n"
        f"    if(status_code = 'error' AND NOT {carries}, true, NULL) AS failed\n"
        f" FROM {names['stage']} AS s INNER JOIN {names['quotes']} AS q ON {on}"
        " WHERE NOT s.python)"
    )
    applied = apply_sql("clickhouse", rows, (*carry, "q_id", "q_python"))
    return (
        "SELECT *, ifNull(line < 0 OR (q_python AND (line = q_id OR line = q_id + 3)), false)"
        f" AS python FROM ({applied})"
    )


_NO_LINE = -3  # apply.sql's lines are >= 0, and -1 sends a span to Python
# how apply.sql runs here: every branch for every row (faster, and no NULL lost between
# branches); a branch not taken may overflow harmlessly, the one taken is bounded
_APPLY_SETTINGS = {
    "decimal_check_overflow": 0,
    "short_circuit_function_evaluation": "disable",
    "cast_keep_nullable": 1,  # NULL stays NULL through a cast, as in DuckDB
}


def _insert(store: ClickHouseStore, names: dict[str, str]) -> None:
    beyond = f"ifNull(p.amount > toDecimal128('{MAX_SPAN_COST}', 0), false)"
    made = "coalesce(p.amount, l.amount)"
    costs = {
        "amount": f"if(p.on_child OR {beyond.replace('p.amount', made)}, NULL, {made})",
        "currency": f"if(l.line_id = {_NO_LINE}, NULL, 'USD')",
        "price_source": "l.price_source",
        "catalog_version": "l.catalog_version",
        "matched_provider": "l.matched_provider",
        "matched_model": "l.matched_model",
        "effective_date": "l.effective_date",
        "estimated": "l.estimated",
        "price_detail": (
            f"multiIf({beyond.replace('p.amount', made)}, "
            f"'amount dropped: beyond {MAX_SPAN_COST} for one span', "
            f"p.zero AND p.detail IS NOT NULL, concat(p.detail, '; {REPORTED_ZERO_NOTE}'), "
            "coalesce(p.detail, l.price_detail))"
        ),
    }
    for name in _COSTS:
        if name != "amount":
            costs[name] = f"if(p.on_child, NULL, {costs[name]})"
    spans = ", ".join(f"p.{name}" for name in SCALAR_FIELDS)
    store._command(
        f"INSERT INTO {store._db}.botanu_spans "
        f"({', '.join(SCALAR_FIELDS)}, {', '.join(_COSTS)}, start_time, version)\n"
        f"SELECT {spans}, {', '.join(costs[name] for name in _COSTS)},\n"
        f"    fromUnixTimestamp64Nano(p.start_ns, 'UTC'), {time.time_ns()}\n"
        f"FROM {names['priced']} AS p\n"
        f"INNER JOIN {names['lines']} AS l ON ifNull(p.line, {_NO_LINE}) = l.line_id\n"
        "WHERE NOT p.python",
        settings={"optimize_on_insert": 0},
    )
