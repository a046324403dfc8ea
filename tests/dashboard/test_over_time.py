"""Cost per successful outcome over time: per hour for a short span of data, per day for a
longer one, drawn as lines once there are two buckets."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from starlette.testclient import TestClient

from botanu.dashboard import create_dashboard
from botanu.engine.records import CostLine, SpanRecord
from botanu.engine.store import open_store

DAY_NS = 86_400 * 10**9
T0 = 1_763_000_000_000_000_000


def run(store, n, start, outcome, amount, *, workflow="triage"):
    trace = f"{n:032x}"
    root = SpanRecord(
        trace_id=trace,
        span_id=f"{n:016x}",
        name="run",
        start_ns=start,
        end_ns=start + 10**9,
        run_id=f"r{n}",
        event_id=f"e{n}",
        workflow=workflow,
        customer_id="acme",
        is_run_span=True,
        outcome_status=outcome,
    )
    child = SpanRecord(
        trace_id=trace,
        span_id=f"{n + 1000:016x}",
        parent_span_id=root.span_id,
        name="chat",
        start_ns=start + 1,
        end_ns=start + 10**8,
        run_id=f"r{n}",
        category="llm",
    )
    line = CostLine(trace, child.span_id, "llm", Decimal(amount), "rate_card")
    store.write([root, child], [line])


@pytest.fixture
def client(tmp_path):
    with open_store(str(tmp_path / "t.duckdb")) as store:
        yield store, TestClient(create_dashboard(store))


def test_a_week_of_data_is_charted_per_day_as_lines(client):
    store, c = client
    run(store, 1, T0, "success", "0.10")
    run(store, 2, T0 + 1000, "failed", "0.05")
    run(store, 3, T0 + 3 * DAY_NS, "success", "0.30")
    run(store, 4, T0 + 6 * DAY_NS, "failed", "0.20")  # a day without success: a gap
    run(store, 5, T0 + 7 * DAY_NS, "success", "0.40")
    data = c.get("/api/overview").json()
    assert data["bucket"] == "day"
    (series,) = data["series"]
    assert [p["cost_per_success"] for p in series["points"]] == ["0.15", "0.3", None, "0.4"]
    assert data["total_cost"] == "1.05"
    assert data["cost_per_success"] == "0.35"
    html = c.get("/").text
    (d,) = re.findall(r'<path class="line" d="([^"]*)"', html)
    assert [step[0] for step in d.split()] == ["M", "L", "M"]  # the gap starts a new stroke


def test_an_hour_of_data_is_charted_per_hour(client):
    store, c = client
    run(store, 1, T0, "success", "0.10", workflow="a")
    run(store, 2, T0 + 10**9, "success", "0.20", workflow="b")
    data = c.get("/api/overview").json()
    assert data["bucket"] == "hour"
    assert [s["workflow"] for s in data["series"]] == ["a", "b"]
    html = c.get("/").text
    assert html.count('<rect class="bar"') == 2  # one bucket: a bar per workflow


def test_an_empty_store_renders_every_page(client):
    _, c = client
    for path in ("/", "/workflows", "/customers", "/tenants", "/runs", "/unpriced"):
        response = c.get(path)
        assert response.status_code == 200, path
    data = c.get("/api/overview").json()
    assert data["total_cost"] == "0"
    assert data["cost_per_success"] is None
    assert data["series"] == []
