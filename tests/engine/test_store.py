"""The DuckDB store: dedupe, all-or-nothing writes, and the views the reports read,
including the two SQL queries of the Outcomes seed, verbatim."""

from __future__ import annotations

from decimal import Decimal

import pytest

from botanu.engine.records import CostLine, SpanRecord
from botanu.engine.store import StoreError, open_store

T0 = 1_763_000_000_000_000_000
SEED_COST_PER_SUCCESS = """
SELECT
    AVG(total_cost) as avg_cost_per_success
FROM runs
WHERE workflow = 'fulfill-order'
  AND outcome_status = 'success'
  AND outcome_value_type = 'orders_fulfilled';
"""
SEED_ROI = """
SELECT
    workflow,
    SUM(outcome_value_amount * value_per_unit) as total_value,
    SUM(total_cost) as total_cost,
    (SUM(outcome_value_amount * value_per_unit) - SUM(total_cost)) / SUM(total_cost) as roi
FROM runs
GROUP BY workflow;
"""


def run_spans(
    run_id, event_id, attempt, outcome, costs, *, start, workflow="fulfill-order", retry_of=None
):
    """A run span plus one priced child per cost; returns (spans, cost lines)."""
    trace = f"{abs(hash(run_id)) % 16**32:032x}"
    root = SpanRecord(
        trace_id=trace,
        span_id=f"{attempt:016x}",
        name=f"botanu.run/{workflow}",
        start_ns=start,
        end_ns=start + 10**9,
        run_id=run_id,
        event_id=event_id,
        workflow=workflow,
        customer_id="acme",
        attempt=attempt,
        retry_of_run_id=retry_of,
        is_run_span=True,
        outcome_status=outcome,
        outcome_value_type="orders_fulfilled" if outcome == "success" else None,
        outcome_value_amount=1.0 if outcome == "success" else None,
    )
    spans, lines = [root], []
    for i, (category, amount) in enumerate(costs, start=1):
        span = SpanRecord(
            trace_id=trace,
            span_id=f"{attempt:08x}{i:08x}",
            name=f"child-{i}",
            start_ns=start + i,
            end_ns=start + i + 1000,
            run_id=run_id,
            category=category,
        )
        spans.append(span)
        lines.append(
            CostLine(
                trace_id=trace,
                span_id=span.span_id,
                category=category,
                amount=None if amount is None else Decimal(amount),
                source="unpriced" if amount is None else "genai-prices",
            )
        )
    return spans, lines


@pytest.fixture
def store(tmp_path):
    with open_store(str(tmp_path / "b.duckdb")) as s:
        yield s


def fill(store):
    # order-1: failed once ($0.25 wasted), then succeeded ($0.40 + $0.01 of storage)
    a = run_spans("r1", "order-1", 1, "failed", [("llm", "0.25")], start=T0)
    b = run_spans(
        "r2",
        "order-1",
        2,
        "success",
        [("llm", "0.40"), ("storage", "0.01")],
        start=T0 + 5 * 10**9,
        retry_of="r1",
    )
    # order-2: one success with an unpriced LLM call next to a priced one
    c = run_spans(
        "r3", "order-2", 1, "success", [("llm", "0.30"), ("llm", None)], start=T0 + 9 * 10**9
    )
    for spans, lines in (a, b, c):
        store.write(spans, lines)


def test_spans_are_stored_once(store):
    spans, lines = run_spans("r1", "e", 1, "success", [("llm", "0.1")], start=T0)
    assert store.write(spans, lines) == 2
    assert store.write(spans, lines) == 0
    assert store.query("SELECT count(*) FROM spans").rows == [(2,)]


def test_attributes_a_column_holds_are_stored_once_and_read_back_whole(store):
    kept = {"botanu.run_id": "r1", "botanu.workflow": "support", "http.route": "/chat"}
    differs = {"botanu.run_id": "r2", "botanu.customer_id": "7"}  # column says otherwise
    store.write(
        [
            SpanRecord(
                trace_id="a" * 32,
                span_id="1" * 16,
                name="x",
                start_ns=T0,
                end_ns=T0,
                run_id="r1",
                workflow="support",
                attributes=kept,
            ),
            SpanRecord(
                trace_id="a" * 32,
                span_id="2" * 16,
                name="y",
                start_ns=T0,
                end_ns=T0,
                run_id="r2",
                customer_id="acme",
                attributes=differs,
            ),
        ]
    )
    stored = store.query("SELECT attributes FROM span_rows ORDER BY span_id").rows
    assert [[e["key"] for e in entries] for (entries,) in stored] == [
        ["http.route"],
        ["botanu.customer_id"],
    ]
    shown = store.query("SELECT attributes FROM spans ORDER BY span_id").rows
    assert [attributes for (attributes,) in shown] == [kept, differs]


def test_a_failing_write_stores_nothing(store):
    spans, lines = run_spans("r1", "e", 1, "success", [("llm", "1" + "0" * 30)], start=T0)
    with pytest.raises(StoreError, match="nothing was stored"):  # too big for DECIMAL(38, 18)
        store.write(spans, lines)
    assert store.query("SELECT count(*) FROM spans").rows == [(0,)]
    assert store.query("SELECT count(*) FROM cost_lines").rows == [(0,)]


def test_runs_events_and_workflows(store):
    fill(store)
    runs = {r["run_id"]: r for r in store.query("SELECT * FROM runs").as_dicts()}
    assert runs["r2"]["total_cost"] == Decimal("0.41")
    assert runs["r2"]["llm_cost"] == Decimal("0.40")
    assert runs["r2"]["storage_cost"] == Decimal("0.01")
    assert runs["r3"]["total_cost"] is None  # the unpriced call is not $0 ...
    assert runs["r3"]["priced_cost"] == Decimal("0.30")  # what was priced: a lower bound
    assert runs["r3"]["unpriced_spans"] == 1  # ... it is counted
    assert runs["r1"]["outcome_status"] == "failed"
    events = {e["event_id"]: e for e in store.query("SELECT * FROM events").as_dicts()}
    order1 = events["order-1"]
    assert (order1["attempts"], order1["final_outcome"]) == (2, "success")
    assert order1["total_cost"] == Decimal("0.66")  # failed attempt included
    assert order1["wasted_cost"] == Decimal("0.25")
    (wf,) = store.query("SELECT * FROM workflows").as_dicts()
    assert (wf["events"], wf["runs"], wf["successful_events"]) == (2, 3, 2)
    assert wf["total_cost"] == Decimal("0.66")  # order-2's cost is unknown: left out ...
    assert wf["events_unpriced"] == 1  # ... and said so
    assert wf["priced_cost"] == Decimal("0.96")  # a lower bound
    assert wf["cost_per_success"] == pytest.approx(0.66)
    (unpriced,) = store.query("SELECT * FROM unpriced").as_dicts()
    assert unpriced["spans"] == 1


def test_the_seed_queries_run_verbatim(store):
    fill(store)
    (row,) = store.query(SEED_COST_PER_SUCCESS).rows
    assert row[0] == pytest.approx(0.41)  # r3's cost is unknown: left out of the average
    store.set_valuation("orders_fulfilled", Decimal("2.50"))
    (roi,) = store.query(SEED_ROI).as_dicts()
    assert roi["total_value"] == pytest.approx(5.0)
    assert roi["total_cost"] == Decimal("0.66")  # SUM skips r3, whose cost is unknown
    assert roi["roi"] == pytest.approx((5.0 - 0.66) / 0.66)


def test_bad_sql_is_a_store_error_with_the_database_message(store):
    with pytest.raises(StoreError, match=r"(?i)syntax|parser"):
        store.query("SELEC 1")


def test_store_urls(tmp_path, monkeypatch):
    with pytest.raises(StoreError, match="unknown store URL"):
        open_store("postgres://x/y")
    monkeypatch.setenv("BOTANU_STORE", str(tmp_path / "env.duckdb"))
    with open_store() as s:
        assert s.query("SELECT count(*) FROM runs").rows == [(0,)]
    assert (tmp_path / "env.duckdb").exists()
    with pytest.raises(StoreError, match="no store at"):
        open_store(str(tmp_path / "missing.duckdb"), read_only=True)
