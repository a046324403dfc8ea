"""Celery tasks continue the run that published them, through message headers.

Broker: Celery's in-memory transport (`memory://`) with the in-memory cache result
backend, served by a real worker — `celery.contrib.testing.worker.start_worker`, the
WorkController of Celery's own test tooling — in a thread of the test process with the
solo pool. Nothing but pip packages is needed, and the worker thread shares no context
with the producer: the run reaches a task only through the message.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from celery import Celery, chain
from celery.contrib.testing.worker import start_worker
from opentelemetry import trace
from opentelemetry.instrumentation.celery import CeleryInstrumentor

from botanu import emit_outcome, get_current_run_context, run_botanu, semconv
from botanu.integrations import celery as botanu_celery

from .conftest import wait_until

pytestmark = pytest.mark.slow  # a real Celery worker

RESULT_TIMEOUT = 30
tracer = trace.get_tracer("tests.celery")

app = Celery("botanu_tests", broker="memory://", backend="cache+memory://")
app.conf.update(
    worker_hijack_root_logger=False,
    task_default_queue="botanu-tests",
    broker_transport_options={"polling_interval": 0.01},  # the memory transport polls
)
botanu_celery.instrument(app)


def seen() -> list[str | None]:
    run = get_current_run_context()
    return [run.run_id, run.event_id, run.customer_id] if run else [None, None, None]


@app.task(bind=True)
def reserve(self, sku: str) -> dict:
    with tracer.start_as_current_span("reserve stock"):
        pass
    if sku == "rare":
        emit_outcome("partial", value_type="items_reserved", value_amount=0, reason="no stock")
    return {"seen": seen(), "task_id_known": self.request.id is not None}


@app.task
def fail() -> None:
    raise ValueError("warehouse offline")


@app.task(bind=True, max_retries=1)
def flaky(self) -> list[str | None]:
    if self.request.retries == 0:
        raise self.retry(countdown=0)
    return seen()


@app.task
def ship(previous: dict) -> list[str | None]:
    return seen()


@pytest.fixture(scope="module")
def worker() -> Iterator[None]:
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        yield
    botanu_celery.uninstrument(app)


def attrs(span):
    return dict(span.attributes or {})


def finished(spans, name: str, count: int = 1):
    return wait_until(lambda: len(spans.named(name)) >= count and spans.named(name), name)


def test_a_task_published_in_a_run_continues_it(spans, worker):
    with run_botanu("fulfill-order", event_id="order-1", customer_id="acme") as run:
        result = reserve.delay("sku-1")
    answer = result.get(timeout=RESULT_TIMEOUT)
    assert answer == {"seen": [run.run_id, "order-1", "acme"], "task_id_known": True}
    (process,) = finished(spans, f"process {reserve.name}")
    (inner,) = finished(spans, "reserve stock")
    assert process.kind is trace.SpanKind.CONSUMER
    assert inner.parent.span_id == process.context.span_id
    run_span = spans.run_span("fulfill-order")
    assert process.context.trace_id == run_span.context.trace_id
    for span in (process, inner):
        assert attrs(span)[semconv.RUN_ID] == run.run_id
        assert attrs(span)[semconv.CUSTOMER_ID] == "acme"
    assert attrs(process)[semconv.MESSAGING_MESSAGE_ID] == result.id
    assert attrs(process)[semconv.MESSAGING_DESTINATION_NAME] == reserve.name


def test_an_outcome_emitted_in_a_task_is_recorded_on_its_processing_span(spans, worker):
    with run_botanu("fulfill-order", event_id="order-2"):
        result = reserve.delay("rare")
    result.get(timeout=RESULT_TIMEOUT)
    (process,) = finished(spans, f"process {reserve.name}")
    assert attrs(process)[semconv.OUTCOME_STATUS] == "partial"
    assert attrs(process)[semconv.OUTCOME_REASON] == "no stock"
    # the publisher's run keeps its own automatic outcome
    assert attrs(spans.run_span("fulfill-order"))[semconv.OUTCOME_STATUS] == "success"


def test_a_task_published_outside_a_run_runs_outside_one(spans, worker):
    answer = reserve.delay("sku-1").get(timeout=RESULT_TIMEOUT)
    assert answer["seen"] == [None, None, None]
    finished(spans, "reserve stock")
    assert spans.named(f"process {reserve.name}") == []
    assert all(semconv.RUN_ID not in attrs(s) for s in spans.spans)


def test_a_failing_task_marks_its_span_and_the_error_reaches_the_caller(spans, worker):
    with run_botanu("fulfill-order", event_id="order-3") as run:
        result = fail.delay()
    with pytest.raises(ValueError, match="warehouse offline"):
        result.get(timeout=RESULT_TIMEOUT)
    (process,) = finished(spans, f"process {fail.name}")
    assert attrs(process)[semconv.RUN_ID] == run.run_id
    assert process.status.status_code is trace.StatusCode.ERROR


def test_a_celery_retry_stays_in_the_run_and_is_not_a_failure(spans, worker):
    with run_botanu("fulfill-order", event_id="order-4") as run:
        result = flaky.delay()
    assert result.get(timeout=RESULT_TIMEOUT) == [run.run_id, "order-4", None]
    processed = finished(spans, f"process {flaky.name}", count=2)
    assert {attrs(s)[semconv.RUN_ID] for s in processed} == {run.run_id}
    assert all(s.status.status_code is not trace.StatusCode.ERROR for s in processed)


def test_a_chain_carries_the_run_to_its_next_step(spans, worker):
    with run_botanu("fulfill-order", event_id="order-5", customer_id="acme") as run:
        result = chain(reserve.s("sku-1"), ship.s()).delay()
    assert result.get(timeout=RESULT_TIMEOUT) == [run.run_id, "order-5", "acme"]
    (shipped,) = finished(spans, f"process {ship.name}")
    assert attrs(shipped)[semconv.RUN_ID] == run.run_id


def test_opentelemetrys_celery_instrumentation_span_is_shared(spans, worker):
    """With OpenTelemetry's CeleryInstrumentor on as well (instrumented after botanu),
    its task span is the run's processing span: no second span, outcome on it."""
    provider = trace.get_tracer_provider()
    CeleryInstrumentor().instrument(tracer_provider=provider)
    try:
        with run_botanu("fulfill-order", event_id="order-6") as run:
            result = reserve.delay("rare")
        assert result.get(timeout=RESULT_TIMEOUT)["seen"][0] == run.run_id
        (task_span,) = finished(spans, f"run/{reserve.name}")
    finally:
        CeleryInstrumentor().uninstrument()
    assert spans.named(f"process {reserve.name}") == []
    assert attrs(task_span)[semconv.RUN_ID] == run.run_id
    assert attrs(task_span)[semconv.OUTCOME_STATUS] == "partial"
    (inner,) = spans.named("reserve stock")
    assert attrs(inner)[semconv.RUN_ID] == run.run_id
