"""Continuing a run elsewhere: as_current() for consumers and workers, and inbound W3C
baggage headers of any shape."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry import baggage, propagate, trace

from botanu import RunContext, emit_outcome, get_current_run_context, run_botanu, semconv
from botanu.sdk.context import get_run_context_from_baggage

tracer = trace.get_tracer("tests")


def attrs(span):
    return dict(span.attributes or {})


def test_as_current_continues_a_run_without_a_run_span_or_automatic_outcome(spans):
    with run_botanu("producer", event_id="order-1", customer_id="acme") as producer:
        message = {"payload": 1, "baggage": producer.to_baggage_dict()}
    spans.clear()
    ctx = RunContext.from_baggage(message["baggage"])
    assert ctx is not None
    with ctx.as_current() as run:
        assert get_current_run_context() is run
        assert baggage.get_baggage(semconv.RUN_ID) == producer.run_id
        with tracer.start_as_current_span("consume") as span:
            emit_outcome("success", value_type="orders_fulfilled", value_amount=1)
            assert span.is_recording()
    assert get_current_run_context() is None
    assert spans.run_spans() == []
    (consume,) = spans.named("consume")
    a = attrs(consume)
    assert a[semconv.RUN_ID] == producer.run_id
    assert a[semconv.OUTCOME_STATUS] == "success"


def test_as_current_with_async_with(spans):
    run = RunContext.create("worker", event_id="e")

    async def work():
        async with run.as_current():
            await asyncio.sleep(0)
            return get_current_run_context()

    assert asyncio.run(work()) is run


def test_run_from_current_baggage():
    with run_botanu("flow", event_id="e", customer_id="c") as run:
        seen = get_run_context_from_baggage()
    assert seen is not None
    assert (seen.run_id, seen.workflow, seen.customer_id) == (run.run_id, "flow", "c")
    assert get_run_context_from_baggage() is None


@settings(max_examples=300)
@given(st.text(max_size=300), st.text(max_size=300), st.text(max_size=100))
def test_any_baggage_header_is_survived(run_id, workflow, noise):
    header = f"botanu.run_id={run_id},botanu.workflow={workflow}{noise}"
    ctx = propagate.extract({"baggage": header, "traceparent": noise})
    run = RunContext.from_baggage(baggage.get_all(ctx))
    if run is not None:
        assert run.run_id.isprintable()
        assert len(run.run_id.encode()) <= 256


@settings(max_examples=200)
@given(st.lists(st.tuples(st.sampled_from(semconv.FULL_KEYS), st.text(max_size=400)), max_size=20))
def test_our_keys_with_any_values_are_survived(entries):
    run = RunContext.from_baggage(dict(entries))
    if run is not None:
        for value in (run.run_id, run.workflow, run.event_id, run.customer_id):
            assert value is None or (value.isprintable() and len(value.encode()) <= 256)
        assert 1 <= run.attempt <= 10_000


def test_outcome_in_a_continued_run_goes_on_the_span_it_was_continued_under(spans):
    from botanu import track_llm_call

    run = RunContext.create("worker", event_id="e")
    with tracer.start_as_current_span("process message"), run.as_current():
        with track_llm_call(provider="openai", model="gpt-4o"):
            emit_outcome("success", value_type="messages", value_amount=1)
    (process,) = spans.named("process message")
    (llm,) = spans.named("chat gpt-4o")
    assert attrs(process)[semconv.OUTCOME_STATUS] == "success"
    assert semconv.OUTCOME_STATUS not in attrs(llm)
