"""The enricher: every span inside a run carries its identity, whatever made the span;
nothing is overwritten; lean and full modes decide what is stamped."""

from __future__ import annotations

from opentelemetry import baggage, context, trace

from botanu import RunContext, RunContextEnricher, run_botanu, semconv
from botanu.sdk import _runtime

tracer = trace.get_tracer("some.instrumentation")


def attrs(span):
    return dict(span.attributes or {})


def test_spans_from_any_tracer_inside_a_run_are_stamped_with_the_lean_keys(spans):
    with run_botanu("support", event_id="t-1", customer_id="acme", tenant_id="t") as run:
        with tracer.start_as_current_span("db query"), tracer.start_as_current_span("nested"):
            pass
    for name in ("db query", "nested"):
        (span,) = spans.named(name)
        a = attrs(span)
        assert a[semconv.RUN_ID] == run.run_id
        assert a[semconv.WORKFLOW] == "support"
        assert a[semconv.EVENT_ID] == "t-1"
        assert a[semconv.CUSTOMER_ID] == "acme"
        assert semconv.TENANT_ID not in a  # lean mode stamps the four keys


def test_full_mode_stamps_everything(spans, monkeypatch):
    monkeypatch.setattr(_runtime.state, "lean", False)
    with run_botanu("support", event_id="t-1", customer_id="acme", tenant_id="t"):
        assert baggage.get_baggage(semconv.TENANT_ID) == "t"
        with tracer.start_as_current_span("child"):
            pass
    (child,) = spans.named("child")
    assert attrs(child)[semconv.TENANT_ID] == "t"
    assert attrs(child)[semconv.ATTEMPT] == 1


def test_existing_attributes_are_never_overwritten(spans):
    with run_botanu("support", event_id="t-1", customer_id="acme"):
        with tracer.start_as_current_span("mine", attributes={semconv.CUSTOMER_ID: "other"}):
            pass
    (span,) = spans.named("mine")
    assert attrs(span)[semconv.CUSTOMER_ID] == "other"
    assert attrs(span)[semconv.WORKFLOW] == "support"


def test_spans_outside_runs_are_untouched(spans):
    with tracer.start_as_current_span("plain"):
        pass
    (span,) = spans.named("plain")
    assert not any(k.startswith("botanu.") for k in attrs(span))


def test_a_run_arriving_only_as_baggage_is_stamped_after_validation(spans):
    remote = RunContext.create("remote-flow", event_id="e-9", customer_id="acme")
    ctx = context.get_current()
    for key, value in remote.to_baggage_dict(lean_mode=True).items():
        ctx = baggage.set_baggage(key, value, ctx)
    ctx = baggage.set_baggage(semconv.CUSTOMER_ID, "bad\nvalue", ctx)
    token = context.attach(ctx)
    try:
        with tracer.start_as_current_span("downstream"):
            pass
    finally:
        context.detach(token)
    (span,) = spans.named("downstream")
    a = attrs(span)
    assert a[semconv.RUN_ID] == remote.run_id
    assert a[semconv.WORKFLOW] == "remote-flow"
    assert semconv.CUSTOMER_ID not in a  # the malformed entry was dropped


def test_span_limits_fall_back_to_the_public_api():
    from opentelemetry.sdk.trace import SpanLimits, TracerProvider

    provider = TracerProvider(span_limits=SpanLimits(max_span_attribute_length=4))
    enricher = RunContextEnricher()
    provider.add_span_processor(enricher)
    with run_botanu("support", event_id="long-event-id", customer_id="c"):
        span = provider.get_tracer("t").start_span("limited")
    assert dict(span.attributes)[semconv.EVENT_ID] == "long"  # the SDK's truncation applied
    span.end()


def test_disabled_enricher_stamps_nothing():
    from opentelemetry.sdk.trace import TracerProvider

    provider = TracerProvider()
    enricher = RunContextEnricher()
    provider.add_span_processor(enricher)
    enricher.shutdown()
    with run_botanu("support", event_id="e", customer_id="c"):
        span = provider.get_tracer("t").start_span("after-shutdown")
    assert semconv.RUN_ID not in dict(span.attributes or {})
    span.end()
