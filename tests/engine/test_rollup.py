"""Run rollups kept current write by write equal the rollups recomputed from all spans,
whatever the batches, their order, duplicates, late run spans or reprices; and a store
made by an older botanu keeps its spans and cost lines when it is migrated."""

from __future__ import annotations

import itertools
from decimal import Decimal
from importlib import resources

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botanu.engine.records import CostLine, SpanRecord
from botanu.engine.store import open_store
from botanu.engine.store._rollup import rollup_sql

pytestmark = pytest.mark.slow  # a long property run

T0 = 1_763_000_000_000_000_000
ROLLUP_ORDER = "SELECT * FROM ({}) ORDER BY run_id"


@st.composite
def spans_and_lines(draw):
    """Spans of a few runs (at most one run span each, outcomes anywhere), distinct ends."""
    count = draw(st.integers(1, 30))
    spans, lines, with_run_span = [], [], set()
    for i in range(count):
        run = draw(st.sampled_from(["r1", "r2", "r3", "r4"]))
        is_run_span = run not in with_run_span and draw(st.booleans())
        if is_run_span:
            with_run_span.add(run)
        outcome = draw(st.sampled_from([None, None, "success", "failed", "partial"]))
        span = SpanRecord(
            trace_id=f"{ord(run[1]):032x}",
            span_id=f"{i + 1:016x}",
            name=f"botanu.run/wf-{run}" if is_run_span else "child",
            start_ns=T0 + draw(st.integers(0, 10**6)),
            end_ns=T0 + 10**7 + i,  # distinct: the latest outcome is well defined
            run_id=run if is_run_span else draw(st.sampled_from([run, run, None])),
            event_id=draw(st.sampled_from([None, f"event-{run}"])),
            workflow=draw(st.sampled_from([None, f"wf-{run}", "other"])),
            customer_id=draw(st.sampled_from([None, "acme", "globex"])),
            attempt=draw(st.sampled_from([None, 1, 2])),
            is_run_span=is_run_span,
            outcome_status=outcome,
            outcome_value_type="tickets" if outcome else None,
            outcome_value_amount=float(i) if outcome else None,
            category=draw(st.sampled_from(["llm", "db", "storage", "messaging", "other"])),
        )
        spans.append(span)
        price = draw(st.sampled_from([None, "unpriced", "0.001", "1.25", "0.000000000000000001"]))
        if price is not None:
            lines.append(
                CostLine(
                    trace_id=span.trace_id,
                    span_id=span.span_id,
                    category=span.category,
                    amount=None if price == "unpriced" else Decimal(price),
                    source="unpriced" if price == "unpriced" else "genai-prices",
                )
            )
    return spans, lines


def rollups(store):
    kept = store.query(ROLLUP_ORDER.format("SELECT * FROM run_rollup")).rows
    fresh = store.query(ROLLUP_ORDER.format(rollup_sql("span_rows"))).rows
    return kept, fresh


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=spans_and_lines(), cuts=st.lists(st.integers(0, 30), max_size=4), seed=st.randoms())
def test_rollups_kept_by_writes_equal_rollups_from_scratch(data, cuts, seed):
    spans, lines = data
    shuffled = list(spans)
    seed.shuffle(shuffled)
    bounds = sorted({0, len(shuffled), *(c for c in cuts if c < len(shuffled))})
    with open_store(":memory:") as store:
        for low, high in itertools.pairwise(bounds):
            store.write(shuffled[low:high], lines)
        store.write(shuffled[: len(shuffled) // 2], lines)  # a resent export changes nothing
        kept, fresh = rollups(store)
        assert kept == fresh
        assert store.query("SELECT count(*) FROM spans").rows == [(len(spans),)]
        # a reprice replaces lines and their runs' rollups follow
        doubled = [
            CostLine(
                trace_id=line.trace_id,
                span_id=line.span_id,
                category=line.category,
                amount=None if line.amount is None else line.amount * 2,
                source=line.source,
            )
            for line in lines[::2]
        ]
        store.update_costs(doubled)
        kept, fresh = rollups(store)
        assert kept == fresh


def test_a_span_twice_in_one_write_is_stored_once():
    span = SpanRecord(trace_id="a" * 32, span_id="b" * 16, name="x", start_ns=T0, end_ns=T0 + 1)
    with open_store(":memory:") as store:
        assert store.write([span, span]) == 1
        assert store.query("SELECT count(*) FROM spans").rows == [(1,)]


def test_a_store_made_by_an_older_botanu_is_migrated_with_its_costs(tmp_path):
    path = str(tmp_path / "old.duckdb")
    folder = resources.files("botanu.engine.store.duckdb") / "sql"
    con = duckdb.connect(path)
    con.execute("CREATE TABLE botanu_migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP)")
    for name in ("0001_spans.sql", "0002_cost_lines.sql"):
        con.execute((folder / name).read_text())
        con.execute("INSERT INTO botanu_migrations VALUES (?, current_timestamp)", [name])
    con.execute(
        "INSERT INTO spans (trace_id, span_id, name, start_ns, end_ns, run_id, workflow, "
        "is_run_span, outcome_status, category, attributes) VALUES "
        f"('t', 'root', 'botanu.run/wf', {T0}, {T0 + 9}, 'r', 'wf', true, 'success', 'other', "
        "MAP {'botanu.run_id': 'r'}), "
        f"('t', 'llm', 'chat', {T0 + 1}, {T0 + 5}, 'r', 'wf', false, NULL, 'llm', MAP {{}})"
    )
    con.execute(
        "INSERT INTO cost_lines (trace_id, span_id, category, amount, currency, source, "
        "estimated) VALUES ('t', 'llm', 'llm', 0.125, 'USD', 'genai-prices', true)"
    )
    con.close()
    with open_store(path) as store:
        run = store.query("SELECT total_cost, outcome_status FROM runs").rows
        assert run == [(Decimal("0.125"), "success")]
        assert store.query("SELECT attributes['botanu.run_id'] FROM spans WHERE span_id = 'root'")
        assert store.query("SELECT source FROM cost_lines").rows == [("genai-prices",)]
