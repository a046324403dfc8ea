"""Message headers carry the run from a producer to a consumer: `run_headers` /
`inject_run_headers` on one side, `continue_run` / `extract_run_context` on the other."""

from __future__ import annotations

import asyncio
import json

import pytest
from opentelemetry import trace

from botanu import (
    RunContext,
    emit_outcome,
    get_current_run_context,
    run_botanu,
    semconv,
)
from botanu.integrations.messaging import (
    continue_run,
    extract_run_context,
    inject_run_headers,
    run_headers,
)

tracer = trace.get_tracer("tests.messaging")


def attrs(span):
    return dict(span.attributes or {})


def publish(payload: dict) -> bytes:
    """A producer inside a run: the headers travel with the message (here as JSON)."""
    return json.dumps({"headers": run_headers(), "payload": payload}).encode()


def test_a_consumer_continues_the_producers_run(spans):
    with run_botanu("fulfill-order", event_id="order-1", customer_id="acme") as producer:
        message = json.loads(publish({"sku": "x"}))
        producer_trace = trace.get_current_span().get_span_context().trace_id
    assert set(message["headers"]) >= {"traceparent", "baggage"}
    spans.clear()

    with continue_run(message["headers"], destination="orders", message_id="m-1") as run:
        assert run == get_current_run_context()
        with tracer.start_as_current_span("ship"):
            pass
        emit_outcome("success", value_type="orders_shipped", value_amount=1)
    assert run.run_id == producer.run_id
    assert (run.event_id, run.customer_id) == ("order-1", "acme")

    (process,) = spans.named("process orders")
    (ship,) = spans.named("ship")
    assert process.kind is trace.SpanKind.CONSUMER
    assert process.context.trace_id == producer_trace  # the producer's trace goes on
    assert ship.parent.span_id == process.context.span_id
    for span in (process, ship):
        assert attrs(span)[semconv.RUN_ID] == producer.run_id
        assert attrs(span)[semconv.EVENT_ID] == "order-1"
        assert attrs(span)[semconv.CUSTOMER_ID] == "acme"
    a = attrs(process)
    assert a[semconv.MESSAGING_OPERATION_TYPE] == "process"
    assert a[semconv.MESSAGING_DESTINATION_NAME] == "orders"
    assert a[semconv.MESSAGING_MESSAGE_ID] == "m-1"
    # a process span is no broker call: it must never be priced as one
    assert semconv.MESSAGING_SYSTEM not in a
    assert a[semconv.OUTCOME_STATUS] == "success"
    assert get_current_run_context() is None
    assert spans.run_spans() == []  # the producer owns the run span


def test_a_message_published_outside_a_run_yields_none_and_changes_nothing(spans):
    headers = run_headers()
    assert headers == {}
    with continue_run(headers, destination="orders") as run:
        assert run is None
        assert get_current_run_context() is None
    with continue_run(None) as run:
        assert run is None
    assert spans.spans == ()
    assert extract_run_context({"unrelated": "header"}) is None


def test_a_message_without_a_run_can_open_a_new_one(spans):
    with continue_run({}, workflow="nightly-import", event_id="batch-7", customer_id="acme") as run:
        assert get_current_run_context() == run
    a = attrs(spans.run_span("nightly-import"))
    assert (a[semconv.RUN_ID], a[semconv.EVENT_ID]) == (run.run_id, "batch-7")
    assert a[semconv.OUTCOME_STATUS] == "success"


def test_a_message_with_a_run_continues_it_even_when_a_workflow_is_given(spans):
    with run_botanu("fulfill-order", event_id="order-1") as producer:
        headers = run_headers()
    spans.clear()
    with continue_run(headers, workflow="nightly-import") as run:
        pass
    assert run.run_id == producer.run_id
    assert spans.run_spans() == []


def test_an_exception_passes_through_and_marks_the_processing_span(spans):
    with run_botanu("fulfill-order", event_id="order-1"):
        headers = run_headers()
    spans.clear()
    err = ValueError("bad payload")
    with (
        pytest.raises(ValueError, match="bad payload") as info,
        continue_run(headers, destination="orders"),
    ):
        raise err
    assert info.value is err
    (process,) = spans.named("process orders")
    assert process.status.status_code is trace.StatusCode.ERROR
    assert [e.name for e in process.events] == ["exception"]
    assert semconv.OUTCOME_STATUS not in attrs(process)  # the run's owner decides
    assert get_current_run_context() is None


def test_a_new_run_for_a_message_fails_on_an_exception(spans):
    with pytest.raises(TimeoutError), continue_run({}, workflow="import"):
        raise TimeoutError
    assert attrs(spans.run_span("import"))[semconv.OUTCOME_STATUS] == "timeout"


def test_the_seeds_flat_baggage_dict_is_understood(spans):
    with run_botanu("fulfill-order", event_id="order-1", customer_id="acme") as producer:
        ctx = get_current_run_context()
        message = {"payload": {}, "baggage": ctx.to_baggage_dict() if ctx else {}}
    spans.clear()
    with continue_run(message["baggage"]) as run:
        with tracer.start_as_current_span("work"):
            pass
    assert run.run_id == producer.run_id
    assert attrs(spans.named("work")[0])[semconv.RUN_ID] == producer.run_id


def test_kafka_style_header_pairs_with_bytes_values(spans):
    with run_botanu("fulfill-order", event_id="order-1") as producer:
        pairs = [(k, v.encode()) for k, v in run_headers().items()]
    pairs.append(("binary", b"\xff\xfe"))
    assert extract_run_context(pairs) == RunContext.from_baggage(producer.to_baggage_dict())


def test_inject_writes_into_an_existing_dict_and_keeps_other_headers(spans):
    headers = {"content-type": "application/json"}
    with run_botanu("fulfill-order", event_id="order-1") as producer:
        assert inject_run_headers(headers) is headers
    assert headers["content-type"] == "application/json"
    assert extract_run_context(headers).run_id == producer.run_id


def test_hostile_headers_are_dropped_without_an_error(spans):
    hostile = {
        "baggage": "botanu.run_id=" + "x" * 5000 + ",botanu.workflow=%ZZ",
        "traceparent": "garbage",
        "botanu.run_id": "\x00",
        "botanu.workflow": 12,
    }
    assert extract_run_context(hostile) is None
    with continue_run(hostile) as run:
        assert run is None
    assert extract_run_context([("only-a-key",), "junk", (1, 2)]) is None  # type: ignore[list-item]


def test_a_messaging_instrumentations_span_is_adopted(spans):
    with run_botanu("fulfill-order", event_id="order-1") as producer:
        headers = run_headers()
    spans.clear()
    with tracer.start_as_current_span("kafka receive", kind=trace.SpanKind.CONSUMER) as own:
        with continue_run(headers, destination="orders") as run:
            assert trace.get_current_span() is own
            emit_outcome("partial", reason="two of three")
    assert run.run_id == producer.run_id
    assert [s.name for s in spans.spans] == ["kafka receive"]
    assert attrs(spans.spans[0])[semconv.OUTCOME_STATUS] == "partial"


def test_async_consumers_use_async_with(spans):
    with run_botanu("fulfill-order", event_id="order-1") as producer:
        headers = run_headers()
    spans.clear()

    async def consume() -> str | None:
        async with continue_run(headers, destination="orders"):
            await asyncio.sleep(0)
            run = get_current_run_context()
            return run.run_id if run else None

    assert asyncio.run(consume()) == producer.run_id
    assert len(spans.named("process orders")) == 1


def test_inside_an_unrelated_span_the_processing_span_is_its_child(spans):
    with run_botanu("fulfill-order", event_id="order-1") as producer:
        headers = run_headers()
    spans.clear()
    with tracer.start_as_current_span("batch loop") as loop, continue_run(headers) as run:
        with tracer.start_as_current_span("handle"):
            pass
    (process,) = spans.named("process")
    assert process.parent.span_id == loop.get_span_context().span_id
    assert attrs(spans.named("handle")[0])[semconv.RUN_ID] == run.run_id == producer.run_id
    assert semconv.RUN_ID not in attrs(spans.named("batch loop")[0])
