"""The figures mean what they say (issue 14): unpriced usage is never counted as $0, and
waste is only spend that bought nothing. Every expected number is worked out by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from botanu.engine.costing import cost_per_outcome
from botanu.engine.records import CostLine, SpanRecord
from botanu.engine.store import open_store

T0 = 1_763_000_000_000_000_000
SEC = 10**9


def run(
    event: str,
    run_id: str,
    start: int,
    costs: list[str | None],
    status: str | None,
    *,
    retry_of: str | None = None,
    value: float | None = None,
) -> tuple[list[SpanRecord], list[CostLine]]:
    """One run of workflow `wf`: its run span, then one child span per cost (None: unpriced)."""
    trace = run_id.encode().hex().rjust(32, "0")
    spans = [
        SpanRecord(
            trace_id=trace,
            span_id=f"{1:016x}",
            name="botanu.run/wf",
            start_ns=T0 + start * SEC,
            end_ns=T0 + start * SEC + SEC,
            run_id=run_id,
            event_id=event,
            workflow="wf",
            customer_id="acme",
            retry_of_run_id=retry_of,
            is_run_span=True,
            outcome_status=status,
            outcome_value_type="tickets" if status else None,
            outcome_value_amount=value,
        )
    ]
    lines = []
    for i, cost in enumerate(costs):
        span = SpanRecord(
            trace_id=trace,
            span_id=f"{i + 2:016x}",
            name="chat",
            start_ns=T0 + start * SEC + 1,
            end_ns=T0 + start * SEC + 2,
            run_id=run_id,
            category="llm",
        )
        spans.append(span)
        lines.append(
            CostLine(
                trace_id=trace,
                span_id=span.span_id,
                category="llm",
                amount=None if cost is None else Decimal(cost),
                source="unpriced" if cost is None else "genai-prices",
            )
        )
    return spans, lines


RUNS = [
    run("E-unpriced", "u1", 0, [None], "success", value=1),  # fully unpriced
    run("E-partly", "p1", 10, ["1.00", None], "success", value=1),  # partly unpriced
    run("E-pc", "pc1", 20, ["2.00"], "success", value=1),  # producer ...
    run("E-pc", "pc2", 21, ["3.00"], "success", value=1),  # ... and its consumer
    run("E-retry", "r1", 30, ["4.00"], "failed"),
    run("E-retry", "r2", 31, ["1.00"], "success", retry_of="r1", value=1),
    run("E-partial", "pa1", 40, ["2.00"], "partial", value=1),
    run("E-pending", "pe1", 50, ["3.00"], None),
    run("E-failed", "f1", 60, ["6.00"], "failed"),
    run("E-failed", "f2", 61, ["0.50"], None),  # a sibling with no outcome: still failed
]


@pytest.fixture
def store():
    with open_store(":memory:") as s:
        s.write([span for spans, _ in RUNS for span in spans], [x for _, ls in RUNS for x in ls])
        yield s


def test_a_run_with_unpriced_usage_has_no_total_but_keeps_what_was_priced(store):
    query = "SELECT run_id, total_cost, priced_cost FROM runs"
    rows = {r[0]: r[1:] for r in store.query(query).rows}
    assert rows["u1"] == (None, Decimal(0))
    assert rows["p1"] == (None, Decimal("1.00"))
    assert rows["pc1"] == (Decimal("2.00"), Decimal("2.00"))


def test_the_seed_average_reads_only_fully_priced_runs(store):
    (avg,) = store.query("SELECT AVG(total_cost) FROM runs WHERE outcome_status = 'success'").rows[
        0
    ]
    # pc1 2 + pc2 3 + r2 1 over three runs; u1 and p1 are left out, not read as $0 / $1
    assert Decimal(str(avg)) == Decimal(2)


def test_events_final_outcome_cost_and_waste(store):
    got = {
        r[0]: r[1:]
        for r in store.query(
            "SELECT event_id, total_cost, priced_cost, final_outcome, wasted_cost FROM events"
        ).rows
    }
    assert got == {
        "E-unpriced": (None, Decimal(0), "success", Decimal(0)),
        "E-partly": (None, Decimal(1), "success", Decimal(0)),
        "E-pc": (Decimal(5), Decimal(5), "success", Decimal(0)),  # siblings are not waste
        "E-retry": (Decimal(5), Decimal(5), "success", Decimal(4)),  # the replaced attempt
        "E-partial": (Decimal(2), Decimal(2), "partial", Decimal(0)),  # partial is not waste
        "E-pending": (Decimal(3), Decimal(3), "pending", Decimal(0)),  # nor is pending
        "E-failed": (Decimal("6.5"), Decimal("6.5"), "failed", Decimal("6.5")),
    }


def test_rollups_leave_out_events_of_unknown_cost_and_say_how_many(store):
    (row,) = store.query(
        "SELECT events, runs, successful_events, pending_events, events_unpriced, total_cost, "
        "priced_cost, wasted_cost, cost_per_success, success_rate FROM workflows"
    ).rows
    events, runs, successes, pending, unpriced, total, priced, wasted, per_success, rate = row
    assert (events, runs, successes, pending, unpriced) == (7, 10, 4, 1, 2)
    assert total == Decimal("21.5")  # E-pc 5 + E-retry 5 + E-partial 2 + E-pending 3 + E-failed 6.5
    assert priced == Decimal("22.5")  # a lower bound: + E-partly's priced 1
    assert wasted == Decimal("10.5")  # E-retry's 4 + E-failed's 6.5
    assert Decimal(str(per_success)) == Decimal("10.75")  # 21.5 over the 2 priced successes
    assert float(rate) == pytest.approx(4 / 6)  # pending is not a failure


def test_the_report_says_what_it_left_out(store):
    (row,) = cost_per_outcome(store, "workflow")
    assert row.events == 7
    assert row.successful_events == 4
    assert row.pending_events == 1
    assert row.events_unpriced == 2
    assert row.total_cost == Decimal("21.5")
    assert row.priced_cost == Decimal("22.5")
    assert row.wasted_cost == Decimal("10.5")
    assert row.cost_per_success == Decimal("10.75")
    assert row.success_rate == Decimal(4) / Decimal(6)
