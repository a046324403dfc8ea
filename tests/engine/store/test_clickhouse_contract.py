"""The same spans, two ways in, the same answers: one set of spans made by the real SDK
goes to the DuckDB store through ingest, and to ClickHouse (chDB) as the Collector's
exporter writes it, priced there by `botanu price`. Every view, every report and both
of the Outcomes seed's SQL queries must give identical rows, in every schema generation
of the exporter's table."""

from __future__ import annotations

from decimal import Decimal

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from tenacity import stop_after_attempt

from botanu import botanu_workflow, emit_outcome, resolve_outcome, track_llm_call
from botanu.engine.costing import DIMENSIONS, VALUE_HINT, cost_per_outcome, value_notes
from botanu.engine.ingest import decode_protobuf
from botanu.engine.service import ingest_payloads
from botanu.engine.store import open_store
from botanu.engine.store.clickhouse.job import price_days
from botanu.integrations.tenacity import botanu_retry
from botanu.tracking.data import (
    track_db_operation,
    track_messaging_operation,
    track_storage_operation,
)

DAY0 = 1_793_491_200_000_000_000  # 2026-11-01T00:00:00Z
HOUR = 3_600 * 10**9
SEED_QUERIES = [
    """SELECT
    AVG(total_cost) as avg_cost_per_success
FROM runs
WHERE workflow = 'fulfill-order'
  AND outcome_status = 'success'
  AND outcome_value_type = 'orders_fulfilled';""",
    """SELECT
    workflow,
    SUM(outcome_value_amount * value_per_unit) as total_value,
    SUM(total_cost) as total_cost,
    (SUM(outcome_value_amount * value_per_unit) - SUM(total_cost)) / SUM(total_cost) as roi
FROM runs
GROUP BY workflow;""",
]
VIEWS = ["runs", "events", "workflows", "customers", "tenants", "unpriced"]


def workload():
    """Support tickets (one failed then retried, one on a model with no price), orders
    (db, storage, queue and LLM spans; a partial outcome; one run across midnight; one
    partly unpriced), a queued ticket (producer and consumer runs of one event), a review
    with no outcome yet, and late outcomes: a refund turns O-3's success into a failure,
    and a second review is resolved twice (the later verdict wins)."""

    @botanu_workflow(
        "support",
        event_id=lambda ticket: ticket,
        customer_id=lambda customer: customer,
        tenant_id="tenant-a",
    )
    def resolve(ticket, customer, model, fail=False):
        with track_llm_call(provider="openai", model=model) as tracker:
            tracker.set_tokens(input_tokens=1200, output_tokens=150, cache_read_tokens=200)
        if fail:
            raise RuntimeError("answer rejected")
        emit_outcome("success", value_type="tickets_resolved", value_amount=1)

    @botanu_workflow(
        "fulfill-order",
        event_id=lambda order: order,
        customer_id=lambda customer: customer,
        tenant_id=lambda tenant: tenant,
    )
    def fulfill(order, customer, tenant, items, *, status="success", extra_model=None):
        with track_db_operation(system="postgresql", operation="SELECT") as db:
            db.set_result(rows_returned=3)
        with track_storage_operation(system="s3", operation="PUT") as storage:
            storage.set_result(bytes_written=2048)
        with track_messaging_operation(
            system="sqs", operation="publish", destination="orders"
        ) as queue:
            queue.set_result(message_count=2)
        with track_llm_call(provider="anthropic", model="claude-sonnet-4-5") as tracker:
            tracker.set_tokens(input_tokens=1500, output_tokens=300)
        if extra_model is not None:
            with track_llm_call(provider="openai", model=extra_model) as tracker:
                tracker.set_tokens(input_tokens=100, output_tokens=10)
        reason = None if status == "success" else "one item out of stock"
        emit_outcome(status, value_type="orders_fulfilled", value_amount=items, reason=reason)

    @botanu_workflow(
        "queue-ticket", event_id=lambda ticket: ticket, customer_id="acme", tenant_id="tenant-a"
    )
    def queue_step(ticket):
        with track_llm_call(provider="openai", model="gpt-4o") as tracker:
            tracker.set_tokens(input_tokens=300, output_tokens=30)
        emit_outcome("success", value_type="tickets_resolved", value_amount=1)

    @botanu_workflow(
        "review",
        event_id=lambda doc: doc,
        customer_id="initech",
        tenant_id="tenant-a",
        auto_outcome_on_success=False,
    )
    def review(doc):
        with track_llm_call(provider="openai", model="gpt-4o") as tracker:
            tracker.set_tokens(input_tokens=500, output_tokens=50)

    attempts = []

    @botanu_retry(stop=stop_after_attempt(2))
    def resolve_retried(ticket, customer, model):
        attempts.append(ticket)
        return resolve(ticket, customer, model, fail=len(attempts) == 1)

    resolve_retried("T-1", "acme", "gpt-4o")  # attempt 2 is create_retry of attempt 1
    resolve("T-2", "globex", "acme-private-llm")
    fulfill("O-1", "acme", "tenant-a", 3)
    fulfill("O-2", "globex", "tenant-b", 5, status="partial")
    fulfill("O-3", "initech", "tenant-b", 2)
    fulfill("O-4", "acme", "tenant-a", 1, extra_model="acme-private-llm")  # partly unpriced
    queue_step("Q-1")  # the producer ...
    queue_step("Q-1")  # ... and its consumer: one event, no retry
    review("R-1")  # no outcome: pending
    review("R-2")  # pending until resolved late
    resolve_outcome("O-3", "failed", reason="order refunded", source="stripe")
    resolve_outcome("R-2", "partial", source="review")
    resolve_outcome(
        "R-2", "success", value_type="tickets_resolved", value_amount=1, source="review"
    )


def fixture_spans(spans):
    """The workload's spans through OTLP, each trace moved to its own hour of 2026-11-01
    (the fifth starts 50 µs before midnight, so its run spans two days), and one span
    exported twice, as an at-least-once exporter may."""
    workload()
    raws = decode_protobuf(encode_spans(spans.spans).SerializeToString())
    traces = sorted(
        {raw.trace_id for raw in raws},
        key=lambda t: min(raw.start_ns for raw in raws if raw.trace_id == t),
    )
    first = {t: min(raw.start_ns for raw in raws if raw.trace_id == t) for t in traces}
    target = {t: DAY0 + (i + 1) * 4 * HOUR for i, t in enumerate(traces)}
    target[traces[4]] = DAY0 + 24 * HOUR - 50_000
    moved = [
        raw._replace(
            start_ns=raw.start_ns - first[raw.trace_id] + target[raw.trace_id],
            end_ns=raw.end_ns - first[raw.trace_id] + target[raw.trace_id],
        )
        for raw in raws
    ]
    return moved, [*moved, moved[3]]


def stores(spans, collector, tmp_path, generation):
    """(DuckDB store, ClickHouse store) holding the same spans and valuations."""
    raws, exported = fixture_spans(spans)
    duck = open_store(str(tmp_path / "contract.duckdb"))
    ingest_payloads(duck, [raws])
    collector.create_traces(generation)
    collector.export(exported, generation)
    clickhouse = open_store(collector.url)
    days = price_days(clickhouse, DAY0, DAY0 + 3 * 24 * HOUR)
    assert [(d.day.isoformat(), d.rebuilt) for d in days] == [
        ("2026-11-01", True),
        ("2026-11-02", True),
        ("2026-11-03", True),
    ]
    assert sum(d.spans for d in days) == len(raws)  # the duplicate priced once
    for store in (duck, clickhouse):
        store.set_valuation("orders_fulfilled", Decimal("12.50"))
        store.set_valuation("tickets_resolved", Decimal("4"))
    return duck, clickhouse


def rows(store, sql):
    result = store.query(sql)
    return result.columns, sorted(result.rows, key=repr)


@pytest.mark.parametrize("generation", ["current", "previous", "legacy"])
def test_the_same_spans_give_the_same_views_and_reports(spans, collector, tmp_path, generation):
    duck, clickhouse = stores(spans, collector, tmp_path, generation)
    with duck, clickhouse:
        for view in VIEWS:
            assert rows(clickhouse, f"SELECT * FROM {view}") == rows(duck, f"SELECT * FROM {view}")
        line_columns = "trace_id, span_id, category, amount, currency, source, catalog_version, "
        line_columns += "matched_provider, matched_model, effective_date, estimated, detail"
        lines = f"SELECT {line_columns} FROM cost_lines"
        assert rows(clickhouse, lines) == rows(duck, lines)
        span_columns = list(duck.query("SELECT * FROM spans LIMIT 0").columns)
        span_columns.remove("attributes")  # ClickHouse keeps them in the exporter's table
        listed = ", ".join(f'"{c}"' for c in span_columns)
        assert rows(clickhouse, f"SELECT {listed} FROM spans") == rows(
            duck, f"SELECT {listed} FROM spans"
        )
        for dimension in DIMENSIONS:
            assert cost_per_outcome(clickhouse, dimension) == cost_per_outcome(duck, dimension)
        for seed in SEED_QUERIES:
            assert rows(clickhouse, seed) == rows(duck, seed)

        # and the answers are the workload's, not two equal mistakes
        runs = clickhouse.query(
            "SELECT event_id, attempt, outcome_status, unpriced_spans, spans FROM runs "
            "ORDER BY started_at"
        ).rows
        assert [r[0] for r in runs] == ["T-1", "T-1", "T-2", "O-1", "O-2", "O-3", "O-4", "Q-1",
                                        "Q-1", "R-1", "R-2"]  # fmt: skip
        statuses = ["failed", "success", "success", "success", "partial", "success", "success",
                    "success", "success", None, None]  # fmt: skip
        assert [r[2] for r in runs] == statuses  # each run keeps its own outcome
        assert [r[3] for r in runs] == [0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0]
        assert [r[4] for r in runs] == [2, 2, 2, 5, 5, 5, 6, 2, 2, 2, 2]
        late = "SELECT event_id, status, source FROM botanu_outcome_resolutions FINAL"
        assert sorted(clickhouse.query(late).rows) == [
            ("O-3", "failed", "stripe"), ("R-2", "partial", "review"), ("R-2", "success", "review")
        ]  # fmt: skip
        # O-2's run crossed midnight: two day rows, merged by the views
        day_rows = clickhouse.query("SELECT count() FROM botanu_run_rollup").rows[0][0]
        assert day_rows == len(runs) + 1
        assert len(rows(clickhouse, "SELECT * FROM unpriced")[1]) == 1
        check_the_figures_by_hand(clickhouse)
        check_the_figures_by_hand(duck)
        # a value in another currency than the cost's is not added: alike on both stores
        for store in (duck, clickhouse):
            store.set_valuation("tickets_resolved", Decimal("4"), "EUR")
        for dimension in DIMENSIONS:
            assert cost_per_outcome(clickhouse, dimension) == cost_per_outcome(duck, dimension)
        support = {row.key: row for row in cost_per_outcome(duck, "workflow")}["support"]
        assert (support.value_delivered, support.roi) == (None, None)
        assert "EUR" in (support.value_note or "")
        # and with no valuations at all: no value, and the report says how to add them
        for store in (duck, clickhouse):
            store.unset_valuation("tickets_resolved")
            store.unset_valuation("orders_fulfilled")
        for dimension in DIMENSIONS:
            assert cost_per_outcome(clickhouse, dimension) == cost_per_outcome(duck, dimension)
        report = cost_per_outcome(clickhouse, "workflow")
        assert all(row.value_delivered is None and row.roi is None for row in report)
        assert VALUE_HINT in value_notes(report)


def check_the_figures_by_hand(store):
    """Unpriced is never $0, waste is spend that bought nothing (issue 14), on one store."""
    run_cost = {
        (r[0], r[1]): (r[2], r[3])
        for r in store.query("SELECT event_id, attempt, total_cost, priced_cost FROM runs").rows
    }
    assert run_cost[("T-2", 1)] == (None, Decimal(0))  # fully unpriced
    o1_cost = run_cost[("O-1", 1)][0]
    assert run_cost[("O-4", 1)] == (None, o1_cost)  # partly unpriced: what was priced
    t1_failed, t1_retry = run_cost[("T-1", 1)][0], run_cost[("T-1", 2)][0]
    events = {
        r[0]: r[1:]
        for r in store.query(
            "SELECT event_id, attempts, total_cost, final_outcome, wasted_cost FROM events"
        ).rows
    }
    assert events["T-1"] == (2, t1_failed + t1_retry, "success", t1_failed)  # the retried one
    q1 = 2 * run_cost[("Q-1", 1)][0]
    assert events["Q-1"] == (2, q1, "success", 0)  # producer and consumer: not waste
    assert events["O-2"][2:] == ("partial", 0)  # partial is not waste
    assert events["R-1"][2:] == ("pending", 0)  # no outcome: pending, not waste
    o3_cost = run_cost[("O-3", 1)][0]
    assert events["O-3"][2:] == ("failed", o3_cost)  # refunded late: all of it wasted
    assert events["R-2"][2:] == ("success", 0)  # the later of two verdicts
    sources = dict(store.query("SELECT event_id, outcome_source FROM events").rows)
    assert (sources["O-3"], sources["R-2"], sources["O-1"], sources["R-1"]) == (
        "stripe", "review", "sdk", None
    )  # fmt: skip
    assert (sources["T-1"], sources["T-2"]) == ("sdk", "sdk")
    assert events["T-2"][1] is None
    assert events["O-4"][1] is None
    report = {row.key: row for row in cost_per_outcome(store, "workflow")}
    support = report["support"]
    assert (support.events, support.events_unpriced, support.successful_events) == (2, 1, 2)
    assert support.total_cost == t1_failed + t1_retry  # T-2 is left out, not read as $0
    assert support.wasted_cost == t1_failed
    assert support.cost_per_success == t1_failed + t1_retry
    orders = report["fulfill-order"]
    assert (orders.events, orders.events_unpriced, orders.successful_events) == (4, 1, 2)
    o2_cost = run_cost[("O-2", 1)][0]
    assert o3_cost == o1_cost
    assert orders.total_cost == 2 * o1_cost + o2_cost  # O-1 and O-3 cost alike
    assert orders.priced_cost == 3 * o1_cost + o2_cost  # a lower bound: O-4's priced part
    assert orders.wasted_cost == o3_cost  # the refunded order
    assert orders.cost_per_success == 2 * o1_cost + o2_cost  # O-1 the one priced success
    review = report["review"]
    assert (review.pending_events, review.successful_events, review.success_rate) == (1, 1, 1)
    r2_cost = run_cost[("R-2", 1)][0]
    assert review.cost_per_success == review.total_cost == 2 * r2_cost  # R-1 costs alike
    assert review.wasted_cost == 0
    (avg,) = store.query(SEED_QUERIES[0]).rows[0]
    assert Decimal(str(avg)) == o1_cost  # O-4 is left out of the average, not read as cheap
    (roi_rows,) = [r for r in store.query(SEED_QUERIES[1]).rows if r[0] == "support"]
    assert roi_rows[1] == 8.0  # two tickets resolved at $4 each
    # value: the final outcome of each fully priced event, successes and partials
    support_cost = t1_failed + t1_retry
    assert support.value_delivered == Decimal(4)  # T-1's ticket; T-2 is left out
    assert support.roi == (4 - support_cost) / support_cost
    assert orders.value_delivered == (3 + 5) * Decimal("12.50")  # O-3 refunded, O-4 left out
    assert orders.roi == (orders.value_delivered - orders.total_cost) / orders.total_cost
    queued = report["queue-ticket"]
    assert queued.value_delivered == Decimal(4)  # one event, one outcome: its final run's
    assert queued.roi == (4 - q1) / q1
    assert review.value_delivered == Decimal(4)  # R-2's late verdict brought a value
    assert review.roi == (4 - review.total_cost) / review.total_cost


def test_pricing_twice_prices_nothing_new_and_keeps_the_answers(spans, collector, tmp_path):
    duck, clickhouse = stores(spans, collector, tmp_path, "current")
    with duck, clickhouse:
        before = rows(clickhouse, "SELECT * FROM runs")
        again = price_days(clickhouse, DAY0, DAY0 + 3 * 24 * HOUR)
        assert [(d.spans, d.rebuilt) for d in again] == [(0, False)] * 3
        assert rows(clickhouse, "SELECT * FROM runs") == before
        # a reprice writes every span again with a newer version: still one line each
        repriced = price_days(clickhouse, DAY0, DAY0 + 3 * 24 * HOUR, again=True)
        assert [d.rebuilt for d in repriced] == [True] * 3
        assert rows(clickhouse, "SELECT * FROM runs") == before
        assert rows(clickhouse, "SELECT * FROM events") == rows(duck, "SELECT * FROM events")
        assert (
            rows(clickhouse, "SELECT count() FROM cost_lines")[1]
            == rows(duck, "SELECT count(*) FROM cost_lines")[1]
        )


def test_a_database_of_schema_3_is_upgraded_in_place(spans, collector, tmp_path, chdb_client):
    """botanu's tables as the version before late outcomes left them (no outcome source
    columns, no resolutions table): opening adds what is missing, keeps every span, and
    the next `botanu price` stores late outcomes again."""
    duck, clickhouse = stores(spans, collector, tmp_path, "current")
    with duck, clickhouse:
        runs_before = rows(clickhouse, "SELECT run_id, total_cost, outcome_status FROM runs")
        events = rows(duck, "SELECT * FROM events")
    db = collector.database
    for statement in (
        f"DROP TABLE {db}.botanu_outcome_resolutions",
        f"ALTER TABLE {db}.botanu_spans DROP COLUMN outcome_source",
        f"ALTER TABLE {db}.botanu_run_rollup DROP COLUMN source, DROP COLUMN source_rank",
        f"ALTER TABLE {db}.botanu_run_rollup_stage DROP COLUMN source, DROP COLUMN source_rank",
        f"ALTER TABLE {db}.botanu_spans MODIFY COMMENT 'botanu schema 3'",
    ):
        chdb_client.command(statement)
    with open_store(collector.url) as upgraded:
        assert rows(upgraded, "SELECT run_id, total_cost, outcome_status FROM runs") == runs_before
        sources = dict(upgraded.query("SELECT event_id, outcome_source FROM events").rows)
        assert sources["O-3"] == "sdk"  # its late outcome is read again by a reprice
        price_days(upgraded, DAY0, DAY0 + 3 * 24 * HOUR, again=True)
        sources = dict(upgraded.query("SELECT event_id, outcome_source FROM events").rows)
        assert (sources["O-3"], sources["R-2"]) == ("stripe", "review")
        assert rows(upgraded, "SELECT * FROM events") == events
