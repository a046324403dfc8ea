"""The scale store: a ClickHouse database that the OpenTelemetry Collector's ClickHouse
exporter fills, read as the exporter writes it.

botanu never alters the exporter's traces table. Beside it, it keeps its own tables
(sql/tables.sql beside it): `botanu_spans`, one row per span the pricing job has seen
(the span as botanu's engine reads it, with its cost line); `botanu_run_rollup`, one
row per UTC day and run, rebuilt a day at a time; valuations; and views with the DuckDB
store's names and columns. `botanu price` (job.py) prices what is new.

Everything goes through clickhouse-connect's `Client`: `clickhouse://` URLs speak HTTP
to a server, `chdb://` URLs run the same client on the in-process engine chDB.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from botanu.engine.batch import span_rows
from botanu.engine.records import (
    COST_COLUMNS,
    PROMOTED_KEYS,
    CostLine,
    SpanRecord,
    stored_money,
)
from botanu.engine.resolutions import resolutions
from botanu.engine.store._rollup import day_merge_sql, day_rollup_sql
from botanu.engine.store.base import DayPriced, QueryResult, StoreError, checked_valuation
from botanu.engine.store.clickhouse._pricing import QuotesFor, drop_stage, price_day
from botanu.engine.store.clickhouse.job import price_days
from botanu.engine.store.clickhouse.url import ClickHouseURL, parse_clickhouse_url
from botanu.engine.store.reads import ViewReads

__all__ = ["ClickHouseStore"]

# the client logs a failed request with its traceback and botanu raises one message
# instead: without the host's own logging setup, those records go nowhere
logging.getLogger("clickhouse_connect").addHandler(logging.NullHandler())

# bumped whenever tables.sql or views.sql change: a store at another version is migrated
SCHEMA_VERSION = "4"  # 4: late outcomes and outcome sources (3: NULL unknown costs)
_DAY_NS = 86_400 * 10**9
# read with every statement (and stored with every view): an alias never hides a column
_SETTINGS = {"prefer_column_name_to_alias": 1}

# the columns of the exporter's traces table botanu reads, and the types it accepts
_TEXT = ("String", "LowCardinality(String)")
_REQUIRED: dict[str, tuple[str, ...]] = {
    "Timestamp": ("DateTime64(9)",),
    "TraceId": _TEXT,
    "SpanId": _TEXT,
    "ParentSpanId": _TEXT,
    "SpanName": _TEXT,
    "SpanKind": _TEXT,
    "ServiceName": _TEXT,
    "StatusCode": _TEXT,
    "Duration": ("UInt64", "Int64"),
    "SpanAttributes": ("Map(LowCardinality(String), String)", "Map(String, String)"),
}
_OPTIONAL = {"ResourceAttributes": _REQUIRED["SpanAttributes"]}
_KIND_NAMES = {
    "internal": "Internal",
    "server": "Server",
    "client": "Client",
    "producer": "Producer",
    "consumer": "Consumer",
    "unspecified": "Unspecified",
}
_STATUS_NAMES = {"unset": "Unset", "ok": "Ok", "error": "Error"}
# a time window [lo, hi) over botanu_spans (lo and hi are DateTime64 parameters)
_SPANS_IN = "start_time >= {lo:DateTime64(9, 'UTC')} AND start_time < {hi:DateTime64(9, 'UTC')}"
_TRACES_IN = "Timestamp >= {lo:DateTime64(9, 'UTC')} AND Timestamp < {hi:DateTime64(9, 'UTC')}"


@cache
def _sql(name: str) -> str:
    folder = resources.files(__package__) / "sql"
    return (folder / name).read_text(encoding="utf-8")


def _statements(text: str) -> list[str]:
    """The statements of a .sql file (separated by ";\\n"), comment lines dropped."""
    out = []
    for chunk in text.split(";\n"):
        lines = [line for line in chunk.splitlines() if not line.lstrip().startswith("--")]
        statement = "\n".join(lines).strip().rstrip(";")
        if statement:
            out.append(statement)
    return out


class ClickHouseStore(ViewReads):
    """A botanu store in a ClickHouse database beside the Collector's traces table."""

    dialect = "clickhouse"

    def __init__(self, url: str | ClickHouseURL, *, read_only: bool = False) -> None:
        self.url = url if isinstance(url, ClickHouseURL) else parse_clickhouse_url(url)
        self.path = self.url.display()
        self._db = f"`{self.url.database}`"
        self._traces = f"{self._db}.`{self.url.table}`"
        self._client = _connect(self.url)
        try:
            self._resource = self._check_traces()
            if not self._schema_current():
                if read_only and not self._has_tables():
                    raise StoreError(
                        f"ClickHouse store {self.path}: botanu's tables are not there yet; "
                        "run `botanu price` once to create them and price the spans"
                    )
                self._migrate()
        except BaseException:
            self._client.close()
            raise

    # --- opening ----------------------------------------------------------------------------
    def _check_traces(self) -> str:
        """Check the exporter's table is there in a shape botanu reads; returns the
        expression for a span's resource attributes. One StoreError names what is off."""
        shape = _sql("traces_shape.sql").replace("__DB__", _literal(self.url.database))
        shape = shape.replace("__TABLE__", _literal(self.url.table))
        columns = dict(self._rows(shape))
        where = f"ClickHouse store {self.path}: table {self.url.database}.{self.url.table}"
        if not columns:
            raise StoreError(
                f"{where} does not exist. Point the Collector's clickhouse exporter at "
                f"database {self.url.database} (deploy/otel-collector.yaml), let it write "
                "once, or name the table with ?table="
            )
        problems = [
            f"{name} is missing" if name not in columns else f"{name} is {columns[name]}"
            for name, types in _REQUIRED.items()
            if columns.get(name) not in types
        ]
        resource = columns.get("ResourceAttributes")
        if resource is not None and resource not in _OPTIONAL["ResourceAttributes"]:
            problems.append(f"ResourceAttributes is {resource}")
        if problems:
            hint = (
                " (the exporter's json: true schema; botanu reads its Map schema, json: false)"
                if any("JSON" in p for p in problems)
                else ""
            )
            raise StoreError(
                f"{where} is not the Collector exporter's traces table: {'; '.join(problems)}{hint}"
            )
        return "ResourceAttributes" if resource else "map()"

    def _schema_current(self) -> bool:
        found = self._rows(
            "SELECT comment FROM system.tables WHERE database = {db:String} "
            "AND name = 'botanu_spans'",
            {"db": self.url.database},
        )
        return bool(found) and found[0][0] == f"botanu schema {SCHEMA_VERSION}"

    def _has_tables(self) -> bool:
        found = self._rows(
            "SELECT count() FROM system.tables WHERE database = {db:String} "
            "AND name IN ('botanu_spans', 'botanu_run_rollup')",
            {"db": self.url.database},
        )
        return int(found[0][0]) == 2

    def _migrate(self) -> None:
        for statement in _statements(_sql("tables.sql")):
            self._command(statement.replace("__DB__", self._db))
        for statement in _statements(_views_sql()):
            self._command(statement.replace("__DB__", self._db))
        self._command(
            f"ALTER TABLE {self._db}.botanu_spans MODIFY COMMENT 'botanu schema {SCHEMA_VERSION}'"
        )

    # --- the pricing job's steps ---------------------------------------------------------
    def span_days(self, since_ns: int, until_ns: int) -> list[date]:
        """The UTC days in [since, until) on which the traces table has spans."""
        rows = self._rows(
            f"SELECT DISTINCT toDate(Timestamp, 'UTC') AS d FROM {self._traces} "
            f"WHERE {_TRACES_IN} ORDER BY d",
            {"lo": _timestamp(since_ns), "hi": _timestamp(until_ns)},
        )
        return [row[0] for row in rows]

    def price_in_database(self, day: date, quotes_for: QuotesFor, *, again: bool = False) -> Any:
        """Price the spans of `day` botanu has not priced yet (every span of it when
        `again`) inside ClickHouse (`_pricing.py`); returns how many spans there
        were and the spans left to the pricer in Python (as `pending_spans` gives them).
        The caller stores those, then calls `end_pricing(day)`."""
        lo, hi = _day_bounds(day)
        window = {"lo": _timestamp(lo), "hi": _timestamp(hi)}
        spans, left = price_day(self, day, quotes_for, self._new_only(again), window)
        return spans, self._pending(window, f"AND {left}")

    def end_pricing(self, day: date) -> None:
        """Drop the stage tables of `day`'s pricing."""
        drop_stage(self, day)

    def _new_only(self, again: bool) -> str:
        if again:
            return ""
        return (
            f"AND (TraceId, SpanId) NOT IN (SELECT trace_id, span_id FROM {self._db}"
            f".botanu_spans WHERE {_SPANS_IN})"
        )

    def pending_spans(self, day: date, *, again: bool = False) -> Any:
        """The spans of `day` botanu has not priced yet (every span of it when `again`),
        as Arrow columns named like `RawSpan`'s fields."""
        lo, hi = _day_bounds(day)
        return self._pending({"lo": _timestamp(lo), "hi": _timestamp(hi)}, self._new_only(again))

    def _pending(self, window: dict[str, Any], new_only: str) -> Any:
        sql = (
            _sql("pending.sql")
            .replace("__TRACES__", self._traces)
            .replace("__RESOURCE__", self._resource)
            .replace("__NEW_ONLY__", new_only)
        )
        return self._arrow(sql, window)

    def store_priced(self, rows: Any) -> None:
        """Keep spans normalized and priced (Arrow shaped as `span_row_schema()`) as the
        newest row of each; the rollups follow with `refresh_rollup`."""
        if rows.num_rows:
            # a span read once (pending.sql) needs no merge at insert; reads use FINAL
            self._insert_arrow(
                "botanu_spans", _spans_table(rows), settings={"optimize_on_insert": 0}
            )
            found = resolutions(rows)
            if found is not None:
                self._insert_arrow("botanu_outcome_resolutions", found)

    def refresh_rollup(self, day: date, *, force: bool = False) -> bool:
        """Rebuild the run rollup of `day` when spans of it were stored since the last
        rebuild (or when `force`): stage the day, then swap it in whole. Safe to rerun."""
        lo, hi = _day_bounds(day)
        window = {"lo": _timestamp(lo), "hi": _timestamp(hi), "day": day}
        stored = self._rows(
            f"SELECT max(version) FROM {self._db}.botanu_spans WHERE {_SPANS_IN}",
            window,
        )[0]
        built = self._rows(
            f"SELECT max(built_from) FROM {self._db}.botanu_rollup_days WHERE day = {{day:Date}}",
            window,
        )[0][0]
        if not force and (built or 0) == (stored[0] or 0):
            return False
        partition = day.strftime("%Y%m%d")
        stage = f"{self._db}.botanu_run_rollup_stage"
        self._command(f"ALTER TABLE {stage} DROP PARTITION ID '{partition}'")
        # a span's day never changes (partitions are days): FINAL need not look across
        self._command(
            day_rollup_sql(self._db),
            window,
            settings={"do_not_merge_across_partitions_select_final": 1},
        )
        staged = self._rows(f"SELECT count() FROM {stage} WHERE day = {{day:Date}}", window)
        if staged[0][0]:
            self._command(
                f"ALTER TABLE {self._db}.botanu_run_rollup REPLACE PARTITION ID '{partition}' "
                f"FROM {stage}"
            )
            self._command(f"ALTER TABLE {stage} DROP PARTITION ID '{partition}'")
        else:
            self._command(
                f"ALTER TABLE {self._db}.botanu_run_rollup DROP PARTITION ID '{partition}'"
            )
        self._command(
            f"INSERT INTO {self._db}.botanu_rollup_days (day, built_from) "
            "VALUES ({day:Date}, {built:UInt64})",
            {"day": day, "built": int(stored[0] or 0)},
        )
        return True

    # --- the Store interface ---------------------------------------------------------------
    def reprice(self, since_ns: int, until_ns: int) -> int:
        """Price every span of the days in [since, until) again (`botanu price` again)."""
        return sum(day.spans for day in price_days(self, since_ns, until_ns, again=True))

    def price_new(
        self,
        since_ns: int,
        until_ns: int,
        *,
        workers: int = 1,
        worker: int = 0,
        on_day: Callable[[DayPriced], None] | None = None,
    ) -> list[DayPriced]:
        """Price the spans the Collector stored since the last run, a UTC day at a time."""
        return price_days(self, since_ns, until_ns, workers=workers, worker=worker, on_day=on_day)

    def write(self, spans: Sequence[SpanRecord], cost_lines: Sequence[CostLine] = ()) -> int:
        """Store new spans with their cost lines: into the traces table as the exporter
        writes them, and priced into botanu's; spans already stored are skipped."""
        if not spans:
            return 0
        try:
            batch = span_rows(spans, cost_lines)
        except (ValueError, TypeError) as exc:
            raise StoreError(f"nothing was stored: {exc}") from exc
        return self.write_batch(batch)

    def write_batch(self, batch: Any) -> int:
        """`write` for spans already in columns (Arrow shaped as `span_row_schema()`).
        Not atomic as DuckDB's: rerunning after a failure stores what is missing."""
        if batch.num_rows == 0:
            return 0
        import pyarrow as pa
        import pyarrow.compute as pc

        keys = pc.binary_join_element_wise(batch["trace_id"], batch["span_id"], "/")
        bounds = pc.min_max(batch["start_ns"]).as_py()
        window = {"lo": _timestamp(bounds["min"]), "hi": _timestamp(bounds["max"] + 1)}
        stored = {
            f"{trace}/{span}"
            for trace, span in self._rows(
                f"SELECT trace_id, span_id FROM {self._db}.botanu_spans WHERE {_SPANS_IN}",
                window,
            )
        }
        seen: set[str] = set()
        keep = []
        for key in keys.to_pylist():
            keep.append(key not in stored and key not in seen)
            seen.add(key)
        new = batch.filter(pa.array(keep, pa.bool_()))
        if new.num_rows == 0:
            return 0
        self._insert_arrow(self.url.table, _exporter_rows(new, self._resource != "map()"))
        self.store_priced(new)
        for day in _days(new["start_ns"].to_pylist()):
            self.refresh_rollup(day)
        return int(new.num_rows)

    def update_costs(self, cost_lines: Sequence[CostLine]) -> int:
        """Replace the cost lines of stored spans (a reprice) and rebuild their days."""
        if not cost_lines:
            return 0
        import pyarrow as pa

        by_span = {(line.trace_id, line.span_id): line for line in cost_lines}
        current = self._arrow(
            f"SELECT * EXCEPT (start_time, priced_at, version) FROM {self._db}.botanu_spans "
            "FINAL WHERE (trace_id, span_id) IN %(keys)s",
            {"keys": list(by_span)},
        )
        if current.num_rows == 0:
            return 0
        matched = [
            by_span[key]
            for key in zip(
                current["trace_id"].to_pylist(), current["span_id"].to_pylist(), strict=True
            )
        ]
        for field_name, column in COST_COLUMNS.items():
            values = [getattr(line, field_name) for line in matched]
            if field_name == "amount":
                values = [stored_money(amount) for amount in values]
            index = current.schema.get_field_index(column)
            current = current.set_column(
                index, column, pa.array(values, current.schema.field(column).type)
            )
        self.store_priced(current)
        for day in _days(current["start_ns"].to_pylist()):
            self.refresh_rollup(day, force=True)
        return int(current.num_rows)

    def set_valuation(self, value_type: str, value_per_unit: Any, currency: str = "USD") -> None:
        """What one unit of `value_type` is worth (read by `runs.value_per_unit`)."""
        value_type, value_per_unit, currency = checked_valuation(
            value_type, value_per_unit, currency
        )
        self._command(
            f"INSERT INTO {self._db}.botanu_valuations (value_type, value_per_unit, currency) "
            "VALUES ({t:String}, {v:Decimal(38, 18)}, {c:String})",
            {"t": value_type, "v": str(value_per_unit), "c": currency},
        )

    def unset_valuation(self, value_type: str) -> bool:
        """Forget what `value_type` is worth; whether it was set."""
        known = any(t == value_type for t, _, _ in self.valuations())
        if known:
            self._command(
                f"DELETE FROM {self._db}.botanu_valuations WHERE value_type = {{t:String}}",
                {"t": value_type},
            )
        return known

    def valuations(self) -> list[tuple[str, Decimal, str]]:
        """Every valuation: (value type, value per unit, currency), by value type."""
        rows = self.query(
            f"SELECT value_type, argMax(value_per_unit, updated_at), argMax(currency, updated_at) "
            f"FROM {self._db}.botanu_valuations GROUP BY value_type ORDER BY value_type"
        ).rows
        return [(str(t), Decimal(v), str(c)) for t, v, c in rows]

    def query(self, sql: str, parameters: Sequence[Any] | None = None) -> QueryResult:
        """Run one SQL statement (`?` placeholders, as on DuckDB); a bad statement raises
        StoreError with ClickHouse's message."""
        if parameters:
            sql, parameters = _positional(sql), tuple(parameters)
        try:
            result = self._client.query(sql, parameters=parameters or None, settings=_SETTINGS)
        except Exception as exc:
            raise StoreError(_message(exc)) from None
        return QueryResult(list(result.column_names), [tuple(r) for r in result.result_rows])

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ClickHouseStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- talking to ClickHouse -------------------------------------------------------------
    def _rows(self, sql: str, parameters: dict[str, Any] | None = None) -> list[Any]:
        try:
            result = self._client.query(sql, parameters=parameters, settings=_SETTINGS)
            return list(result.result_rows)
        except Exception as exc:
            raise StoreError(f"ClickHouse store {self.path}: {_message(exc)}") from None

    def _arrow(self, sql: str, parameters: dict[str, Any]) -> Any:
        try:
            return self._client.query_arrow(
                sql, parameters=parameters, settings=_SETTINGS, use_strings=True
            )
        except Exception as exc:
            raise StoreError(f"ClickHouse store {self.path}: {_message(exc)}") from None

    def _command(
        self,
        sql: str,
        parameters: dict[str, Any] | None = None,
        settings: dict[str, Any] | None = None,
    ) -> None:
        try:
            self._client.command(sql, parameters=parameters, settings=_SETTINGS | (settings or {}))
        except Exception as exc:
            raise StoreError(f"ClickHouse store {self.path}: {_message(exc)}") from None

    def _insert_arrow(self, table: str, rows: Any, settings: dict[str, Any] | None = None) -> None:
        try:
            self._client.insert_arrow(table, rows, database=self.url.database, settings=settings)
        except Exception as exc:
            raise StoreError(
                f"ClickHouse store {self.path}: {rows.num_rows} rows not stored in {table}: "
                f"{_message(exc)}"
            ) from None


def _connect(url: ClickHouseURL) -> Any:
    """A clickhouse-connect client for `url`; a refused connection, a bad login or an
    unknown database is one StoreError naming it."""
    try:
        import clickhouse_connect
    except ImportError:
        raise StoreError(
            "the ClickHouse store needs clickhouse-connect: pip install 'botanu[clickhouse]'"
        ) from None
    where = f"ClickHouse store {url.display()}"
    try:
        if url.path is not None:
            client = clickhouse_connect.get_client(dsn=f"chdb://{url.path}", settings=_SETTINGS)
            client.command(f"CREATE DATABASE IF NOT EXISTS `{url.database}`")
            client.database = url.database
            return client
        return clickhouse_connect.get_client(
            host=url.host,
            port=url.port,
            username=url.username,
            password=url.password,
            database=url.database,
            secure=url.secure,
            settings=_SETTINGS,
            show_clickhouse_errors="scrub",  # the server's message without its trailer
        )
    except Exception as exc:
        code = getattr(exc, "code", None)
        text = _message(exc)
        if code == 81 or "UNKNOWN_DATABASE" in text:
            raise StoreError(f"{where}: database {url.database} does not exist") from None
        if code == 516 or "AUTHENTICATION_FAILED" in text:
            raise StoreError(f"{where}: user {url.username} could not log in") from None
        raise StoreError(f"{where}: cannot connect: {_cause(exc)}") from None


def _message(exc: BaseException) -> str:
    """ClickHouse's own words, without the stack trace and version trailer."""
    text = str(exc).strip()
    for marker in (" Stack trace", "\nStack trace"):
        text = text.split(marker)[0]
    return text.splitlines()[0] if text else type(exc).__name__


def _cause(exc: BaseException) -> str:
    """The innermost OS error under a failed connection ("[Errno 111] Connection
    refused"), not the HTTP library's retry story; else ClickHouse's message."""
    innermost: BaseException | None = None
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError):
            innermost = seen
        seen = seen.__cause__ or seen.__context__
    if innermost is None:
        return _message(exc)
    text = str(innermost)
    return text[text.find("[Errno") :] if "[Errno" in text else text


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _positional(sql: str) -> str:
    """DuckDB-style `?` placeholders as clickhouse-connect's `%s` (outside quotes); a
    literal `%` doubled, as the client formats the text with `%`."""
    out, quote = [], ""
    for char in sql:
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"`":
            quote = char
        elif char == "?":
            out.append("%s")
            continue
        out.append("%%" if char == "%" else char)
    return "".join(out)


def _views_sql() -> str:
    rollup = "\n".join(
        line for line in _sql("outcome_rollup.sql").splitlines() if not line.startswith("--")
    )
    text = _sql("views.sql").replace("__DAY_MERGE__", day_merge_sql("__DB__"))
    for key in ("workflow", "customer_id", "tenant_id"):
        text = text.replace(f"__ROLLUP__ {key}", rollup.replace("__KEY__", key))
    return text


def _timestamp(ns: int) -> str:
    """Nanoseconds since the epoch as a DateTime64(9) parameter (UTC)."""
    seconds, rest = divmod(int(ns), 10**9)
    moment = datetime(1970, 1, 1) + timedelta(seconds=seconds)
    return f"{moment:%Y-%m-%d %H:%M:%S}.{rest:09d}"


def _day_bounds(day: date) -> tuple[int, int]:
    start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    lo = int(start.timestamp()) * 10**9
    return lo, lo + _DAY_NS


def _days(starts: Iterable[int]) -> list[date]:
    return sorted({datetime.fromtimestamp(ns // 10**9, timezone.utc).date() for ns in starts})


def _spans_table(rows: Any) -> Any:
    """Rows for botanu_spans: the span_rows columns less the attributes (they stay in the
    traces table), with the start as a timestamp for the day partitions and a version
    that makes these the spans' newest rows."""
    import pyarrow as pa

    table = rows.drop_columns(["attributes"]) if "attributes" in rows.column_names else rows
    start = table["start_ns"].cast(pa.timestamp("ns", tz="UTC"))
    version = pa.repeat(pa.scalar(time.time_ns(), pa.uint64()), table.num_rows)
    return table.append_column("start_time", start).append_column("version", version)


def _exporter_rows(rows: Any, with_resource: bool) -> Any:
    """Spans (span_rows shape) as the Collector's exporter writes them to its table:
    every attribute as text (the promoted ones put back), kind and status capitalized."""
    import pyarrow as pa
    import pyarrow.compute as pc

    attributes = rows["attributes"].to_pylist()
    promoted = {name: rows[name].to_pylist() for name in PROMOTED_KEYS}
    merged = []
    for i, entries in enumerate(attributes):
        items = [(e["key"], e["value"]) for e in entries or ()]
        present = {key for key, _ in items}
        for name, key in PROMOTED_KEYS.items():
            value = promoted[name][i]
            if value is not None and key not in present:
                items.append((key, value))
        merged.append(items)
    text_map = pa.map_(pa.string(), pa.string())
    service = rows["service_name"].to_pylist()
    columns: dict[str, Any] = {
        "Timestamp": rows["start_ns"].cast(pa.timestamp("ns", tz="UTC")),
        "TraceId": rows["trace_id"],
        "SpanId": rows["span_id"],
        "ParentSpanId": pc.fill_null(rows["parent_span_id"], ""),
        "SpanName": rows["name"],
        "SpanKind": pa.array(
            [_KIND_NAMES.get(k or "", k or "") for k in rows["kind"].to_pylist()], pa.string()
        ),
        "ServiceName": pc.fill_null(rows["service_name"], ""),
        "SpanAttributes": pa.array(merged, text_map),
        "Duration": pc.subtract(rows["end_ns"], rows["start_ns"]).cast(pa.uint64()),
        "StatusCode": pa.array(
            [_STATUS_NAMES.get(s or "", s or "") for s in rows["status_code"].to_pylist()],
            pa.string(),
        ),
    }
    if with_resource:
        columns["ResourceAttributes"] = pa.array(
            [[("service.name", s)] if s else [] for s in service], text_map
        )
    return pa.table(columns)
