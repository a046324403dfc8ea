"""Bad values against a real `botanu serve`: one span's absurd value never rejects its
neighbours, never overflows a sum, never costs more CPU than a span within the limits."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import duckdb
from click.testing import CliRunner
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from tests.engine.store.conftest import chdb_client, chdb_folder, collector
from tests.serve.conftest import app_server, server_factory

from botanu import semconv as sc
from botanu.cli.main import cli
from botanu.engine.store import open_store
from botanu.engine.store._rollup import rollup_sql
from botanu.engine.store.duckdb.store import DuckDBStore

__all__ = ["app_server", "chdb_client", "chdb_folder", "collector", "server_factory"]

T0 = 1_793_534_400_000_000_000  # 2026-11-01
NOTE = "botanu.ingest.note"  # where a span row says what was dropped from it, and why
ATTRIBUTE_LIMIT = 128  # attributes kept per span (OpenTelemetry's default)
GOOD = {
    "botanu.run_id": "run-good",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.usage.input_tokens": 1000,
    "gen_ai.usage.output_tokens": 100,
}


def post(url: str, body: bytes, content_type: str = "application/x-protobuf") -> int:
    request = urllib.request.Request(
        f"{url}/v1/traces", data=body, method="POST", headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        with error:
            return int(error.code)


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return int(error.code), error.read()


def pb_value(value: object) -> AnyValue:
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    assert isinstance(value, int)
    return AnyValue(int_value=value)


def pb_span(number: int, attributes: dict[str, object], start: int | None = None) -> Span:
    start = T0 + number * 1000 if start is None else start
    return Span(
        trace_id=(number + 1).to_bytes(16, "big"),
        span_id=(number + 1).to_bytes(8, "big"),
        name="chat gpt-4o",
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=start,
        end_time_unix_nano=T0 + number * 1000 + 500,
        attributes=[KeyValue(key=k, value=pb_value(v)) for k, v in attributes.items()],
    )


def pb_export(*spans: Span) -> bytes:
    request = ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=list(spans))])]
    )
    return request.SerializeToString()


def json_span(number: int, attributes: list[dict[str, object]], start: str = "") -> dict:
    return {
        "traceId": f"{number + 1:032x}",
        "spanId": f"{number + 1:016x}",
        "name": "chat gpt-4o",
        "startTimeUnixNano": start or str(T0 + number * 1000),
        "endTimeUnixNano": str(T0 + number * 1000 + 500),
        "attributes": attributes,
    }


def good_json_attributes(run: str) -> list[dict[str, object]]:
    return [
        {"key": "botanu.run_id", "value": {"stringValue": run}},
        {"key": "gen_ai.provider.name", "value": {"stringValue": "openai"}},
        {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
        {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "1000"}},
    ]


def json_export(*spans: dict) -> str:
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": list(spans)}]}]})


def stored(store: Path, sql: str) -> list[tuple]:
    with open_store(str(store)) as opened:
        return list(opened.query(sql).rows)


def test_two_huge_reported_costs_leave_every_report_working(server_factory):
    server = server_factory()  # a process: the CLI finds it by its announcement
    huge = {**GOOD, sc.REPORTED_COST: 9e19}
    body = pb_export(
        pb_span(0, huge | {"botanu.run_id": "a"}),
        pb_span(1, huge | {"botanu.run_id": "b"}),
        pb_span(2, GOOD),
    )
    assert post(server.url, body) == 200
    server.wait_stored()
    status, answer = get(f"{server.url}/api/report?by=workflow")
    assert status == 200, answer[:300]
    assert get(f"{server.url}/api/overview")[0] == 200
    result = CliRunner().invoke(cli, ["--store", str(server.store), "report", "--json"])
    assert result.exit_code == 0, result.output
    server.stop()
    notes = stored(server.store, f"SELECT attributes['{NOTE}'] FROM spans")
    assert sum(1 for (note,) in notes if note and sc.REPORTED_COST in note) == 2
    assert stored(server.store, "SELECT count(*) FROM spans") == [(3,)]


def test_int64_max_input_tokens_do_not_price_a_run_at_trillions(app_server):
    server = app_server()
    body = pb_export(pb_span(0, {**GOOD, "gen_ai.usage.input_tokens": 2**63 - 1}))
    assert post(server.url, body) == 200
    server.wait_stored()
    server.stop()
    [(tokens, amount, note)] = stored(
        server.store, f"SELECT input_tokens, amount, attributes['{NOTE}'] FROM span_costs"
    )
    assert tokens is None
    assert amount is None or amount < 1_000_000
    assert "gen_ai.usage.input_tokens" in note


def test_a_span_at_the_end_of_time_is_set_aside_alone(app_server):
    server = app_server()
    good = [pb_span(n, GOOD) for n in range(3)]
    assert post(server.url, pb_export(*good, pb_span(3, GOOD, start=2**64 - 1))) == 200
    server.wait_stored()
    server.stop()
    assert stored(server.store, "SELECT count(*) FROM spans") == [(3,)]


def test_absurd_json_values_keep_the_good_spans(app_server):
    server = app_server()
    document = json_export(
        json_span(0, good_json_attributes("r0"), start=str(2**70)),
        json_span(1, good_json_attributes("r1"), start=str(253402300799 * 10**9)),  # 9999
        json_span(
            2,
            [
                *good_json_attributes("r2")[:3],
                {"key": "gen_ai.usage.input_tokens", "value": {"doubleValue": 1e300}},
            ],
        ),
        json_span(
            3,
            [
                *good_json_attributes("r3")[:3],
                {"key": "gen_ai.usage.input_tokens", "value": {"intValue": str(10**30)}},
            ],
        ),
        json_span(
            4,
            [
                *good_json_attributes("r4"),
                {"key": sc.REPORTED_COST, "value": {"doubleValue": 1e30}},
            ],
        ),
        json_span(5, [*good_json_attributes("r5"), {"key": "x", "value": {"stringValue": "?"}}]),
        json_span(6, good_json_attributes("r6")),
    ).replace('"?"', '"a\\ud800b"')  # a lone surrogate, as JSON may escape it
    assert post(server.url, document.encode(), "application/json") == 200
    server.wait_stored()
    server.stop()
    rows = stored(
        server.store, "SELECT run_id, input_tokens, reported_cost FROM spans ORDER BY run_id"
    )
    assert [row[0] for row in rows] == ["r2", "r3", "r4", "r5", "r6"]
    assert [row[1] for row in rows] == [None, None, 1000, 1000, 1000]
    assert rows[2][2] is None
    assert stored(server.store, "SELECT attributes['x'] FROM spans WHERE run_id = 'r5'") == [
        ("a\ufffdb",)
    ]


def test_json_nested_past_any_sense_is_a_bad_request(app_server):
    server = app_server()
    deep = '{"resourceSpans": [' + "[" * 3000 + "]" * 3000 + "]}"
    assert post(server.url, deep.encode(), "application/json") == 400
    assert post(server.url, pb_export(pb_span(0, GOOD))) == 200  # and it still serves


def test_a_span_with_100k_attributes_keeps_the_limit_and_botanus_own(app_server):
    server = app_server()
    many = {f"k{n}": "v" for n in range(100_000)}
    body = pb_export(pb_span(0, many | GOOD | {"botanu.run_id": "wide"}))
    assert post(server.url, body) == 200
    server.wait_stored()
    server.stop()
    [(count, run, tokens, note)] = stored(
        server.store,
        f"SELECT cardinality(attributes), run_id, input_tokens, attributes['{NOTE}'] FROM spans",
    )
    assert count <= ATTRIBUTE_LIMIT + 1  # and the note
    assert (run, tokens) == ("wide", 1000)
    assert "dropped" in note


def test_botanu_ingest_stores_a_file_less_its_impossible_span(tmp_path):
    data = tmp_path / "spans.json"
    data.write_text(
        json_export(
            json_span(0, good_json_attributes("r0"), start=str(2**70)),
            json_span(1, good_json_attributes("r1")),
        )
    )
    store = tmp_path / "ingest.duckdb"
    result = CliRunner().invoke(cli, ["--store", str(store), "ingest", str(data)])
    assert result.exit_code == 0, result.output
    assert stored(store, "SELECT run_id FROM spans") == [("r1",)]


def test_a_store_holding_huge_amounts_reports_after_reopening(tmp_path):
    path = tmp_path / "old.duckdb"
    DuckDBStore(path).close()
    con = duckdb.connect(str(path))  # the store as the code before the bounds left it
    con.execute("DELETE FROM botanu_migrations WHERE name >= '0004'")
    for run in ("a", "b"):
        con.execute(
            "INSERT INTO span_rows (trace_id, span_id, name, start_ns, end_ns, run_id, "
            "workflow, is_run_span, category, reported_cost, amount, currency, price_source, "
            "estimated) VALUES (?, ?, 'chat', ?, ?, ?, 'support', false, 'llm', "
            "90000000000000000000, 90000000000000000000, 'USD', 'reported', false)",
            [run * 32, run * 16, T0, T0 + 1, run],
        )
    con.execute(f"INSERT INTO run_rollup BY NAME {rollup_sql('span_rows')}")  # a run at a time
    con.close()
    result = CliRunner().invoke(cli, ["--store", str(path), "report", "--json"])
    assert result.exit_code == 0, result.output
    rows = stored(
        path, f"SELECT amount, price_detail, reported_cost, attributes['{NOTE}'] FROM span_costs"
    )
    assert len(rows) == 2
    for amount, detail, reported, note in rows:
        assert (amount, reported) == (None, None)
        assert "amount" in detail
        assert sc.REPORTED_COST in note


def test_the_local_exporter_keeps_the_spans_beside_an_unstorable_one(tmp_path):
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from botanu.engine.local_exporter import LocalStoreExporter

    finished = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(finished))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("good", attributes=GOOD):
        pass
    with tracer.start_as_current_span("lone", attributes={"x": "a\ud800b"}):
        pass
    tracer.start_span("long ago", start_time=1).end(end_time=2)
    exporter = LocalStoreExporter(str(tmp_path / "local.duckdb"))
    try:
        assert exporter.export(finished.get_finished_spans()).name == "SUCCESS"
    finally:
        exporter.shutdown()
    assert stored(tmp_path / "local.duckdb", "SELECT name FROM spans") == [("good",)]


def test_both_normalize_paths_drop_the_same_values():
    from botanu.engine.ingest import RawSpan, normalize
    from botanu.engine.ingest.columnar import normalize_batch

    def raw(number: int, **attributes: object) -> RawSpan:
        ids = (f"{number + 1:032x}", f"{number + 1:016x}")
        return RawSpan(*ids, None, "chat", "client", T0, T0 + 1, "unset", attributes, {})

    values = [2**63 - 1, 10**30, 1e300, "99999999999999999999", 12, None]
    spans = [
        raw(n, **{**GOOD, "gen_ai.usage.input_tokens": v, sc.REPORTED_COST: v, "db.x": 1})
        for n, v in enumerate(values)
    ]
    batch = normalize_batch(spans)
    order = batch.order or list(range(len(spans)))
    for row, index in enumerate(order):
        expected = normalize(spans[index])
        got = batch.record(row)
        assert (got.input_tokens, got.reported_cost) == (
            expected.input_tokens,
            expected.reported_cost,
        )
        assert got.attributes == expected.attributes
    tokens = [normalize(span).input_tokens for span in spans]
    assert tokens == [None, None, None, None, 12, None]


def test_the_clickhouse_pricing_job_bounds_what_it_prices(collector):
    from botanu.engine.ingest import RawSpan
    from botanu.engine.store.clickhouse.job import price_days

    day = T0 - T0 % (86_400 * 10**9)
    huge = {**GOOD, sc.WORKFLOW: "support", sc.REPORTED_COST: 9e19}
    spans = [
        RawSpan(
            f"{n + 1:032x}", f"{n + 1:016x}", None, "chat gpt-4o", "client",
            T0 + n, T0 + n + 5, "unset", huge | {sc.RUN_ID: f"run-{n}"}, {},
        )
        for n in range(2)
    ]  # fmt: skip
    collector.create_traces()
    collector.export(spans)
    with open_store(collector.url) as store:
        price_days(store, day, day + 86_400 * 10**9)
        [(total,)] = store.query("SELECT sum(total_cost) FROM workflows").rows
    assert 0 <= total < 1_000_000  # not a sum wrapped around
