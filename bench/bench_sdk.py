"""SDK overhead against hand-written bare OpenTelemetry, measured in one process run.

    python bench/bench_sdk.py [--quick]

Shapes: one whole run (root span with 5 run attributes and baggage, an LLM child span
with tokens and response id, 3 outcome attributes and 1 event); a plain child span inside
a run; a span outside any run; then, with `enable(auto_instrument=[...])`, an
instrumentor's span inside a run (an httpx client span, and a GenAI client span as the
OpenAI/Anthropic instrumentors start them, which botanu completes as it ends);
`import botanu` against `import opentelemetry.sdk.trace`; memory after 100k runs. Bare
and botanu batches alternate; each figure is the median of the per-batch times, so drift
on the machine hits both sides alike.
"""

from __future__ import annotations

import argparse
import compileall
import gc
import os
import pathlib
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence

from opentelemetry import baggage, context, trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ParentBased, Sampler, TraceIdRatioBased

import botanu
from botanu import RunContextEnricher, botanu_workflow, emit_outcome, track_llm_call
from botanu.sdk._otel_internals import recorded_span_batcher
from botanu.sdk.sampling import recording_runs

# "outside-host": the same span on a provider the host built, botanu's enricher added to
# its processor list (no target of its own: shown to make the cost of that path visible)
TARGETS = {"run": 1.30, "child": 1.20, "outside": 1.03}


class DiscardExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def batch_exporter() -> BatchSpanProcessor:
    # a real batching exporter, tuned so that its worker thread wakes rarely: its exports
    # would otherwise land at random inside one side's timed batch
    return BatchSpanProcessor(
        DiscardExporter(),
        max_queue_size=1 << 17,
        max_export_batch_size=1 << 15,
        schedule_delay_millis=60_000,
    )


def make_provider(sampler: Sampler | None = None) -> TracerProvider:
    provider = TracerProvider(sampler=sampler)
    provider.add_span_processor(batch_exporter())
    return provider


bare_provider = make_provider()
bare = bare_provider.get_tracer("bench")
# botanu as an app gets it from `enable()`: the provider botanu creates, same exporter
botanu.enable(exporter="none")
botanu_provider = trace.get_tracer_provider()
assert isinstance(botanu_provider, TracerProvider)
botanu_provider.add_span_processor(batch_exporter())
on_botanu = botanu_provider.get_tracer("bench")
# and as a library added to a provider the host built (one more processor in its list)
host_provider = make_provider()
host_provider.add_span_processor(RunContextEnricher())
on_host = host_provider.get_tracer("bench")

RUN_ATTRIBUTES = {
    "botanu.run_id": "0190d1c3-7b2a-7000-8000-000000000001",
    "botanu.workflow": "support",
    "botanu.event_id": "ticket-1",
    "botanu.customer_id": "acme",
    "botanu.attempt": 1,
}


def bare_run() -> None:
    bare_run_on(bare)


def bare_run_on(tracer: trace.Tracer) -> None:
    bare = tracer
    ctx = context.get_current()
    bag = {k: str(v) for k, v in RUN_ATTRIBUTES.items() if k != "botanu.attempt"}
    for key, value in bag.items():
        ctx = baggage.set_baggage(key, value, ctx)
    root = bare.start_span("botanu.run/support", context=ctx, attributes=RUN_ATTRIBUTES)
    token = context.attach(trace.set_span_in_context(root, ctx))
    try:
        llm = bare.start_span(
            "chat gpt-4o",
            kind=trace.SpanKind.CLIENT,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
            },
        )
        llm_token = context.attach(trace.set_span_in_context(llm))
        llm.set_attributes(
            {
                "gen_ai.usage.input_tokens": 120,
                "gen_ai.usage.output_tokens": 40,
                "gen_ai.response.id": "resp-1",
            }
        )
        context.detach(llm_token)
        llm.end()
        root.set_attributes(
            {
                "botanu.outcome.status": "success",
                "botanu.outcome.value_type": "tickets_resolved",
                "botanu.outcome.value_amount": 1.0,
            }
        )
        root.add_event("botanu.outcome_emitted", {"status": "success"})
    finally:
        context.detach(token)
        root.end()


@botanu_workflow("support", event_id="ticket-1", customer_id="acme")
def botanu_run() -> None:
    with track_llm_call(provider="openai", model="gpt-4o") as tracker:
        tracker.set_tokens(input_tokens=120, output_tokens=40)
        tracker.set_request_id(provider_request_id="resp-1")
    emit_outcome("success", value_type="tickets_resolved", value_amount=1)


def bare_child() -> None:
    bare.start_span("child").end()


def botanu_child() -> None:
    on_botanu.start_span("child").end()


def host_child() -> None:
    on_host.start_span("child").end()


HTTP_ATTRIBUTES = {
    "http.request.method": "POST",
    "url.full": "https://api.example.com/v1/orders",
    "server.address": "api.example.com",
    "server.port": 443,
}
GENAI_ATTRIBUTES = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "anthropic",
    "gen_ai.request.model": "claude-haiku-4-5",
}
GENAI_USAGE = {
    "gen_ai.usage.input_tokens": 1525,
    "gen_ai.usage.output_tokens": 40,
    "gen_ai.usage.cache_read.input_tokens": 0,
    "gen_ai.usage.cache_write.input_tokens": 1500,
}
# instrumentors' tracers: the spans they make, from the provider botanu hands them
bare_http = bare_provider.get_tracer("opentelemetry.instrumentation.httpx")
bare_genai = bare_provider.get_tracer("com.anthropic.sdk.python")
botanu_http = botanu_provider.get_tracer("opentelemetry.instrumentation.httpx")
botanu_genai = botanu_provider.get_tracer("com.anthropic.sdk.python")


def instrumentor_span(tracer: trace.Tracer, attributes: dict[str, object], usage: dict) -> None:
    span = tracer.start_span("POST", kind=trace.SpanKind.CLIENT, attributes=attributes)
    if usage:
        span.set_attributes(usage)
    span.end()


def bare_http_span() -> None:
    instrumentor_span(bare_http, HTTP_ATTRIBUTES, {})


def botanu_http_span() -> None:
    instrumentor_span(botanu_http, HTTP_ATTRIBUTES, {})


def bare_genai_span() -> None:
    instrumentor_span(bare_genai, GENAI_ATTRIBUTES, GENAI_USAGE)


def botanu_genai_span() -> None:
    instrumentor_span(botanu_genai, GENAI_ATTRIBUTES, GENAI_USAGE)


def time_batch(func: Callable[[], None], n: int) -> float:
    # the collector runs between batches, not at a random point inside one side's batch
    # (the young generation only: a full pass over the exporters' queues costs too much)
    gc.collect(0)
    gc.disable()
    try:
        start = time.perf_counter_ns()
        for _ in range(n):
            func()
        return (time.perf_counter_ns() - start) / n / 1000
    finally:
        gc.enable()


def compare(
    name: str,
    *,
    baseline: Callable[[], None],
    candidate: Callable[[], None],
    n: int,
    rounds: int,
    around: Callable[[Callable[[], float]], float] | None = None,
) -> tuple[float, float]:
    def one(func: Callable[[], None]) -> float:
        if around is None:
            return time_batch(func, n)
        return around(lambda: time_batch(func, n))

    one(baseline), one(candidate)  # warm up
    base_times, cand_times, ratios = [], [], []
    for i in range(rounds):
        # adjacent pairs in alternating order (ABBA): drift and order effects cancel
        if i % 2:
            cand, base = one(candidate), one(baseline)
        else:
            base, cand = one(baseline), one(candidate)
        base_times.append(base)
        cand_times.append(cand)
        ratios.append(cand / base)
    base, cand = statistics.median(base_times), statistics.median(cand_times)
    ratio = statistics.median(ratios)
    target = TARGETS.get(name)
    if target is None:
        verdict = "(no target)"
    else:
        verdict = f"(target <= {target:.2f}) " + ("ok" if ratio <= target else "OVER TARGET")
    print(f"{name:<12} bare {base:7.2f} us  botanu {cand:7.2f} us  ratio {ratio:.3f}  {verdict}")
    return base, cand


def inside_run(measure: Callable[[], float]) -> float:
    # both sides time their child span inside one open run, as an app would
    with botanu.run_botanu("support", event_id="ticket-1", customer_id="acme"):
        return measure()


def import_ms(module: str, repeat: int) -> float:
    # both sides from bytecode, as after a regular install (an editable one has none yet)
    src = pathlib.Path(botanu.__file__).parent
    compileall.compile_dir(str(src), quiet=1)
    best = float("inf")
    for _ in range(repeat):
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                f"import time; t=time.perf_counter(); import {module}; "
                "print((time.perf_counter()-t)*1000)",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        best = min(best, float(out.stdout))
    return best


def memory_growth(runs: int) -> float:
    for _ in range(2000):
        botanu_run()
    botanu_provider.force_flush()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(runs):
        botanu_run()
        if i % 10_000 == 0:
            botanu_provider.force_flush()
    botanu_provider.force_flush()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer rounds, for a smoke run")
    args = parser.parse_args()
    n, rounds = (200, 10) if args.quick else (500, 201)
    # single spans differ by a few percent at most: they get five times the rounds
    span_rounds = rounds if args.quick else rounds * 5
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # no core migrations
    print(f"python {sys.version.split()[0]}, {n} calls per batch, paired rounds in ABBA order")
    compare("run", baseline=bare_run, candidate=botanu_run, n=n, rounds=rounds)
    compare(
        "child",
        baseline=bare_child,
        candidate=botanu_child,
        n=n,
        rounds=span_rounds,
        around=inside_run,
    )
    compare("outside", baseline=bare_child, candidate=botanu_child, n=n, rounds=span_rounds)
    compare(
        "outside-host",
        baseline=bare_child,
        candidate=host_child,
        n=n,
        rounds=span_rounds,
    )
    # as an app with auto-instrumentation has it: the instrumentors' spans go through
    # botanu's enricher and its usage completer (no target of their own: compare "child")
    botanu.disable()
    botanu.enable(exporter="none", auto_instrument=["openai", "anthropic", "httpx"])
    compare(
        "auto-http",
        baseline=bare_http_span,
        candidate=botanu_http_span,
        n=n,
        rounds=span_rounds,
        around=inside_run,
    )
    compare(
        "auto-genai",
        baseline=bare_genai_span,
        candidate=botanu_genai_span,
        n=n,
        rounds=span_rounds,
        around=inside_run,
    )
    # the application samples at 0.1: bare OpenTelemetry records one run in ten, botanu
    # records every run for cost (its exporter gets them all; the application's exporter
    # the sampled tenth, as bare). No target: what cost at 100% costs per run.
    botanu.disable()
    sampler = ParentBased(TraceIdRatioBased(0.1))
    bare_sampled = make_provider(sampler).get_tracer("bench")
    host_sampled = make_provider(sampler)
    botanu.enable(exporter="none", tracer_provider=host_sampled)
    recording_runs(host_sampled)  # what enable() does when it installs botanu's exporter
    host_sampled.add_span_processor(
        recorded_span_batcher(
            DiscardExporter(),
            max_queue_size=1 << 17,
            max_export_batch_size=1 << 15,
            schedule_delay_millis=60_000,
        )
    )
    compare(
        "run-sampled",
        baseline=lambda: bare_run_on(bare_sampled),
        candidate=botanu_run,
        n=n,
        rounds=rounds,
    )
    botanu.disable()
    botanu.enable(exporter="none")  # the plain set-up again, for the memory figure
    otel = import_ms("opentelemetry.sdk.trace", 3 if args.quick else 9)
    ours = import_ms("botanu", 3 if args.quick else 9)
    verdict = "ok" if ours <= otel + 10 else "OVER TARGET"
    print(
        f"import   opentelemetry.sdk.trace {otel:6.1f} ms  botanu {ours:6.1f} ms  "
        f"difference {ours - otel:+.1f} ms  (target <= +10 ms) {verdict}"
    )
    runs = 10_000 if args.quick else 100_000
    growth = memory_growth(runs)
    print(f"memory   {growth:+.1f} KiB retained after {runs} runs (target: no growth)")


if __name__ == "__main__":
    main()
