"""End to end: instrumented app code -> local exporter -> DuckDB store -> `botanu report
--json`, with every figure computed by hand from the published prices."""

from __future__ import annotations

import json
from decimal import Decimal

from click.testing import CliRunner

from botanu.cli import cli

APP = """
import botanu
from botanu import botanu_workflow, emit_outcome, track_llm_call

botanu.enable(service_name="support-desk", exporter="local")

@botanu_workflow("support", event_id=lambda ticket: ticket, customer_id="acme")
def resolve(ticket, model, tokens, fail=False):
    with track_llm_call(provider="openai", model=model) as tracker:
        tracker.set_tokens(**tokens)
    if fail:
        raise RuntimeError("model answer rejected")
    emit_outcome("success", value_type="tickets_resolved", value_amount=1)

try:
    resolve("t-1", "gpt-4o", {"input_tokens": 1000, "output_tokens": 100}, fail=True)
except RuntimeError:
    pass
resolve("t-1", "gpt-4o", {"input_tokens": 2000, "output_tokens": 200, "cache_read_tokens": 1000})
resolve("t-2", "acme-private-llm", {"input_tokens": 500, "output_tokens": 50})
botanu.disable()
print("done")
"""


def test_app_to_report(run_python, tmp_path):
    store = tmp_path / "e2e.duckdb"
    out = run_python(APP, env={"BOTANU_STORE": str(store)})
    assert out.stdout.strip() == "done"
    result = CliRunner().invoke(cli, ["--store", str(store), "report", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    (row,) = report["rows"]
    # gpt-4o: $2.50 / 1M input, $1.25 / 1M cached input, $10 / 1M output
    failed_attempt = 1000 * Decimal("2.50") / 10**6 + 100 * Decimal("10") / 10**6
    retry = (
        1000 * Decimal("2.50") / 10**6
        + 1000 * Decimal("1.25") / 10**6
        + 200 * Decimal("10") / 10**6
    )
    assert row["key"] == "support"
    assert (row["events"], row["runs"], row["successful_events"]) == (2, 3, 2)
    assert Decimal(row["total_cost"]) == failed_attempt + retry  # acme-private-llm: unpriced
    # two calls with no retry link are sibling runs of t-1: the later one's success stands
    assert Decimal(row["wasted_cost"]) == 0
    # t-2's cost is unknown: left out of the cost figures, and said so
    assert Decimal(row["cost_per_success"]) == failed_attempt + retry
    assert row["events_unpriced"] == 1
    assert row["unpriced_spans"] == 1
    assert Decimal(row["success_rate"]) == 1
