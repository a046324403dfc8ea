"""Every Python example of the Outcomes seed (docs/outcomes.md), run as written.

Each example body is copied verbatim. What the seed leaves undefined is a small local
fake defined just before the example: the objects its decorator arguments read at
decoration time (`request`, `customer`, `order`, ...), and the helpers its body awaits
(`do_work`, `process`, `do_something`). One-line `emit_outcome(...)` listings are run
one call per run (they are alternatives; a run takes one outcome), except one test that
runs a listing as one block and checks the one-outcome-per-run warning.
The SQL examples of "Cost-Per-Outcome Analysis" belong to the engine and are not here.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from types import SimpleNamespace

import pytest
from opentelemetry.trace import SpanKind, StatusCode

import botanu
from botanu import (
    BotanuWarning,
    botanu_workflow,
    emit_outcome,
    get_current_run_context,
    run_botanu,
    semconv,
    track_llm_call,
)
from botanu.sdk import span_helpers

UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
SNIPPET_RUN = "seed-snippet"


class RateLimitError(Exception):
    """Stand-in for the provider error the "Failure with Reason" example catches."""


# --- helpers ----------------------------------------------------------------------------------


def attrs(span):
    return dict(span.attributes or {})


def outcome_events(span):
    return [e for e in span.events if e.name == semconv.OUTCOME_EVENT]


def assert_run(span, workflow, *, event_id, customer_id, tenant_id=None):
    """The run span's name and identity attributes; returns its run id."""
    a = attrs(span)
    assert span.name == f"botanu.run/{workflow}"
    assert UUID7.match(a[semconv.RUN_ID]), a[semconv.RUN_ID]
    assert a[semconv.WORKFLOW] == workflow
    assert a[semconv.EVENT_ID] == event_id
    assert a[semconv.CUSTOMER_ID] == customer_id
    if tenant_id is None:
        assert semconv.TENANT_ID not in a
    else:
        assert a[semconv.TENANT_ID] == tenant_id
    assert span.parent is None
    return a[semconv.RUN_ID]


def assert_outcome(
    span,
    status,
    *,
    source="sdk",
    value_type=None,
    value_amount=None,
    confidence=None,
    reason=None,
    error_type=None,
    metadata=None,
):
    """Exactly the given outcome attributes (the others absent) and one outcome event."""
    a = attrs(span)
    assert a[semconv.OUTCOME_STATUS] == status
    assert a[semconv.OUTCOME_SOURCE] == source
    optional = {
        semconv.OUTCOME_VALUE_TYPE: value_type,
        semconv.OUTCOME_VALUE_AMOUNT: value_amount,
        semconv.OUTCOME_CONFIDENCE: confidence,
        semconv.OUTCOME_REASON: reason,
        semconv.OUTCOME_ERROR_TYPE: error_type,
    }
    for key, expected in optional.items():
        if expected is None:
            assert key not in a, key
        else:
            assert a[key] == expected, key
    for key in (semconv.OUTCOME_VALUE_AMOUNT, semconv.OUTCOME_CONFIDENCE):
        if key in a:
            assert type(a[key]) is float, key
    recorded = {
        k.removeprefix(semconv.OUTCOME_METADATA_PREFIX): v
        for k, v in a.items()
        if k.startswith(semconv.OUTCOME_METADATA_PREFIX)
    }
    assert recorded == (metadata or {})
    events = outcome_events(span)
    assert len(events) == 1
    expected_event = {"status": status}
    if value_type is not None:
        expected_event["value_type"] = value_type
    if value_amount is not None:
        expected_event["value_amount"] = value_amount
    assert dict(events[0].attributes) == expected_event


def assert_failed_run_span(span, exc):
    """The exception is on the run span exactly once, and the span is an error."""
    assert span.status.status_code is StatusCode.ERROR
    exceptions = [e for e in span.events if e.name == "exception"]
    assert len(exceptions) == 1
    assert exceptions[0].attributes["exception.type"].endswith(type(exc).__qualname__)


def run_snippet(spans, snippet):
    """Run one seed snippet inside its own run; return the run span."""
    with run_botanu(SNIPPET_RUN, event_id="evt-snippet", customer_id="cust-snippet"):
        snippet()
    return spans.run_span(SNIPPET_RUN)


# --- Basic Usage ------------------------------------------------------------------------------


def test_basic_usage(spans):
    # adaptation: `request` and `customer` are read when the decorator is applied, so they
    # must exist first; these stand-ins carry only the ids the decorator reads
    request = SimpleNamespace(id="req-42")
    customer = SimpleNamespace(id="cust-7")
    seen = {}

    async def do_work():
        # a fake unit of work that makes a model call, to check child spans join the run
        with track_llm_call(provider="openai", model="gpt-4") as tracker:
            tracker.set_tokens(input_tokens=120, output_tokens=30)
        seen["run"] = get_current_run_context()
        return SimpleNamespace(count=3)

    # --- seed example (verbatim) ---
    @botanu_workflow("process-items", event_id=request.id, customer_id=customer.id)
    async def handle_request():
        result = await do_work()

        # Record the business outcome
        emit_outcome("success", value_type="items_processed", value_amount=result.count)

    # --- end of example ---

    assert asyncio.run(handle_request()) is None
    run = spans.run_span("process-items")
    run_id = assert_run(run, "process-items", event_id="req-42", customer_id="cust-7")
    assert_outcome(run, "success", value_type="items_processed", value_amount=3.0)
    assert run.kind is SpanKind.INTERNAL
    assert seen["run"].run_id == run_id

    (llm,) = spans.named("chat gpt-4")
    a = attrs(llm)
    assert llm.parent.span_id == run.context.span_id
    assert a[semconv.RUN_ID] == run_id
    assert a[semconv.WORKFLOW] == "process-items"
    assert a[semconv.EVENT_ID] == "req-42"
    assert a[semconv.CUSTOMER_ID] == "cust-7"
    assert (a[semconv.GEN_AI_USAGE_INPUT_TOKENS], a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS]) == (
        120,
        30,
    )
    assert outcome_events(llm) == []  # the outcome goes on the run span only
    assert {s.name for s in spans.in_run(run_id)} == {"botanu.run/process-items", "chat gpt-4"}


# --- emit_outcome() Parameters ----------------------------------------------------------------


@pytest.mark.parametrize(
    "function", [botanu.emit_outcome, span_helpers.emit_outcome], ids=["botanu", "span_helpers"]
)
def test_emit_outcome_signature_matches_the_seed(spans, function):
    params = inspect.signature(function).parameters
    assert list(params) == [
        "status",
        "value_type",
        "value_amount",
        "confidence",
        "reason",
        "error_type",
        "metadata",
    ]
    assert params["status"].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert params["status"].default is inspect.Parameter.empty
    for name in list(params)[1:]:
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY, name
        assert params[name].default is None, name
    assert spans.spans == ()


@pytest.mark.parametrize(
    "status", ["success", "partial", "failed", "timeout", "canceled", "abandoned"]
)
def test_every_status_of_the_table_is_recorded(spans, status):
    run = run_snippet(spans, lambda: emit_outcome(status))
    assert_outcome(run, status)


def test_unknown_status_is_a_warning_and_not_recorded(spans):
    with pytest.warns(BotanuWarning, match="unknown status"):
        run = run_snippet(spans, lambda: emit_outcome("succeeded"))
    # the unknown status was dropped, so the automatic outcome applies
    assert_outcome(run, "success", source="auto")


# --- value_type / value_amount / confidence / reason / error_type listings -------------------

LISTING_SNIPPETS = [
    # value_type
    pytest.param(
        lambda: emit_outcome("success", value_type="items_processed", value_amount=1),
        {"status": "success", "value_type": "items_processed", "value_amount": 1.0},
        id="value_type-items_processed",
    ),
    pytest.param(
        lambda: emit_outcome("success", value_type="documents_generated", value_amount=5),
        {"status": "success", "value_type": "documents_generated", "value_amount": 5.0},
        id="value_type-documents_generated",
    ),
    pytest.param(
        lambda: emit_outcome("success", value_type="tasks_completed", value_amount=1),
        {"status": "success", "value_type": "tasks_completed", "value_amount": 1.0},
        id="value_type-tasks_completed",
    ),
    pytest.param(
        lambda: emit_outcome("success", value_type="revenue_generated", value_amount=499.99),
        {"status": "success", "value_type": "revenue_generated", "value_amount": 499.99},
        id="value_type-revenue_generated",
    ),
    # value_amount
    pytest.param(
        lambda: emit_outcome("success", value_type="records_written", value_amount=100),
        {"status": "success", "value_type": "records_written", "value_amount": 100.0},
        id="value_amount-count",
    ),
    pytest.param(
        lambda: emit_outcome("success", value_type="order_value", value_amount=1299.99),
        {"status": "success", "value_type": "order_value", "value_amount": 1299.99},
        id="value_amount-revenue",
    ),
    pytest.param(
        lambda: emit_outcome("success", value_type="quality_score", value_amount=4.5),
        {"status": "success", "value_type": "quality_score", "value_amount": 4.5},
        id="value_amount-score",
    ),
    # confidence
    pytest.param(
        lambda: emit_outcome(
            "success",
            value_type="classifications_completed",
            value_amount=1,
            confidence=0.92,
        ),
        {
            "status": "success",
            "value_type": "classifications_completed",
            "value_amount": 1.0,
            "confidence": 0.92,
        },
        id="confidence",
    ),
    # reason
    pytest.param(
        lambda: emit_outcome("failed", reason="rate_limit_exceeded"),
        {"status": "failed", "reason": "rate_limit_exceeded"},
        id="reason-rate_limit_exceeded",
    ),
    pytest.param(
        lambda: emit_outcome("failed", reason="invalid_input"),
        {"status": "failed", "reason": "invalid_input"},
        id="reason-invalid_input",
    ),
    pytest.param(
        lambda: emit_outcome("partial", reason="timeout_partial_results", value_amount=3),
        {"status": "partial", "reason": "timeout_partial_results", "value_amount": 3.0},
        id="reason-partial",
    ),
    # error_type
    pytest.param(
        lambda: emit_outcome(
            "failed", reason="upstream service unavailable", error_type="ServiceUnavailable"
        ),
        {
            "status": "failed",
            "reason": "upstream service unavailable",
            "error_type": "ServiceUnavailable",
        },
        id="error_type-ServiceUnavailable",
    ),
    pytest.param(
        lambda: emit_outcome(
            "timeout", reason="model took too long", error_type="DeadlineExceeded"
        ),
        {"status": "timeout", "reason": "model took too long", "error_type": "DeadlineExceeded"},
        id="error_type-DeadlineExceeded",
    ),
    # metadata
    pytest.param(
        lambda: emit_outcome(
            "success",
            value_type="items_processed",
            value_amount=10,
            metadata={"batch_id": "abc-123", "retry_count": 2},
        ),
        {
            "status": "success",
            "value_type": "items_processed",
            "value_amount": 10.0,
            "metadata": {"batch_id": "abc-123", "retry_count": 2},
        },
        id="metadata",
    ),
    # Best Practices 2. Use Consistent Value Types (good and bad spellings both record)
    pytest.param(
        lambda: emit_outcome("success", value_type="items_processed", value_amount=1),
        {"status": "success", "value_type": "items_processed", "value_amount": 1.0},
        id="bp2-good-items_processed",
    ),
    pytest.param(
        lambda: emit_outcome("success", value_type="documents_generated", value_amount=1),
        {"status": "success", "value_type": "documents_generated", "value_amount": 1.0},
        id="bp2-good-documents_generated",
    ),
    pytest.param(
        lambda: emit_outcome("success", value_type="item_done", value_amount=1),
        {"status": "success", "value_type": "item_done", "value_amount": 1.0},
        id="bp2-bad-item_done",
    ),
    pytest.param(
        lambda: emit_outcome("success", value_type="doc processed", value_amount=1),
        {"status": "success", "value_type": "doc processed", "value_amount": 1.0},
        id="bp2-bad-doc_processed",
    ),
    # Best Practices 3. Quantify When Possible
    pytest.param(
        lambda: emit_outcome("success", value_type="records_written", value_amount=50),
        {"status": "success", "value_type": "records_written", "value_amount": 50.0},
        id="bp3-quantified",
    ),
    pytest.param(
        lambda: emit_outcome("success"),
        {"status": "success"},
        id="bp3-no-amount",
    ),
    # Best Practices 4. Include Reasons for Failures
    pytest.param(
        lambda: emit_outcome("failed", reason="api_rate_limit", error_type="RateLimitError"),
        {"status": "failed", "reason": "api_rate_limit", "error_type": "RateLimitError"},
        id="bp4-api_rate_limit",
    ),
    pytest.param(
        lambda: emit_outcome("failed", reason="invalid_input_format", error_type="ValidationError"),
        {"status": "failed", "reason": "invalid_input_format", "error_type": "ValidationError"},
        id="bp4-invalid_input_format",
    ),
    pytest.param(
        lambda: emit_outcome("timeout", reason="model_unavailable", error_type="TimeoutError"),
        {"status": "timeout", "reason": "model_unavailable", "error_type": "TimeoutError"},
        id="bp4-model_unavailable",
    ),
]


@pytest.mark.parametrize(("snippet", "expected"), LISTING_SNIPPETS)
def test_emit_outcome_listing_line(spans, snippet, expected):
    run = run_snippet(spans, snippet)
    assert_run(run, SNIPPET_RUN, event_id="evt-snippet", customer_id="cust-snippet")
    assert_outcome(run, source="sdk", **expected)


def test_listing_run_as_one_block_keeps_the_first_outcome(spans):
    # the value_type listing as one block in one run: one outcome per run, so the three
    # later calls are each a BotanuWarning and are ignored
    def block():
        emit_outcome("success", value_type="items_processed", value_amount=1)
        emit_outcome("success", value_type="documents_generated", value_amount=5)
        emit_outcome("success", value_type="tasks_completed", value_amount=1)
        emit_outcome("success", value_type="revenue_generated", value_amount=499.99)

    with pytest.warns(BotanuWarning, match="one outcome per run") as record:
        run = run_snippet(spans, block)
    assert len([w for w in record if issubclass(w.category, BotanuWarning)]) == 3
    assert_outcome(run, "success", value_type="items_processed", value_amount=1.0)


# --- Outcome Patterns -------------------------------------------------------------------------


def test_success_with_value(spans):
    # adaptation: stand-ins for `order` and `customer`, read at decoration time; an int
    # order id shows a literal non-string id is recorded as text
    order = SimpleNamespace(id=1001)
    customer = SimpleNamespace(id="cust-7")

    async def do_work():
        return SimpleNamespace(count=1)

    # --- seed example (verbatim) ---
    @botanu_workflow("fulfill-order", event_id=order.id, customer_id=customer.id)
    async def process_order():
        result = await do_work()  # noqa: F841 - unused in the seed too

        emit_outcome(
            "success",
            value_type="orders_fulfilled",
            value_amount=1,
        )

    # --- end of example ---

    asyncio.run(process_order())
    run = spans.run_span("fulfill-order")
    assert_run(run, "fulfill-order", event_id="1001", customer_id="cust-7")
    assert_outcome(run, "success", value_type="orders_fulfilled", value_amount=1.0)
    assert len(spans.spans) == 1


@pytest.mark.parametrize("completed", [True, False], ids=["completed", "not-completed"])
def test_success_with_revenue(spans, completed):
    # adaptation: stand-ins for `inquiry` and `customer`; `process` is a fake whose
    # result says whether the sale completed
    inquiry = SimpleNamespace(id="inq-5")
    customer = SimpleNamespace(id="cust-7")

    async def process():
        return SimpleNamespace(completed=completed, total=1299.99)

    # --- seed example (verbatim) ---
    @botanu_workflow("handle-inquiry", event_id=inquiry.id, customer_id=customer.id)
    async def handle_inquiry():
        result = await process()

        if result.completed:
            emit_outcome(
                "success",
                value_type="revenue_generated",
                value_amount=result.total,
            )
        else:
            emit_outcome(
                "partial",
                value_type="leads_qualified",
                value_amount=1,
            )

    # --- end of example ---

    asyncio.run(handle_inquiry())
    run = spans.run_span("handle-inquiry")
    assert_run(run, "handle-inquiry", event_id="inq-5", customer_id="cust-7")
    if completed:
        assert_outcome(run, "success", value_type="revenue_generated", value_amount=1299.99)
    else:
        assert_outcome(run, "partial", value_type="leads_qualified", value_amount=1.0)


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        pytest.param(
            ["a", "b", "c"],
            {"status": "success", "value_type": "items_processed", "value_amount": 3.0},
            id="all",
        ),
        pytest.param(
            ["a", "bad", "c"],
            {
                "status": "partial",
                "value_type": "items_processed",
                "value_amount": 2.0,
                "reason": "processed_2_of_3",
            },
            id="some",
        ),
        pytest.param(
            ["bad", "bad"],
            {"status": "failed", "reason": "no_items_processed"},
            id="none",
        ),
    ],
)
def test_partial_success(spans, items, expected):
    # adaptation: stand-ins for `batch` and `customer`; `do_something` fails on "bad"
    batch = SimpleNamespace(id="batch-9")
    customer = SimpleNamespace(id="cust-7")

    async def do_something(item):
        if item == "bad":
            raise ValueError(item)

    # --- seed example (verbatim) ---
    @botanu_workflow("batch-process", event_id=batch.id, customer_id=customer.id)
    async def process_batch(items: list):
        processed = 0
        for item in items:
            try:
                await do_something(item)
                processed += 1
            except Exception:
                continue

        if processed == len(items):
            emit_outcome("success", value_type="items_processed", value_amount=processed)
        elif processed > 0:
            emit_outcome(
                "partial",
                value_type="items_processed",
                value_amount=processed,
                reason=f"processed_{processed}_of_{len(items)}",
            )
        else:
            emit_outcome("failed", reason="no_items_processed")

    # --- end of example ---

    asyncio.run(process_batch(items))
    run = spans.run_span("batch-process")
    assert_run(run, "batch-process", event_id="batch-9", customer_id="cust-7")
    assert_outcome(run, source="sdk", **expected)
    # exceptions handled inside the body leave the run span alone
    assert run.status.status_code is StatusCode.UNSET


def make_analyze(behaviour):
    """The "Failure with Reason" example, decorated afresh around fakes for `behaviour`."""
    # adaptation: stand-ins for `job` and `customer`; `do_work` and `process` are fakes,
    # and `RateLimitError` is the module-level stand-in exception
    job = SimpleNamespace(id="job-3")
    customer = SimpleNamespace(id="cust-7")

    async def do_work(doc_id):
        if behaviour == "rate_limited":
            raise RateLimitError("429 too many requests")
        if behaviour == "timeout":
            raise TimeoutError("deadline exceeded")
        return None if behaviour == "empty" else {"doc": doc_id}

    async def process(data):
        return {"analysis": data["doc"]}

    # --- seed example (verbatim) ---
    @botanu_workflow("analyze", event_id=job.id, customer_id=customer.id)
    async def analyze(doc_id: str):
        try:
            data = await do_work(doc_id)
            if not data:
                emit_outcome("failed", reason="not_found", error_type="NotFound")
                return None

            result = await process(data)
            emit_outcome("success", value_type="items_analyzed", value_amount=1)
            return result

        except RateLimitError:
            emit_outcome("failed", reason="rate_limit_exceeded", error_type="RateLimitError")
            raise
        except TimeoutError:
            emit_outcome("timeout", reason="analysis_timeout", error_type="TimeoutError")
            raise

    # --- end of example ---

    return analyze


def test_failure_with_reason_success(spans):
    assert asyncio.run(make_analyze("ok")("doc-1")) == {"analysis": "doc-1"}
    run = spans.run_span("analyze")
    assert_run(run, "analyze", event_id="job-3", customer_id="cust-7")
    assert_outcome(run, "success", value_type="items_analyzed", value_amount=1.0)


def test_failure_with_reason_not_found(spans):
    assert asyncio.run(make_analyze("empty")("doc-1")) is None
    run = spans.run_span("analyze")
    assert_outcome(run, "failed", reason="not_found", error_type="NotFound")
    # a returned failure is an outcome, not an error of the span
    assert run.status.status_code is StatusCode.UNSET


@pytest.mark.parametrize(
    ("behaviour", "exc_type", "expected"),
    [
        pytest.param(
            "rate_limited",
            RateLimitError,
            {"status": "failed", "reason": "rate_limit_exceeded", "error_type": "RateLimitError"},
            id="rate-limit",
        ),
        pytest.param(
            "timeout",
            TimeoutError,
            {"status": "timeout", "reason": "analysis_timeout", "error_type": "TimeoutError"},
            id="timeout",
        ),
    ],
)
def test_failure_with_reason_reraised_keeps_the_explicit_outcome(
    spans, behaviour, exc_type, expected
):
    with pytest.raises(exc_type) as caught:
        asyncio.run(make_analyze(behaviour)("doc-1"))
    run = spans.run_span("analyze")
    assert_run(run, "analyze", event_id="job-3", customer_id="cust-7")
    # the explicit outcome stands: the automatic one does not overwrite it
    assert_outcome(run, source="sdk", **expected)
    assert_failed_run_span(run, caught.value)


def test_classification_with_confidence(spans):
    # adaptation: stand-ins for `request` and `customer`; `do_work` is a fake classifier
    request = SimpleNamespace(id="req-11")
    customer = SimpleNamespace(id="cust-7")

    async def do_work(message):
        return SimpleNamespace(label="billing", confidence=0.87)

    # --- seed example (verbatim) ---
    @botanu_workflow("classify", event_id=request.id, customer_id=customer.id)
    async def classify(message: str):
        result = await do_work(message)

        emit_outcome(
            "success",
            value_type="classifications_completed",
            value_amount=1,
            confidence=result.confidence,
        )

        return result.label

    # --- end of example ---

    assert asyncio.run(classify("my invoice is wrong")) == "billing"
    run = spans.run_span("classify")
    assert_run(run, "classify", event_id="req-11", customer_id="cust-7")
    assert_outcome(
        run,
        "success",
        value_type="classifications_completed",
        value_amount=1.0,
        confidence=0.87,
    )


# --- Automatic Outcomes -----------------------------------------------------------------------


def test_automatic_outcome_on_success(spans):
    # adaptation: `event_id`, `customer_id` and `result` are free names of the example;
    # they are defined here first
    event_id = "evt-auto"
    customer_id = "cust-auto"
    result = {"answer": 42}

    # --- seed example (verbatim) ---
    @botanu_workflow(
        "my-workflow", event_id=event_id, customer_id=customer_id, auto_outcome_on_success=True
    )  # Default
    async def my_function():
        # If no exception and no explicit emit_outcome, emits "success"
        return result

    # --- end of example ---

    assert asyncio.run(my_function()) is result
    run = spans.run_span("my-workflow")
    assert_run(run, "my-workflow", event_id="evt-auto", customer_id="cust-auto")
    assert_outcome(run, "success", source="auto")


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        pytest.param(ValueError("bad input"), "failed", id="failed"),
        pytest.param(KeyError("missing"), "failed", id="failed-keyerror"),
        pytest.param(TimeoutError("too slow"), "timeout", id="timeout"),
    ],
)
def test_automatic_outcome_on_exception(spans, exc, status):
    # the prose under the example: "If an exception is raised, it automatically emits
    # "failed" with the exception class as the reason" (TimeoutError is "timeout")
    event_id = "evt-auto"
    customer_id = "cust-auto"

    @botanu_workflow("my-workflow", event_id=event_id, customer_id=customer_id)
    async def my_function():
        raise exc

    with pytest.raises(type(exc)) as caught:
        asyncio.run(my_function())
    assert caught.value is exc  # re-raised unchanged
    run = spans.run_span("my-workflow")
    name = type(exc).__name__
    assert_outcome(run, status, source="auto", reason=name, error_type=name)
    assert_failed_run_span(run, exc)


def test_automatic_outcome_disabled(spans):
    event_id = "evt-manual"
    customer_id = "cust-manual"

    # --- seed example (verbatim) ---
    @botanu_workflow(
        "my-workflow", event_id=event_id, customer_id=customer_id, auto_outcome_on_success=False
    )
    async def my_function():
        # Must call emit_outcome explicitly
        emit_outcome("success")

    # --- end of example ---

    asyncio.run(my_function())
    run = spans.run_span("my-workflow")
    assert_run(run, "my-workflow", event_id="evt-manual", customer_id="cust-manual")
    assert_outcome(run, "success", source="sdk")


def test_automatic_outcome_disabled_without_explicit_outcome_records_none(spans):
    # the other side of "Must call emit_outcome explicitly": nothing is recorded for you
    @botanu_workflow("my-workflow", event_id="e", customer_id="c", auto_outcome_on_success=False)
    async def my_function():
        return None

    asyncio.run(my_function())
    run = spans.run_span("my-workflow")
    assert not any(k.startswith("botanu.outcome.") for k in attrs(run))
    assert outcome_events(run) == []


# --- Context Manager Alternative ---------------------------------------------------------------


def test_context_manager_alternative(spans):
    seen = {}

    async def do_work():
        seen["run"] = get_current_run_context()
        return SimpleNamespace(count=4)

    # --- seed example (verbatim) ---
    from botanu import emit_outcome, run_botanu

    async def my_function(event_id: str, customer_id: str):
        async with run_botanu("my-workflow", event_id=event_id, customer_id=customer_id):
            result = await do_work()
            emit_outcome("success", value_type="items_processed", value_amount=result.count)
            return result

    # --- end of example ---

    result = asyncio.run(my_function("evt-cm", "cust-cm"))
    assert result.count == 4
    run = spans.run_span("my-workflow")
    run_id = assert_run(run, "my-workflow", event_id="evt-cm", customer_id="cust-cm")
    assert_outcome(run, "success", value_type="items_processed", value_amount=4.0)
    assert seen["run"].run_id == run_id
    assert seen["run"].event_id == "evt-cm"


# --- Span Events --------------------------------------------------------------------------------


def test_span_event_matches_the_seed(spans):
    run = run_snippet(
        spans, lambda: emit_outcome("success", value_type="items_processed", value_amount=1)
    )
    (event,) = run.events
    assert event.name == "botanu.outcome_emitted"
    assert dict(event.attributes) == {
        "status": "success",
        "value_type": "items_processed",
        "value_amount": 1,
    }
    assert type(event.attributes["value_amount"]) is float


def test_outcome_is_recorded_on_the_run_span_from_inside_a_tracker(spans):
    # "Outcomes are recorded as span attributes" of the run, even when a child is current
    def snippet():
        with track_llm_call(provider="openai", model="gpt-4"):
            emit_outcome("success", value_type="items_processed", value_amount=1)

    run = run_snippet(spans, snippet)
    assert_outcome(run, "success", value_type="items_processed", value_amount=1.0)
    (llm,) = spans.named("chat gpt-4")
    assert not any(k.startswith("botanu.outcome.") for k in attrs(llm))
    assert outcome_events(llm) == []


# --- Best Practices -------------------------------------------------------------------------------


def make_always_record(work):
    """Best Practices 1 ("Always Record Outcomes") around a fake `do_work`."""
    # adaptation: `event_id` and `customer_id` are free names of the example
    event_id = "evt-bp1"
    customer_id = "cust-bp1"
    do_work = work

    # --- seed example (verbatim) ---
    @botanu_workflow("my-workflow", event_id=event_id, customer_id=customer_id)
    async def my_function():
        try:
            result = await do_work()
            emit_outcome("success", value_type="items_processed", value_amount=result.count)
            return result
        except Exception as e:
            emit_outcome("failed", reason=type(e).__name__, error_type=type(e).__name__)
            raise

    # --- end of example ---

    return my_function


def test_best_practice_always_record_outcomes_success(spans):
    async def do_work():
        return SimpleNamespace(count=8)

    assert asyncio.run(make_always_record(do_work)()).count == 8
    run = spans.run_span("my-workflow")
    assert_run(run, "my-workflow", event_id="evt-bp1", customer_id="cust-bp1")
    assert_outcome(run, "success", value_type="items_processed", value_amount=8.0)


def test_best_practice_always_record_outcomes_failure(spans):
    boom = ConnectionError("db down")

    async def do_work():
        raise boom

    with pytest.raises(ConnectionError) as caught:
        asyncio.run(make_always_record(do_work)())
    assert caught.value is boom
    run = spans.run_span("my-workflow")
    assert_outcome(
        run, "failed", source="sdk", reason="ConnectionError", error_type="ConnectionError"
    )
    assert_failed_run_span(run, boom)


def test_best_practice_one_outcome_per_run(spans):
    # adaptation: `event_id` and `customer_id` are free names; `process` is a fake that
    # succeeds on even items
    event_id = "evt-bp5"
    customer_id = "cust-bp5"

    async def process(item):
        return item % 2 == 0

    # --- seed example (verbatim) ---
    @botanu_workflow("process-items", event_id=event_id, customer_id=customer_id)
    async def process_items(items):
        successful = 0
        for item in items:
            if await process(item):
                successful += 1

        # One outcome at the end
        emit_outcome("success", value_type="items_processed", value_amount=successful)

    # --- end of example ---

    asyncio.run(process_items([1, 2, 3, 4, 6]))
    run = spans.run_span("process-items")
    assert_run(run, "process-items", event_id="evt-bp5", customer_id="cust-bp5")
    assert_outcome(run, "success", value_type="items_processed", value_amount=3.0)


def test_best_practice_one_outcome_per_run_second_emit_is_a_warning(spans):
    # the misuse the practice warns against: a second outcome in the same run
    @botanu_workflow("process-items", event_id="evt-twice", customer_id="c")
    async def process_items():
        emit_outcome("success", value_type="items_processed", value_amount=1)
        emit_outcome("success", value_type="items_processed", value_amount=1)

    with pytest.warns(BotanuWarning, match="one outcome per run"):
        asyncio.run(process_items())
    assert_outcome(
        spans.run_span("process-items"), "success", value_type="items_processed", value_amount=1.0
    )
