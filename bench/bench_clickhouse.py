"""The ClickHouse store beside the Collector's `otel_traces`, on the in-process engine chDB,
beside botanu's DuckDB store holding the same priced spans, measured in one process run.

    python bench/bench_clickhouse.py [--spans N] [--rounds R]

(a) load: N spans generated inside chDB with one INSERT ... SELECT in the shape the
    Collector's ClickHouse exporter writes them (its current-generation table and its
    22-column insert list; every attribute value as text in `SpanAttributes`);
(b) price: the real `botanu price` job (`price_days`) over every UTC day: the anti-join
    read of new spans, Python normalize and pricer, storing `botanu_spans`, and the run
    rollup rebuilt day by day;
(c) baseline: the same priced spans, read back day by day, into a DuckDB store;
(d) report: `cost_per_outcome` on both stores (one warm-up, then best and median of R
    runs), the two reports checked equal; `SELECT * FROM workflows` on chDB; and the
    views under it (`runs`, `events`, the raw rollup table), each read in full.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from botanu.engine.costing import cost_per_outcome
from botanu.engine.records import span_row_schema
from botanu.engine.store import open_store
from botanu.engine.store.clickhouse.job import price_days

T0 = 1_793_491_200_000_000_000  # 2026-11-01 00:00 UTC
GAP_NS = 60_000_000  # spans start 60 ms apart: 10M spans cover 7 UTC days
_DAY_NS = 86_400 * 10**9

# the Collector exporter's table, current generation, as it renders it with no TTL
TRACES_DDL = (Path(__file__).resolve().parent.parent / "deploy" / "otel_traces.sql").read_text()

# the exporter's INSERT column list (internal/sqltemplates/traces_insert.sql)
INSERT_COLUMNS = [
    "Timestamp", "TraceId", "SpanId", "ParentSpanId", "TraceState", "SpanName", "SpanKind",
    "ServiceName", "ResourceAttributes", "ScopeName", "ScopeVersion", "SpanAttributes",
    "Duration", "StatusCode", "StatusMessage", "Events.Timestamp", "Events.Name",
    "Events.Attributes", "Links.TraceId", "Links.SpanId", "Links.TraceState", "Links.Attributes",
]  # fmt: skip

# Span `number` of the stream: run r = number / 8, k = number % 8 its place in the run (0 the
# run span, 1-4 LLM calls, 5 a warehouse query, 6 an object store write, 7 a queue send);
# event e = r / 2 (two attempts), which owns the workflow and the customer. The run id is
# 36 characters, UUIDv7-shaped (time-ordered hex, then a hash). Every value is text, as
# the exporter's AttributesToMap writes it (pcommon.Value.AsString).
GENERATE_SQL = """
INSERT INTO otel.otel_traces ({columns})
WITH
    intDiv(number, 8) AS r,
    number % 8 AS k,
    intDiv(r, 2) AS e,
    concat(leftPad(lower(hex(r)), 16, '0'), leftPad(lower(hex(cityHash64(r))), 16, '0')) AS h,
    ['gpt-4o-mini', 'gpt-4o', 'o4-mini'][k % 3 + 1] AS model
SELECT
    fromUnixTimestamp64Nano(toInt64({t0} + number * {gap}), 'UTC'),
    leftPad(lower(hex(cityHash64(r, 1))), 16, '0') || leftPad(lower(hex(r)), 16, '0'),
    leftPad(lower(hex(number + 1)), 16, '0'),
    if(k = 0, '', leftPad(lower(hex(r * 8 + 1)), 16, '0')),
    '',
    multiIf(k = 0, concat('botanu.run/workflow-', toString(e % 5)),
            k <= 4, concat('chat ', model),
            k = 5, 'SELECT analytics.orders',
            k = 6, 'PUT reports',
            'send tickets'),
    if(k = 0, 'Internal', 'Client'),
    'bench',
    map('service.name', 'bench'),
    'botanu',
    '0.1.0',
    mapConcat(
        map('botanu.run_id', concat(substring(h, 1, 8), '-', substring(h, 9, 4), '-',
                                    substring(h, 13, 4), '-', substring(h, 17, 4), '-',
                                    substring(h, 21, 12)),
            'botanu.workflow', concat('workflow-', toString(e % 5)),
            'botanu.event_id', concat('event-', toString(e)),
            'botanu.customer_id', concat('customer-', toString(e % 50))),
        multiIf(
            k = 0, map(
                'botanu.outcome.status', if(cityHash64(r, 2) % 5 = 0, 'failed', 'success'),
                'botanu.attempt', toString(r % 2 + 1),
                'botanu.outcome.value_type', 'ticket_resolved',
                'botanu.outcome.value_amount', toString(1 + (r % 40) / 2)),
            k <= 4, map(
                'gen_ai.operation.name', 'chat',
                'gen_ai.provider.name', 'openai',
                'gen_ai.request.model', model,
                'gen_ai.response.model', model,
                'gen_ai.usage.input_tokens', toString(500 + cityHash64(number, 3) % 4500),
                'gen_ai.usage.output_tokens', toString(50 + cityHash64(number, 4) % 750),
                'gen_ai.usage.cache_read.input_tokens', toString(cityHash64(number, 5) % 400)),
            k = 5, map(
                'db.system.name', 'bigquery',
                'db.operation.name', 'SELECT',
                'botanu.db.bytes_scanned', toString(1073741824)),
            k = 6, map(
                'botanu.storage.system', 's3',
                'botanu.storage.operation', 'PUT',
                'botanu.storage.object_count', '1',
                'botanu.storage.bytes_written', toString(1024 + cityHash64(number, 6) % 65536)),
            map(
                'messaging.system', 'aws_sqs',
                'messaging.operation.type', 'send',
                'messaging.destination.name', 'tickets'))),
    toUInt64(1000000 + cityHash64(number, 7) % 5000000),
    'Unset',
    '',
    [], [], [], [], [], [], []
FROM numbers({count})
"""


def load_traces(client: Any, count: int) -> float:
    """The exporter's table filled with `count` spans inside chDB; returns the seconds."""
    client.command("CREATE DATABASE otel")
    client.command(TRACES_DDL)
    sql = GENERATE_SQL.format(
        columns=", ".join(f"`{c}`" for c in INSERT_COLUMNS), t0=T0, gap=GAP_NS, count=count
    )
    start = time.perf_counter()
    client.command(sql)
    seconds = time.perf_counter() - start
    loaded = client.command("SELECT count() FROM otel.otel_traces")
    assert int(loaded) == count, loaded
    return seconds


class _Timed:
    """The pricing job's store, with the seconds spent in each of its steps."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.seconds: dict[str, float] = {}

    def _timed(self, name: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def span_days(self, since_ns: int, until_ns: int) -> list[date]:
        return self._timed("days", self.store.span_days, since_ns, until_ns)

    def price_in_database(self, day: date, quotes_for: Any, *, again: bool = False) -> Any:
        spans, left = self._timed(
            "in_database", self.store.price_in_database, day, quotes_for, again=again
        )
        self.left = getattr(self, "left", 0) + left.num_rows
        return spans, left

    def end_pricing(self, day: date) -> None:
        self._timed("in_database", self.store.end_pricing, day)

    def store_priced(self, rows: Any) -> None:
        self._timed("store", self.store.store_priced, rows)

    def refresh_rollup(self, day: date, *, force: bool = False) -> bool:
        return self._timed("rollup", self.store.refresh_rollup, day, force=force)


def price(store: Any, count: int, floor: float) -> list[date]:
    """The real pricing job over every day; prints where its time went."""
    from botanu.engine.store.clickhouse import job

    timed = _Timed(store)
    prepare = job.prepare_spans
    job.prepare_spans = lambda raws, pricer: timed._timed("prepare", prepare, raws, pricer)
    try:
        start = time.perf_counter()
        done = price_days(timed, T0, T0 + count * GAP_NS + _DAY_NS)
        seconds = time.perf_counter() - start
    finally:
        job.prepare_spans = prepare
    priced = sum(d.spans for d in done)
    assert priced == count, priced
    steps = timed.seconds
    in_python = seconds - steps["in_database"] - steps["rollup"]
    pricing = seconds - steps["rollup"]
    print(
        f"limit    chDB writing {count:,} spans in botanu_spans' shape from the exporter's "
        f"maps, no rules: {floor:,.0f} spans/s; the job without its rollups "
        f"{priced / pricing:,.0f} spans/s, {floor / (priced / pricing):.2f}x the limit's time"
    )
    print(
        f"price    {priced:,} spans over {len(done)} days: {priced / seconds:,.0f} spans/s "
        f"({seconds:,.1f} s wall: normalized and priced in the database "
        f"{steps['in_database']:,.1f} s ({priced / steps['in_database']:,.0f}/s), "
        f"{getattr(timed, 'left', 0):,} spans left to Python {in_python:,.1f} s, "
        f"rollups {steps['rollup']:,.1f} s)"
    )
    return [d.day for d in done]


def limit(client: Any, count: int) -> float:
    """chDB's own limit for the job's shape, no rules: every botanu_spans column of every
    span read from one of the exporter's attribute values (as many lookups as the job
    makes) and written into a table of botanu_spans' shape. Returns spans/s."""
    from botanu.engine.batch import SCALAR_FIELDS
    from botanu.engine.ingest.fields import CATEGORY_FIELDS, SPAN_FIELDS

    keys = sorted(
        {k for f in SPAN_FIELDS for k in f.keys}
        | {k for fields in CATEGORY_FIELDS.values() for f in fields for k in f.keys}
    )
    types = dict(
        client.query(
            "SELECT name, type FROM system.columns WHERE database = 'otel' "
            "AND table = 'botanu_spans'"
        ).result_rows
    )
    own = {
        "trace_id": "TraceId",
        "span_id": "SpanId",
        "start_ns": "toUnixTimestamp64Nano(Timestamp)",
        "end_ns": "toUnixTimestamp64Nano(Timestamp) + toInt64(Duration)",
    }
    columns = []
    for i, name in enumerate(SCALAR_FIELDS):
        value = (
            f"mapValues(SpanAttributes)[indexOf(mapKeys(SpanAttributes), '{keys[i % len(keys)]}')]"
        )
        kind = types[name]
        if name in own:
            sql = own[name]
        elif "String" in kind:
            sql = f"CAST(nullIf({value}, '') AS {kind})" if "Nullable" in kind else value
        elif "Bool" in kind:
            sql = f"{value} = 'true'"
        else:
            sql = f"CAST(toFloat64OrNull({value}) AS {kind})"
        columns.append(sql)
    client.command("CREATE TABLE otel.limit_spans AS otel.botanu_spans")
    start = time.perf_counter()
    client.command(
        f"INSERT INTO otel.limit_spans ({', '.join(SCALAR_FIELDS)}, start_time, version) "
        f"SELECT {', '.join(columns)}, Timestamp, 1 FROM otel.otel_traces",
        settings={"optimize_on_insert": 0},
    )
    seconds = time.perf_counter() - start
    client.command("DROP TABLE otel.limit_spans")
    return count / seconds


def check_equal(store: Any, day: date) -> None:
    """The priced rows of one day equal the Python path's (the DuckDB store's path:
    normalize and the bulk pricer over the same spans, as the job reads them)."""
    import pyarrow as pa

    from botanu.engine.records import COST_COLUMNS
    from botanu.engine.service import default_pricer, prepare_spans
    from botanu.engine.store.clickhouse.job import raw_spans

    columns = [c for c in span_row_schema().names if c != "attributes"]
    start = time.perf_counter()
    raws = raw_spans(store.pending_spans(day, again=True))
    expected = prepare_spans(raws, default_pricer()).select(columns)
    expected = expected.sort_by([("trace_id", "ascending"), ("span_id", "ascending")])
    lo = datetime(day.year, day.month, day.day)
    got = store._client.query_arrow(
        f"SELECT {', '.join(columns)} FROM otel.botanu_spans FINAL "
        "WHERE start_time >= {lo:DateTime64(9, 'UTC')} AND start_time < {hi:DateTime64(9, 'UTC')} "
        "ORDER BY trace_id, span_id",
        parameters={"lo": lo, "hi": lo + timedelta(days=1)},
        use_strings=True,
    )
    schema = pa.schema([span_row_schema().field(c) for c in columns])
    plain = pa.schema(
        [f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f for f in schema]
    )
    same = got.cast(plain).equals(expected.cast(plain))
    priced = sum(1 for c in COST_COLUMNS.values() if c in columns)
    print(
        f"check    {day}: {expected.num_rows:,} spans priced by the Python path in "
        f"{time.perf_counter() - start:,.1f} s; every column ({len(columns)}, {priced} of "
        f"them the cost line) {'EQUAL' if same else 'DIFFERENT'} to the rows priced in chDB"
    )
    if not same:
        raise SystemExit("MISMATCH between the chDB pricing and the Python path")


def copy_to_duckdb(store: Any, days: list[date], duck: Any) -> None:
    """The priced spans, read back a day at a time, into the DuckDB store."""
    import pyarrow as pa

    schema = span_row_schema()
    no_attributes = schema.field("attributes").type
    read = write = 0.0
    rows = 0
    for day in days:
        lo = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        hi = lo + timedelta(days=1)
        start = time.perf_counter()
        table = store._client.query_arrow(
            "SELECT * EXCEPT (start_time, priced_at, version) FROM otel.botanu_spans FINAL "
            "WHERE start_time >= {lo:DateTime64(9, 'UTC')} "
            "AND start_time < {hi:DateTime64(9, 'UTC')}",
            parameters={"lo": lo.replace(tzinfo=None), "hi": hi.replace(tzinfo=None)},
            use_strings=True,
        )
        table = table.append_column(
            "attributes", pa.array([[]] * table.num_rows, no_attributes)
        ).select(schema.names)
        table = table.cast(schema)
        middle = time.perf_counter()
        assert duck.write_batch(table) == table.num_rows
        read += middle - start
        write += time.perf_counter() - middle
        rows += table.num_rows
    print(
        f"copy     {rows:,} priced spans to DuckDB: read from chDB {rows / read:,.0f} rows/s, "
        f"DuckDB write_batch {rows / write:,.0f} rows/s"
    )


def timings(call: Callable[[], Any], rounds: int) -> tuple[Any, float, float]:
    """(result, best seconds, median seconds) after one warm-up run."""
    result = call()
    seconds = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return result, min(seconds), statistics.median(seconds)


def bench_report(store: Any, duck: Any, count: int, rounds: int) -> None:
    ours, best, median = timings(lambda: cost_per_outcome(store), rounds)
    theirs, duck_best, duck_median = timings(lambda: cost_per_outcome(duck), rounds)
    if ours != theirs:
        print(f"MISMATCH: the two reports differ\n  chDB:   {ours}\n  DuckDB: {theirs}")
    else:
        print(
            f"reports  equal: {len(ours)} workflows, {sum(r.events for r in ours):,} events, "
            f"{sum(r.runs for r in ours):,} runs, total cost "
            f"{sum(r.total_cost for r in ours):,.2f}, "
            f"{sum(r.unpriced_spans for r in ours):,} unpriced spans"
        )
    print(
        f"report   {count:,} spans: chDB {best * 1000:,.0f} ms (median {median * 1000:,.0f}), "
        f"DuckDB {duck_best * 1000:,.0f} ms (median {duck_median * 1000:,.0f}), "
        f"ratio {best / duck_best:.2f}x  (target: chDB <= 2 s)"
    )
    _, best, median = timings(lambda: store.query("SELECT * FROM workflows"), rounds)
    _, duck_best, duck_median = timings(lambda: duck.query("SELECT * FROM workflows"), rounds)
    print(
        f"workflows view: chDB {best * 1000:,.0f} ms (median {median * 1000:,.0f}), "
        f"DuckDB {duck_best * 1000:,.0f} ms (median {duck_median * 1000:,.0f}), "
        f"ratio {best / duck_best:.2f}x"
    )
    # where the report's time goes: each layer read in full, nothing sent to Python
    parts = []
    for name, source in (
        ("botanu_run_rollup", "otel.botanu_run_rollup"),
        ("runs", "otel.runs"),
        ("events", "otel.events"),
    ):
        sql = f"SELECT count(), sum(cityHash64(*)) FROM {source}"
        (rows,), best, median = timings(lambda sql=sql: store.query(sql).rows, rounds)
        parts.append(
            f"{name} {best * 1000:,.0f} ms (median {median * 1000:,.0f}, {rows[0]:,} rows)"
        )
    print(f"layers   chDB, each read in full: {'; '.join(parts)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import clickhouse_connect

    wall = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        engine = Path(folder) / "chdb"  # chDB runs one engine folder per process
        client = clickhouse_connect.get_client(dsn=f"chdb://{engine}")
        seconds = load_traces(client, args.spans)
        print(
            f"load     {args.spans:,} exporter-shaped spans by INSERT ... SELECT: "
            f"{args.spans / seconds:,.0f} spans/s ({seconds:,.1f} s)"
        )
        with (
            open_store(f"chdb://{engine}?database=otel") as store,
            open_store(str(Path(folder) / "report.duckdb")) as duck,
        ):
            floor = limit(client, args.spans)
            days = price(store, args.spans, floor)
            check_equal(store, days[0])
            copy_to_duckdb(store, days, duck)
            bench_report(store, duck, args.spans, args.rounds)
        client.close()
    print(f"total    {time.perf_counter() - wall:,.1f} s wall")


if __name__ == "__main__":
    main()
