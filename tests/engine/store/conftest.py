"""ClickHouse for the store tests: the in-process engine chDB (pinned in
constraints/dev.txt), one engine folder for the whole session (chDB runs one per process)
and a fresh database for each test; and the OpenTelemetry Collector's ClickHouse
exporter, as far as its table goes: the `otel_traces` DDL of each schema generation it
has created, and spans written as rows exactly as its Go code writes them
(opentelemetry-collector-contrib, exporter/clickhouseexporter:
internal/sqltemplates/traces_table.sql and traces_insert.sql, exporter_traces.go,
internal.AttributesToMap)."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path

import pytest

from botanu.engine.ingest import RawSpan

ROOT = Path(__file__).resolve().parents[3]
_COLUMNS = """
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    TraceState String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    {scope}
    SpanAttributes {attributes} CODEC(ZSTD(1)),
    Duration {duration},
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    Events Nested (
        Timestamp DateTime64(9),
        Name LowCardinality(String),
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    Links Nested (
        TraceId String,
        SpanId String,
        TraceState String,
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
"""
_SCOPE = "ScopeName String CODEC(ZSTD(1)),\n    ScopeVersion String CODEC(ZSTD(1)),"
_BLOOM = """
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_duration Duration TYPE minmax GRANULARITY 1"""

# generation -> CREATE TABLE (for {table}), as the exporter renders it with no TTL
DDL = {
    # PR #50878 (2026): text indexes, ALIAS item columns, PRIMARY KEY apart from ORDER BY
    "current": "\n".join(
        line
        for line in (ROOT / "deploy" / "otel_traces.sql").read_text().splitlines()
        if not line.startswith("--")
    ).replace("otel.otel_traces", "{table}"),
    # PR #34245 (2024, v0.107 on)
    "previous": "CREATE TABLE {table} ("
    + _COLUMNS.format(
        scope=_SCOPE,
        attributes="Map(LowCardinality(String), String)",
        duration="UInt64 CODEC(ZSTD(1))",
    )
    + _BLOOM
    + """
) ENGINE = MergeTree()
PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp))
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1""",
    # 2022 to mid 2024: Int64 durations, no scope columns, SPAN_KIND_/STATUS_CODE_ names
    "legacy": "CREATE TABLE {table} ("
    + _COLUMNS.format(
        scope="", attributes="Map(LowCardinality(String), String)", duration="Int64 CODEC(ZSTD(1))"
    )
    + _BLOOM
    + """
) ENGINE MergeTree()
PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, SpanName, toUnixTimestamp(Timestamp), TraceId)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1""",
}
# the exporter's json: true table, which botanu refuses
JSON_DDL = (
    DDL["current"]
    .replace("SpanAttributes Map(LowCardinality(String), String)", "SpanAttributes JSON")
    .replace(
        "    SpanAttributeItems Array(String) ALIAS arrayMap(kv -> concat(kv.1, '=', kv.2),\n"
        "        CAST(SpanAttributes, 'Array(Tuple(String, String))')),\n",
        "",
    )
    .replace(
        "    INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE text(tokenizer = 'array'),\n", ""
    )
    .replace(
        "    INDEX idx_span_attr_items SpanAttributeItems TYPE text(tokenizer = 'array'),\n", ""
    )
)

INSERT_COLUMNS = [
    "Timestamp", "TraceId", "SpanId", "ParentSpanId", "TraceState", "SpanName", "SpanKind",
    "ServiceName", "ResourceAttributes", "ScopeName", "ScopeVersion", "SpanAttributes",
    "Duration", "StatusCode", "StatusMessage", "Events.Timestamp", "Events.Name",
    "Events.Attributes", "Links.TraceId", "Links.SpanId", "Links.TraceState", "Links.Attributes",
]  # fmt: skip
_KIND = {"current": "{}", "previous": "{}", "legacy": "SPAN_KIND_{}"}
_STATUS = {"current": "{}", "previous": "{}", "legacy": "STATUS_CODE_{}"}


def insert_columns(generation: str) -> list[str]:
    if generation == "legacy":
        return [c for c in INSERT_COLUMNS if not c.startswith("Scope")]
    return INSERT_COLUMNS


def as_string(value: object) -> str:
    """pcommon.Value.AsString: how the exporter turns every attribute value into text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):  # strconv.FormatFloat(v, 'f', -1, 64)
        return format(Decimal(repr(value)), "f")
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return json.dumps(value, separators=(",", ":"))


def _name(template: str, value: str, generation: str) -> str:
    if generation == "legacy":
        return template.format(value.upper())
    return template.format(value.capitalize())


def exporter_row(raw: RawSpan, generation: str) -> list[object]:
    """One span as the exporter's INSERT sends it (columns: `insert_columns`)."""
    resource = {key: as_string(value) for key, value in raw.resource.items()}
    row: list[object] = [
        raw.start_ns,  # DateTime64(9) travels as nanosecond ticks
        raw.trace_id,
        raw.span_id,
        raw.parent_span_id or "",
        "",
        raw.name,
        _name(_KIND[generation], raw.kind, generation),
        resource.get("service.name", ""),
        resource,
        "botanu",
        "0.1.0",
        {key: as_string(value) for key, value in raw.attributes.items()},
        raw.end_ns - raw.start_ns,
        _name(_STATUS[generation], raw.status_code, generation),
        "",
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    ]
    if generation == "legacy":
        del row[9:11]
    return row


_databases = itertools.count(1)


class Collector:
    """What the Collector's exporter does to one database: create its table, insert."""

    def __init__(self, client, folder: Path, database: str) -> None:
        self.client = client
        self.database = database
        self.url = f"chdb://{folder}?database={database}"

    def create_traces(self, generation: str = "current") -> None:
        ddl = JSON_DDL if generation == "json" else DDL[generation]
        self.client.command(ddl.format(table=f"{self.database}.otel_traces"))

    def export(self, raws: Sequence[RawSpan], generation: str = "current") -> None:
        self.client.insert(
            f"{self.database}.otel_traces",
            [exporter_row(raw, generation) for raw in raws],
            column_names=insert_columns(generation),
        )


@pytest.fixture(scope="session")
def chdb_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("chdb")


@pytest.fixture
def chdb_client(chdb_folder: Path) -> Iterator[object]:
    import clickhouse_connect

    client = clickhouse_connect.get_client(dsn=f"chdb://{chdb_folder}")
    yield client
    client.close()


@pytest.fixture
def collector(chdb_folder: Path, chdb_client) -> Collector:
    """A new, empty database, and the exporter that writes to it."""
    database = f"otel_{next(_databases)}"
    chdb_client.command(f"CREATE DATABASE {database}")
    return Collector(chdb_client, chdb_folder, database)
