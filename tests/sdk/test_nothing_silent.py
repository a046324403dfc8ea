"""Nothing silent: a run that would record nothing says so once, and under another
vendor's OpenTelemetry provider (ddtrace's, here a stand-in of the same kind: an API
provider that is not the SDK's) botanu records and exports its runs on its own provider."""

from __future__ import annotations

import json
from decimal import Decimal

from botanu.engine.store import open_store

WARNING = "call botanu.enable() at start-up"

RUNS = """
import botanu
from botanu import botanu_workflow, emit_outcome, track_llm_call

@botanu_workflow("support", event_id=lambda i: f"t-{i}", customer_id="acme")
def handle(i):
    with track_llm_call(provider="openai", model="gpt-4o") as call:
        call.set_tokens(input_tokens=1000, output_tokens=100)
    emit_outcome("success")

for i in range(3):
    handle(i)
print("done")
"""


def test_runs_without_enable_and_without_a_provider_warn_once(run_python):
    done = run_python(RUNS)

    assert done.stdout.strip() == "done"
    assert done.stderr.count(WARNING) == 1


def test_runs_on_the_applications_sdk_provider_do_not_warn(run_python):
    setup = (
        "from opentelemetry import trace\n"
        "from opentelemetry.sdk.trace import TracerProvider\n"
        "trace.set_tracer_provider(TracerProvider())\n"
    )
    done = run_python(setup + RUNS)

    assert done.stdout.strip() == "done"
    assert WARNING not in done.stderr


def test_runs_are_recorded_beside_another_vendors_provider(run_python, tmp_path):
    store_path = tmp_path / "costs.duckdb"
    setup = """
import json
from opentelemetry import trace
from opentelemetry.trace import NoOpTracer, TracerProvider

class VendorProvider(TracerProvider):  # an API provider that is not the SDK's
    def get_tracer(self, *args, **kwargs):
        return NoOpTracer()

vendor = VendorProvider()
trace.set_tracer_provider(vendor)
import botanu
botanu.enable(service_name="desk", exporter="local")
"""
    after = """
botanu.disable()
print(json.dumps({"global_is_vendor": trace.get_tracer_provider() is vendor}))
"""
    env = {"BOTANU_STORE": str(store_path), "BOTANU_SHUTDOWN_TIMEOUT": "60"}
    done = run_python(setup + RUNS + after, env=env)

    assert json.loads(done.stdout.splitlines()[-1]) == {"global_is_vendor": True}
    assert WARNING not in done.stderr
    with open_store(str(store_path)) as store:
        ((runs, total),) = store.query("SELECT count(*), sum(total_cost) FROM runs").rows
    assert runs == 3
    # gpt-4o: $2.50 per million input tokens, $10 per million output tokens
    assert Decimal(total) == 3 * (1000 * Decimal("2.50") + 100 * Decimal("10")) / 10**6
