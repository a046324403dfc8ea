"""The ClickHouse store on its own: the pricing job is incremental, rerunnable after a
crash at any step and shareable by day between workers; a wrong URL, a missing table or
a table of another shape is one clear message; and the CLI drives all of it."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner

from botanu import semconv as sc
from botanu.cli import cli
from botanu.engine.ingest import RawSpan
from botanu.engine.service import default_pricer, prepare_spans
from botanu.engine.store import StoreError, open_store
from botanu.engine.store.clickhouse.job import price_days
from botanu.engine.store.clickhouse.url import parse_clickhouse_url

DAY0 = 1_793_491_200_000_000_000  # 2026-11-01T00:00:00Z
DAY_NS = 86_400 * 10**9
RESOURCE = {"service.name": "support-desk"}


def run(index: int, start_ns: int, status: str = "success") -> list[RawSpan]:
    """A run: its run span and one priced LLM call, on the given start."""
    trace = f"{index + 1:032x}"
    identity = {
        sc.RUN_ID: f"run-{index}",
        sc.WORKFLOW: "support",
        sc.EVENT_ID: f"T-{index}",
        sc.CUSTOMER_ID: "acme",
    }
    root = RawSpan(
        trace, f"{2 * index + 1:016x}", None, "botanu.run/support", "internal",
        start_ns, start_ns + 5_000_000, "unset",
        {**identity, sc.OUTCOME_STATUS: status, sc.ATTEMPT: 1}, RESOURCE,
    )  # fmt: skip
    llm = RawSpan(
        trace, f"{2 * index + 2:016x}", root.span_id, "chat gpt-4o", "client",
        start_ns + 1_000_000, start_ns + 4_000_000, "unset",
        {**identity, "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
         "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 1000,
         "gen_ai.usage.output_tokens": 100},
        RESOURCE,
    )  # fmt: skip
    return [root, llm]


def three_days() -> list[RawSpan]:
    return [span for i in range(6) for span in run(i, DAY0 + (i // 2) * DAY_NS + i * 10**9)]


def workflows(store):
    return store.query("SELECT * FROM workflows").as_dicts()


def test_the_job_prices_only_what_is_new(collector):
    collector.create_traces()
    collector.export(three_days()[:8])
    with open_store(collector.url) as store:
        first = price_days(store, DAY0, DAY0 + 3 * DAY_NS)
        assert [(d.day, d.spans) for d in first] == [(date(2026, 11, 1), 4), (date(2026, 11, 2), 4)]
        assert workflows(store)[0]["events"] == 4
        collector.export(three_days()[8:])  # late arrivals on a new day
        second = price_days(store, DAY0, DAY0 + 3 * DAY_NS)
        assert [(d.day.day, d.spans, d.rebuilt) for d in second] == [
            (1, 0, False),
            (2, 0, False),
            (3, 4, True),
        ]
        assert workflows(store)[0]["events"] == 6
        assert store.query("SELECT count() FROM cost_lines").rows == [(6,)]


def test_a_crash_between_pricing_and_the_rollup_is_repaired_by_the_next_run(collector):
    collector.create_traces()
    collector.export(three_days())
    with open_store(collector.url) as store:
        # the job's steps for 2026-11-01, stopped before the rollup was rebuilt
        pending = store.pending_spans(date(2026, 11, 1))
        raws = [RawSpan(**row) for row in pending.to_pylist()]
        for raw in raws:
            raws[raws.index(raw)] = raw._replace(
                attributes=dict(raw.attributes), resource=dict(raw.resource)
            )
        store.store_priced(prepare_spans(raws, default_pricer()))
        assert store.query("SELECT count() FROM runs").rows == [(0,)]
        done = price_days(store, DAY0, DAY0 + 3 * DAY_NS)
        assert [(d.day.day, d.spans, d.rebuilt) for d in done] == [
            (1, 0, True),  # nothing new to price, but its rollup was behind
            (2, 4, True),
            (3, 4, True),
        ]
        assert store.query("SELECT count() FROM runs").rows == [(6,)]


def test_workers_share_a_backfill_by_day(collector):
    collector.create_traces()
    collector.export(three_days())
    with open_store(collector.url) as store:
        shares = [price_days(store, DAY0, DAY0 + 3 * DAY_NS, workers=2, worker=i) for i in (0, 1)]
        days = [sorted(d.day.day for d in share) for share in shares]
        assert sorted(days[0] + days[1]) == [1, 2, 3]
        assert not set(days[0]) & set(days[1])
        assert workflows(store)[0]["runs"] == 6
    with pytest.raises(ValueError, match="worker must be in"):
        price_days(store, DAY0, DAY0 + DAY_NS, workers=2, worker=2)


def test_a_missing_table_is_one_message_naming_it(collector):
    with pytest.raises(StoreError) as caught:
        open_store(collector.url)
    message = str(caught.value)
    assert f"table {collector.database}.otel_traces does not exist" in message
    assert "deploy/otel-collector.yaml" in message


def test_the_json_schema_is_refused_with_what_to_change(collector):
    collector.create_traces("json")
    with pytest.raises(StoreError) as caught:
        open_store(collector.url)
    message = str(caught.value)
    assert "SpanAttributes is JSON" in message
    assert "json: false" in message


def test_a_table_of_another_shape_names_every_column_it_lacks(collector, chdb_client):
    chdb_client.command(
        f"CREATE TABLE {collector.database}.otel_traces (Timestamp DateTime64(9), "
        "TraceId String, SpanName String, Duration Float64) ENGINE = MergeTree ORDER BY Timestamp"
    )
    with pytest.raises(StoreError) as caught:
        open_store(collector.url)
    message = str(caught.value)
    assert "is not the Collector exporter's traces table" in message
    for problem in ("SpanId is missing", "SpanAttributes is missing", "Duration is Float64"):
        assert problem in message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("clickhouse://botanu@ch.internal/otel", "needs"),
        ("clickhouse://botanu@ch.internal:8123/", "needs a host and the database"),
        ("clickhouse://botanu@ch.internal:99999/otel", "bad ClickHouse store URL"),
        ("clickhouse://botanu@ch.internal/otel?tabel=x", "unknown option tabel"),
        ("clickhouse://botanu@ch.internal/otel?table=a;b", "table 'a;b' must be"),
        ("mysql://botanu@ch.internal/otel", "unknown store URL"),
    ],
)
def test_a_wrong_url_says_what_is_wrong(url, expected):
    if expected == "needs":  # no port: the HTTP default, not an error
        parsed = parse_clickhouse_url(url)
        assert (parsed.host, parsed.port, parsed.secure) == ("ch.internal", 8123, False)
        return
    with pytest.raises(StoreError, match=expected):
        open_store(url)


def test_urls_keep_the_password_out_of_messages():
    parsed = parse_clickhouse_url("clickhouse://botanu:s3cr%40t@ch.internal:8443/otel")
    assert (parsed.password, parsed.secure, parsed.port) == ("s3cr@t", True, 8443)
    assert "s3cr" not in parsed.display()
    assert parse_clickhouse_url("clickhouse://ch.internal/otel?secure=true").secure


def test_the_cli_prices_and_reports_on_clickhouse(collector, tmp_path):
    collector.create_traces()
    collector.export(three_days())
    runner = CliRunner()
    priced = runner.invoke(
        cli, ["--store", collector.url, "price", "--since", "2026-11-01", "--until", "2026-11-04"]
    )
    assert priced.exit_code == 0, priced.output
    assert "2026-11-01: 4 spans priced, rollup rebuilt" in priced.output
    assert "priced 12 spans over 3 days" in priced.output
    again = runner.invoke(cli, ["--store", collector.url, "price", "--since", "2026-11-01"])
    assert "2026-11-03: 0 spans priced, rollup current" in again.output
    report = runner.invoke(cli, ["--store", collector.url, "report", "--json"])
    assert report.exit_code == 0, report.output
    (row,) = json.loads(report.output)["rows"]
    assert (row["key"], row["events"], row["successful_events"]) == ("support", 6, 6)
    runs = runner.invoke(cli, ["--store", collector.url, "runs", "--workflow", "support", "--json"])
    assert len(json.loads(runs.output)) == 6
    duck = runner.invoke(cli, ["--store", str(tmp_path / "s.duckdb"), "price"])
    assert "nothing to do: the DuckDB store prices spans as it stores them" in duck.output
    serve = runner.invoke(cli, ["--store", collector.url, "serve"])
    assert serve.exit_code == 2
    assert "the Collector receives the spans" in serve.output
    bad = runner.invoke(cli, ["--store", collector.url, "price", "--since", "yesterday"])
    assert bad.exit_code == 2
    assert "'yesterday' is not a day" in bad.output


def test_spans_written_through_the_store_land_in_the_exporters_table(collector):
    """`botanu ingest --store clickhouse://...`: spans go where a Collector would put them,
    priced, and a second write of the same spans stores nothing."""
    from botanu.engine.service import ingest_payloads

    collector.create_traces()
    with open_store(collector.url) as store:
        assert ingest_payloads(store, [three_days()]) == 12
        assert ingest_payloads(store, [three_days()]) == 0
        exported = store.query(
            f"SELECT SpanKind, ServiceName, SpanAttributes['{sc.RUN_ID}'] "
            f"FROM {collector.database}.otel_traces ORDER BY Timestamp, SpanId LIMIT 2"
        ).rows
        assert exported == [
            ("Internal", "support-desk", "run-0"),
            ("Client", "support-desk", "run-0"),
        ]
        assert workflows(store)[0]["runs"] == 6
        # pricing finds nothing left to do
        assert sum(d.spans for d in price_days(store, DAY0, DAY0 + 3 * DAY_NS)) == 0


def test_replacing_cost_lines_rebuilds_the_runs_they_belong_to(collector):
    from decimal import Decimal

    from botanu.engine.records import CostLine

    collector.create_traces()
    collector.export(three_days())
    with open_store(collector.url) as store:
        price_days(store, DAY0, DAY0 + 3 * DAY_NS)
        before = store.query("SELECT total_cost FROM runs WHERE run_id = 'run-2'").rows[0][0]
        line = CostLine(
            trace_id=f"{3:032x}",
            span_id=f"{6:016x}",
            category="llm",
            amount=Decimal("1.000000000000000000001"),  # rounded half-even to 18 places
            currency="USD",
            source="user_rate_card",
        )
        assert store.update_costs([line]) == 1
        after = store.query(
            "SELECT total_cost, llm_cost FROM runs WHERE run_id = ?", ["run-2"]
        ).rows
        assert after == [(Decimal(1), Decimal(1))]
        assert before != after[0][0]
        assert store.query(
            "SELECT source, count() FROM cost_lines GROUP BY source ORDER BY source"
        ).rows == [("genai-prices", 5), ("user_rate_card", 1)]
