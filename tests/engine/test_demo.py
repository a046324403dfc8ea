"""`botanu demo`, the README's main job: the real openai client against the bundled model
server, priced into a fresh store, and a report that agrees with the store's cost lines."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest
from click.testing import CliRunner

from botanu.cli import cli

pytestmark = pytest.mark.slow  # runs botanu demo in a process


def run_demo(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "botanu.cli", "demo", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def query(store, sql):
    result = CliRunner().invoke(cli, ["--store", store, "sql", sql, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_demo_runs_offline_and_its_report_matches_the_store(tmp_path):
    demo = run_demo(tmp_path)
    store = str(tmp_path / demo["store"])
    assert demo["ran"]["tickets"] == 24
    assert demo["ran"]["orders"] == 16
    assert demo["ran"]["retries"] > 0
    rows = {row["key"]: row for row in demo["rows"]}
    assert set(rows) == {"resolve-ticket", "fulfill-order"}
    # every figure of the report comes from the cost lines, exactly
    for workflow, row in rows.items():
        (total,) = query(
            store,
            "SELECT sum(c.amount) AS total FROM cost_lines c JOIN spans s "
            f"USING (trace_id, span_id) WHERE s.workflow = '{workflow}'",
        )
        assert Decimal(row["priced_cost"]) == Decimal(total["total"])
    assert rows["resolve-ticket"]["runs"] > rows["resolve-ticket"]["events"]  # retries
    # a retried ticket: attempt 2 is the retry of attempt 1, both runs of its event
    retried = query(
        store,
        "SELECT r.event_id, r.attempt, r.outcome_status, f.attempt AS first_attempt,"
        " f.event_id = r.event_id AS same_event, f.outcome_status AS first_outcome"
        " FROM runs r JOIN runs f ON f.run_id = r.retry_of_run_id ORDER BY r.event_id",
    )
    assert len(retried) == demo["ran"]["retries"]
    for run in retried:
        assert (run["attempt"], run["first_attempt"]) == (2, 1)
        assert run["same_event"]
        assert run["first_outcome"] == "failed"
        assert run["outcome_status"] != "failed"
    # each failed attempt's model call failed before reporting usage: not billed, $0, so
    # the retried tickets' cost is known and the failed attempt counts as waste, at $0
    assert rows["resolve-ticket"]["events_unpriced"] == 0
    failed_calls = query(
        store,
        "SELECT c.source, c.amount FROM cost_lines c JOIN spans s USING (trace_id, span_id)"
        " WHERE s.category = 'llm' AND s.run_id IN (SELECT retry_of_run_id FROM runs)",
    )
    assert len(failed_calls) == demo["ran"]["retries"]
    assert all((c["source"], Decimal(c["amount"])) == ("not_billed", 0) for c in failed_calls)
    events = query(
        store,
        "SELECT e.total_cost, e.wasted_cost, f.total_cost AS first_cost FROM events e"
        " JOIN runs f ON f.event_id = e.event_id AND f.run_id IN"
        " (SELECT retry_of_run_id FROM runs)",
    )
    assert len(events) == demo["ran"]["retries"]
    for event in events:
        assert event["total_cost"] is not None
        assert event["first_cost"] is not None
        assert Decimal(event["wasted_cost"]) == Decimal(event["first_cost"]) == 0
    (wasted,) = query(
        store, "SELECT sum(wasted_cost) AS w FROM events WHERE workflow = 'resolve-ticket'"
    )
    assert Decimal(rows["resolve-ticket"]["wasted_cost"]) == Decimal(wasted["w"])
    sources = {r["source"] for r in query(store, "SELECT DISTINCT source FROM cost_lines")}
    assert {"genai-prices", "rate_card", "unpriced", "not_billed"} <= sources
    models = {r["model"] for r in query(store, "SELECT model FROM unpriced")}
    assert "acme-llama-70b" in models  # a self-hosted model: shown, not $0
    cached = query(store, "SELECT sum(cache_read_tokens) AS n FROM spans")
    assert cached[0]["n"] > 0
    again = CliRunner().invoke(cli, ["--store", store, "report", "--json"])
    assert json.loads(again.output)["rows"] == demo["rows"]


def test_the_demo_starts_from_a_fresh_store(tmp_path):
    first = run_demo(tmp_path)
    second = run_demo(tmp_path)
    assert first["rows"] == second["rows"]  # deterministic, and nothing piled up
