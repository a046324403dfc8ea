"""Cost sees every run under any sampler; tracing keeps its ratio.

An application sampling at 0.1 (its own provider, or botanu's from `OTEL_TRACES_SAMPLER`)
runs 200 runs through botanu's local exporter: every run is in the store with its exact
cost, and the application's exporter gets exactly the spans its sampler chooses — those
of the traces `TraceIdRatioBased(0.1)` accepts, as without botanu.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased

from botanu.engine.store import open_store

RUNS = 200
# gpt-4o: $2.50 per million input tokens, $10 per million output tokens
RUN_COST = 1000 * Decimal("2.50") / 10**6 + 100 * Decimal("10") / 10**6

APP = """
import json
import botanu
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from botanu import botanu_workflow, emit_outcome, track_llm_call

app_exporter = InMemorySpanExporter()
if HOST_PROVIDER:
    provider = TracerProvider(sampler=ParentBased(TraceIdRatioBased(0.1)))
    trace.set_tracer_provider(provider)
botanu.enable(service_name="desk", exporter="local")
provider = trace.get_tracer_provider()
provider.add_span_processor(SimpleSpanProcessor(app_exporter))
tracer = trace.get_tracer("app")

@botanu_workflow("support", event_id=lambda i: f"t-{i}", customer_id="acme")
def handle(i):
    with tracer.start_as_current_span("lookup"):
        pass
    with track_llm_call(provider="openai", model="gpt-4o") as call:
        call.set_tokens(input_tokens=1000, output_tokens=100)
    emit_outcome("success")

for i in range(RUNS):
    handle(i)
for i in range(RUNS):  # outside any run: the sampler alone decides
    with tracer.start_as_current_span("health check"):
        pass
botanu.disable()
print(json.dumps([
    [format(s.context.trace_id, "032x"), format(s.context.span_id, "016x"), s.name]
    for s in app_exporter.get_finished_spans()
]))
"""


def sampled_by_ratio(trace_id: str) -> bool:
    result = TraceIdRatioBased(0.1).should_sample(None, int(trace_id, 16), "root")
    return result.decision.is_sampled()


@pytest.mark.parametrize(
    ("host_provider", "env"),
    [
        (True, {}),
        (False, {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"}),
    ],
    ids=["application provider, ParentBased(TraceIdRatioBased(0.1))", "OTEL_TRACES_SAMPLER"],
)
def test_every_run_is_costed_and_the_application_exports_what_it_samples(
    run_python, tmp_path, host_provider, env
):
    store_path = tmp_path / "costs.duckdb"
    source = APP.replace("HOST_PROVIDER", str(host_provider)).replace("RUNS", str(RUNS))
    # the first local write loads the engine: give disable() time to flush under load
    settings = {"BOTANU_STORE": str(store_path), "BOTANU_SHUTDOWN_TIMEOUT": "60"}
    out = run_python(source, env={**settings, **env})
    exported = {tuple(span) for span in json.loads(out.stdout)}

    with open_store(str(store_path)) as store:
        ((runs, total),) = store.query("SELECT count(*), sum(total_cost) FROM runs").rows
        stored = {
            tuple(row) for row in store.query("SELECT trace_id, span_id, name FROM spans").rows
        }
    assert runs == RUNS
    assert Decimal(total) == RUNS * RUN_COST

    # the application's exporter: every span of a trace its ratio accepts, no other
    stored_runs = {span for span in stored if span[2] != "health check"}
    in_runs = {span for span in exported if span[2] != "health check"}
    assert in_runs == {span for span in stored_runs if sampled_by_ratio(span[0])}
    assert 0 < len(in_runs) < len(stored_runs) / 3
    outside = {span for span in exported if span[2] == "health check"}
    assert all(sampled_by_ratio(span[0]) for span in outside)
    assert 0 < len(outside) < RUNS / 3
    # outside runs botanu records nothing more than the sampler chose
    assert {span for span in stored if span[2] == "health check"} == outside


def test_a_span_continued_from_inbound_baggage_is_recorded_not_sampled():
    from opentelemetry import baggage, context
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, Decision

    from botanu import semconv
    from botanu.sdk.sampling import RunRecordingSampler

    sampler = RunRecordingSampler(ALWAYS_OFF)
    inbound = baggage.set_baggage(semconv.RUN_ID, "019a0000-0000-7000-8000-000000000001")
    in_run = sampler.should_sample(inbound, 1, "GET /tickets", attributes={"http.route": "/t"})
    assert in_run.decision is Decision.RECORD_ONLY
    assert in_run.attributes == {"http.route": "/t"}  # the span's own, kept
    assert sampler.should_sample(context.Context(), 1, "GET /health").decision is Decision.DROP
    run_span = {semconv.RUN_ID: "019a0000-0000-7000-8000-000000000002"}
    assert sampler.should_sample(None, 1, "support", attributes=run_span).decision.is_recording()

    sampler.enabled = False  # after disable(): the application's sampler alone
    assert sampler.should_sample(inbound, 1, "GET /tickets").decision is Decision.DROP


def test_botanus_batcher_exports_spans_recorded_but_not_sampled():
    from opentelemetry import baggage, context
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    from botanu import semconv
    from botanu.sdk._otel_internals import recorded_span_batcher
    from botanu.sdk.sampling import recording_runs

    ours, theirs = InMemorySpanExporter(), InMemorySpanExporter()
    provider = TracerProvider(sampler=ALWAYS_OFF)
    provider.add_span_processor(SimpleSpanProcessor(theirs))
    batcher = recorded_span_batcher(ours)
    provider.add_span_processor(batcher)
    recording_runs(provider)
    tracer = provider.get_tracer("app")
    run_id = "019a0000-0000-7000-8000-000000000003"
    token = context.attach(baggage.set_baggage(semconv.RUN_ID, run_id))  # a run, continued
    with tracer.start_as_current_span("support", attributes={semconv.RUN_ID: run_id}):
        with tracer.start_as_current_span("lookup"):
            pass
    context.detach(token)
    tracer.start_span("outside").end()
    batcher.force_flush()

    assert sorted(s.name for s in ours.get_finished_spans()) == ["lookup", "support"]
    assert not any(s.context.trace_flags.sampled for s in ours.get_finished_spans())
    assert theirs.get_finished_spans() == ()
    provider.shutdown()
