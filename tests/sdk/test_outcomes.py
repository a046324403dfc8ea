"""emit_outcome and set_business_context: written on the run span, one outcome per run,
the automatic rules, and misuse as a clear warning."""

from __future__ import annotations

from decimal import Decimal

import pytest
from opentelemetry import trace

from botanu import (
    BotanuWarning,
    RunStatus,
    botanu_workflow,
    emit_outcome,
    run_botanu,
    semconv,
    set_business_context,
    track_llm_call,
)

tracer = trace.get_tracer("tests")


def attrs(span):
    return dict(span.attributes or {})


def test_outcome_goes_on_the_run_span_even_inside_a_tracker(spans):
    @botanu_workflow("classify", event_id="e", customer_id="c")
    def classify():
        with track_llm_call(provider="openai", model="gpt-4o"), tracer.start_as_current_span("x"):
            emit_outcome(
                "success",
                value_type="classifications_completed",
                value_amount=1,
                confidence=0.92,
                metadata={"batch_id": "abc-123", "retry_count": 2, "ratio": Decimal("0.5")},
            )

    classify()
    run = spans.run_span("classify")
    a = attrs(run)
    assert a[semconv.OUTCOME_STATUS] == "success"
    assert a[semconv.OUTCOME_SOURCE] == "sdk"
    assert a[semconv.OUTCOME_VALUE_TYPE] == "classifications_completed"
    assert a[semconv.OUTCOME_VALUE_AMOUNT] == 1.0
    assert a[semconv.OUTCOME_CONFIDENCE] == 0.92
    assert a["botanu.outcome.metadata.batch_id"] == "abc-123"
    assert a["botanu.outcome.metadata.retry_count"] == 2
    assert a["botanu.outcome.metadata.ratio"] == "0.5"
    (event,) = run.events
    assert event.name == semconv.OUTCOME_EVENT
    assert dict(event.attributes) == {
        "status": "success",
        "value_type": "classifications_completed",
        "value_amount": 1.0,
    }
    for other in spans.spans:
        if other is not run:
            assert semconv.OUTCOME_STATUS not in attrs(other)


@pytest.mark.parametrize("status", [s.value for s in RunStatus])
def test_all_six_statuses_are_accepted(spans, status):
    with run_botanu("s", event_id="e", customer_id="c"):
        emit_outcome(status, reason="r", error_type="E")
    a = attrs(spans.run_span("s"))
    assert (a[semconv.OUTCOME_STATUS], a[semconv.OUTCOME_REASON]) == (status, "r")
    assert a[semconv.OUTCOME_ERROR_TYPE] == "E"


def test_enum_status_is_accepted(spans):
    with run_botanu("s", event_id="e", customer_id="c"):
        emit_outcome(RunStatus.PARTIAL, value_amount=3)
    assert attrs(spans.run_span("s"))[semconv.OUTCOME_STATUS] == "partial"


def test_explicit_failure_survives_the_exception_and_is_recorded_once(spans):
    @botanu_workflow("process", event_id="e", customer_id="c")
    def process():
        try:
            raise LookupError("missing")
        except LookupError:
            emit_outcome("failed", reason="validation_error")
            raise

    with pytest.raises(LookupError):
        process()
    run = spans.run_span("process")
    a = attrs(run)
    assert (a[semconv.OUTCOME_STATUS], a[semconv.OUTCOME_REASON]) == ("failed", "validation_error")
    assert a[semconv.OUTCOME_SOURCE] == "sdk"
    assert semconv.OUTCOME_ERROR_TYPE not in a
    assert [e.name for e in run.events].count("exception") == 1
    assert [e.name for e in run.events].count(semconv.OUTCOME_EVENT) == 1
    assert run.status.status_code is trace.StatusCode.ERROR


def test_automatic_failure_names_the_exception(spans):
    class RateLimitError(Exception):
        pass

    @botanu_workflow("auto-fail", event_id="e", customer_id="c")
    def work():
        raise RateLimitError("slow down")

    with pytest.raises(RateLimitError):
        work()
    a = attrs(spans.run_span("auto-fail"))
    assert a[semconv.OUTCOME_STATUS] == "failed"
    assert a[semconv.OUTCOME_REASON] == "RateLimitError"
    assert a[semconv.OUTCOME_ERROR_TYPE] == "RateLimitError"
    assert a[semconv.OUTCOME_SOURCE] == "auto"


def test_auto_success_can_be_turned_off(spans):
    @botanu_workflow("manual", event_id="e", customer_id="c", auto_outcome_on_success=False)
    def work():
        return 1

    work()
    run = spans.run_span("manual")
    assert semconv.OUTCOME_STATUS not in attrs(run)
    assert run.events == ()


def test_second_outcome_is_a_warning_and_the_first_stands(spans):
    with run_botanu("twice", event_id="e", customer_id="c"):
        emit_outcome("success", value_type="items", value_amount=1)
        with pytest.warns(BotanuWarning, match="one outcome per run"):
            emit_outcome("failed", reason="late")
    a = attrs(spans.run_span("twice"))
    assert a[semconv.OUTCOME_STATUS] == "success"
    assert semconv.OUTCOME_REASON not in a


def test_unknown_status_is_a_warning_that_lists_the_valid_ones(spans):
    with run_botanu("typo", event_id="e", customer_id="c"):
        with pytest.warns(BotanuWarning, match="success, partial, failed") as record:
            emit_outcome("succes")
    assert record[0].filename == __file__  # points at the caller's line
    assert attrs(spans.run_span("typo"))[semconv.OUTCOME_STATUS] == "success"  # automatic


def test_outcome_outside_a_run_is_a_warning(spans):
    with pytest.warns(BotanuWarning, match="outside a run"):
        emit_outcome("success")
    assert spans.spans == ()


@pytest.mark.parametrize(
    ("kwargs", "left_out"),
    [
        ({"confidence": 1.5}, semconv.OUTCOME_CONFIDENCE),
        ({"confidence": "high"}, semconv.OUTCOME_CONFIDENCE),
        ({"value_amount": "ten"}, semconv.OUTCOME_VALUE_AMOUNT),
        ({"value_amount": True}, semconv.OUTCOME_VALUE_AMOUNT),
        ({"value_type": ["a"]}, semconv.OUTCOME_VALUE_TYPE),
    ],
)
def test_bad_values_are_warned_and_left_out(spans, kwargs, left_out):
    with run_botanu("bad", event_id="e", customer_id="c"), pytest.warns(BotanuWarning):
        emit_outcome("success", **kwargs)
    a = attrs(spans.run_span("bad"))
    assert a[semconv.OUTCOME_STATUS] == "success"
    assert left_out not in a


def test_business_context_reaches_the_run_and_later_spans(spans):
    with run_botanu("ctx", event_id="e", customer_id="c") as run:
        with tracer.start_as_current_span("before"):
            pass
        set_business_context(
            customer_id="acme", team="engineering", cost_center="R&D", region="us-west-2"
        )
        with tracer.start_as_current_span("after"):
            pass
    a = attrs(spans.run_span("ctx"))
    assert a[semconv.TEAM] == "engineering"
    assert a[semconv.COST_CENTER] == "R&D"
    assert a[semconv.REGION] == "us-west-2"
    assert a[semconv.CUSTOMER_ID] == "acme"
    (before,) = spans.named("before")
    (after,) = spans.named("after")
    assert semconv.TEAM not in attrs(before)
    assert attrs(after)[semconv.TEAM] == "engineering"
    assert attrs(after)[semconv.CUSTOMER_ID] == "acme"
    assert attrs(after)[semconv.RUN_ID] == run.run_id


def test_business_context_outside_a_run_is_a_warning(spans):
    with pytest.warns(BotanuWarning, match="outside a run"):
        set_business_context(team="x")
