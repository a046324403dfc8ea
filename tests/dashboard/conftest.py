"""A demo store with a run whose names are HTML, and the dashboard over it.

The demo runs in a subprocess (it enables botanu with the local exporter and sets
BOTANU_STORE, neither of which may leak into this test process).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from decimal import Decimal

import pytest
from click.testing import CliRunner

from botanu.cli.main import cli
from botanu.dashboard import create_dashboard
from botanu.engine.records import CostLine, SpanRecord
from botanu.engine.store import open_store
from botanu.engine.store.reads import ViewReads

EVIL = "<script>alert(1)</script>"
EVIL_RUN_ID = f"run-{EVIL}/x?y#z"
EVIL_AMOUNT = Decimal("0.012345678901234567")


class LockedStore(ViewReads):
    """The store the dashboard gets: one query at a time (a DuckDB connection must not be
    used from two threads at once, and Starlette runs the handlers in a thread pool)."""

    def __init__(self, store):
        self._store = store
        self._lock = threading.Lock()
        self.dialect = store.dialect

    def query(self, sql, parameters=None):
        with self._lock:
            return self._store.query(sql, parameters)

    def valuations(self):
        with self._lock:
            return self._store.valuations()

    def close(self):
        with self._lock:
            self._store.close()


def evil_run(start_ns):
    """A run whose workflow, customer, tenant, event, span names and cost detail are HTML."""
    trace = "e" * 32
    root = SpanRecord(
        trace_id=trace,
        span_id="e" * 16,
        name=EVIL,
        start_ns=start_ns,
        end_ns=start_ns + 50_000_000,
        run_id=EVIL_RUN_ID,
        event_id=EVIL,
        workflow=EVIL,
        customer_id=EVIL,
        tenant_id=EVIL,
        attempt=1,
        is_run_span=True,
        outcome_status="success",
        outcome_value_type=EVIL,
        outcome_value_amount=1.0,
        outcome_reason=EVIL,
    )
    priced = SpanRecord(
        trace_id=trace,
        span_id="e" * 15 + "1",
        parent_span_id=root.span_id,
        name=EVIL,
        start_ns=start_ns + 5_000_000,
        end_ns=start_ns + 30_000_000,
        run_id=EVIL_RUN_ID,
        workflow=EVIL,
        category="llm",
        provider=EVIL,
        request_model=EVIL,
        input_tokens=100,
        output_tokens=10,
    )
    unpriced = SpanRecord(
        trace_id=trace,
        span_id="e" * 15 + "2",
        parent_span_id=root.span_id,
        name=f"{EVIL} unpriced",
        start_ns=start_ns + 31_000_000,
        end_ns=start_ns + 45_000_000,
        run_id=EVIL_RUN_ID,
        workflow=EVIL,
        category="llm",
        provider=EVIL,
        request_model=EVIL,
    )
    lines = [
        CostLine(
            trace_id=trace,
            span_id=priced.span_id,
            category="llm",
            amount=EVIL_AMOUNT,
            source="rate_card",
            catalog_version=EVIL,
            matched_model=EVIL,
            detail=EVIL,
        ),
        CostLine(
            trace_id=trace,
            span_id=unpriced.span_id,
            category="llm",
            amount=None,
            source="unpriced",
            detail=EVIL,
        ),
    ]
    return [root, priced, unpriced], lines


@pytest.fixture(scope="session")
def evil():
    """What the HTML-named run holds: its text, run id and exact priced amount."""
    return {"text": EVIL, "run_id": EVIL_RUN_ID, "amount": EVIL_AMOUNT}


@pytest.fixture(scope="session")
def store_path(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("dashboard") / "d.duckdb")
    done = subprocess.run(
        [sys.executable, "-c", f"from botanu.demo import run_demo; run_demo({path!r})"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    with open_store(path) as store:
        (last,) = store.query("SELECT max(end_ns) FROM spans").rows[0]
        assert store.write(*evil_run(int(last) + 1_000_000)) == 3
    return path


@pytest.fixture(scope="session")
def store(store_path):
    locked = LockedStore(open_store(store_path))
    yield locked
    locked.close()


@pytest.fixture(scope="session")
def app(store):
    return create_dashboard(store)


@pytest.fixture(scope="session")
def botanu_cli(store_path):
    """Runs the real `botanu` CLI on the same store; returns its parsed JSON output."""

    def run(*args):
        result = CliRunner().invoke(cli, ["--store", store_path, *args])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    return run
