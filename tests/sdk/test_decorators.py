"""Entry points: every callable shape, id callables, nesting, concurrency, and the
context a run leaves behind (nothing) whatever way it ends."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest
from opentelemetry import baggage, trace

from botanu import (
    BotanuWarning,
    botanu_use_case,
    botanu_workflow,
    emit_outcome,
    get_current_run_context,
    run_botanu,
    semconv,
    workflow,
)
from botanu.sdk import _runtime

tracer = trace.get_tracer("tests")


def attrs(span):
    return dict(span.attributes or {})


def test_sync_function_opens_one_run_span_and_returns_unchanged(spans):
    @botanu_workflow("fulfill-order", event_id="order-1", customer_id="acme", tenant_id="t1")
    def fulfill(x: int) -> int:
        run = get_current_run_context()
        assert run is not None
        assert baggage.get_baggage(semconv.RUN_ID) == run.run_id
        return x * 2

    assert fulfill(21) == 42
    span = spans.run_span("fulfill-order")
    a = attrs(span)
    assert a[semconv.WORKFLOW] == "fulfill-order"
    assert a[semconv.EVENT_ID] == "order-1"
    assert a[semconv.CUSTOMER_ID] == "acme"
    assert a[semconv.TENANT_ID] == "t1"
    assert a[semconv.OUTCOME_STATUS] == "success"
    assert a[semconv.OUTCOME_SOURCE] == "auto"
    assert [e.name for e in span.events] == [semconv.OUTCOME_EVENT]
    assert fulfill.__name__ == "fulfill"


def test_workflow_is_an_alias():
    assert workflow is botanu_workflow


def test_id_callables_bind_by_parameter_name_whatever_the_call_order(spans):
    @botanu_workflow(
        "fulfill-order",
        event_id=lambda order_id: order_id,
        customer_id=lambda customer: customer["id"],
        tenant_id=lambda **kw: kw["region"] + "-tenant",
    )
    def fulfill(customer, order_id, region="eu"):
        return order_id

    fulfill({"id": "acme"}, 7)
    fulfill(order_id=8, customer={"id": "globex"}, region="us")
    first, second = spans.run_spans()
    assert (attrs(first)[semconv.EVENT_ID], attrs(first)[semconv.CUSTOMER_ID]) == ("7", "acme")
    assert attrs(first)[semconv.TENANT_ID] == "eu-tenant"
    assert (attrs(second)[semconv.EVENT_ID], attrs(second)[semconv.TENANT_ID]) == (
        "8",
        "us-tenant",
    )


def test_id_callable_naming_a_missing_parameter_fails_at_decoration():
    with pytest.raises(TypeError, match="order_id"):

        @botanu_workflow("w", event_id=lambda order_id: order_id, customer_id="c")
        def handler(ticket_id):
            return ticket_id


def test_id_callable_that_raises_is_a_warning_and_the_function_still_runs(spans):
    @botanu_workflow("w", event_id=lambda order: order["missing"], customer_id="c")
    def handler(order):
        return "ran"

    with pytest.warns(BotanuWarning, match="event_id callable"):
        assert handler({}) == "ran"
    a = attrs(spans.run_span("w"))
    assert a[semconv.EVENT_ID] == a[semconv.RUN_ID]


def test_coroutine(spans):
    @botanu_workflow("async-flow", event_id="e", customer_id="c")
    async def flow():
        await asyncio.sleep(0)
        assert get_current_run_context() is not None
        return "done"

    assert asyncio.run(flow()) == "done"
    assert attrs(spans.run_span("async-flow"))[semconv.OUTCOME_STATUS] == "success"


def test_generator_run_lasts_until_exhausted_and_pauses_between_items(spans):
    seen_in_body = []

    @botanu_workflow("stream", event_id="e", customer_id="c")
    def stream(n):
        for i in range(n):
            seen_in_body.append(get_current_run_context())
            with tracer.start_as_current_span(f"item-{i}"):
                pass
            yield i

    gen = stream(3)
    assert spans.run_spans() == []  # nothing runs before the first next()
    assert next(gen) == 0
    assert get_current_run_context() is None  # the caller never sees the run
    assert list(gen) == [1, 2]
    run = spans.run_span("stream")
    run_id = attrs(run)[semconv.RUN_ID]
    assert {r.run_id for r in seen_in_body} == {run_id}
    items = [s for s in spans.spans if s.name.startswith("item-")]
    assert len(items) == 3
    assert all(attrs(s)[semconv.RUN_ID] == run_id for s in items)
    assert all(s.parent.span_id == run.context.span_id for s in items)
    assert attrs(run)[semconv.OUTCOME_STATUS] == "success"
    assert run.end_time >= max(s.end_time for s in items)


def test_generator_return_value_send_and_throw(spans):
    @botanu_workflow("echo", event_id="e", customer_id="c")
    def echo():
        total = 0
        while True:
            try:
                got = yield total
            except KeyError:
                got = 100
            if got is None:
                return total
            total += got

    gen = echo()
    assert next(gen) == 0
    assert gen.send(5) == 5
    assert gen.throw(KeyError("x")) == 105
    with pytest.raises(StopIteration) as stop:
        gen.send(None)
    assert stop.value.value == 105
    assert attrs(spans.run_span("echo"))[semconv.OUTCOME_STATUS] == "success"


def test_generator_closed_early_is_canceled_unless_an_outcome_was_given(spans):
    @botanu_workflow("partial-read", event_id="e", customer_id="c")
    def items():
        yield 1
        yield 2

    gen = items()
    next(gen)
    gen.close()
    a = attrs(spans.run_span("partial-read"))
    assert a[semconv.OUTCOME_STATUS] == "canceled"

    spans.clear()

    @botanu_workflow("explicit-read", event_id="e", customer_id="c")
    def explicit():
        emit_outcome("success", value_type="pages", value_amount=1)
        yield 1
        yield 2

    gen = explicit()
    next(gen)
    gen.close()
    assert attrs(spans.run_span("explicit-read"))[semconv.OUTCOME_STATUS] == "success"


def test_generator_failure_is_recorded_and_reraised(spans):
    @botanu_workflow("boom-stream", event_id="e", customer_id="c")
    def items():
        yield 1
        raise ValueError("bad row")

    with pytest.raises(ValueError, match="bad row"):
        list(items())
    a = attrs(spans.run_span("boom-stream"))
    assert (a[semconv.OUTCOME_STATUS], a[semconv.OUTCOME_ERROR_TYPE]) == ("failed", "ValueError")


def test_async_generator(spans):
    @botanu_workflow("astream", event_id="e", customer_id="c")
    async def astream(n):
        for i in range(n):
            await asyncio.sleep(0)
            assert get_current_run_context() is not None
            yield i

    async def consume():
        out = []
        async for item in astream(3):
            assert get_current_run_context() is None
            out.append(item)
        return out

    assert asyncio.run(consume()) == [0, 1, 2]
    assert attrs(spans.run_span("astream"))[semconv.OUTCOME_STATUS] == "success"


def test_async_generator_closed_early(spans):
    @botanu_workflow("astream-close", event_id="e", customer_id="c")
    async def astream():
        yield 1
        yield 2

    async def consume():
        gen = astream()
        await gen.__anext__()
        await gen.aclose()

    asyncio.run(consume())
    assert attrs(spans.run_span("astream-close"))[semconv.OUTCOME_STATUS] == "canceled"


def test_nested_runs_record_their_parent_and_restore_it(spans):
    @botanu_workflow("inner", event_id="inner-e", customer_id=None)
    def inner():
        return get_current_run_context()

    @botanu_workflow("outer", event_id="outer-e", customer_id="acme", tenant_id="t")
    def outer():
        before = get_current_run_context()
        inner_run = inner()
        assert get_current_run_context() is before
        return before, inner_run

    outer_run, inner_run = outer()
    assert inner_run.parent_run_id == outer_run.run_id
    assert inner_run.customer_id == "acme"  # inherited when not given
    inner_span = spans.run_span("inner")
    assert attrs(inner_span)[semconv.PARENT_RUN_ID] == outer_run.run_id
    assert attrs(inner_span)[semconv.RUN_ID] == inner_run.run_id  # never the outer id


def test_nested_run_baggage_does_not_inherit_outer_lineage(spans):
    with run_botanu("outer", event_id="e1", customer_id="c") as outer:
        with run_botanu("inner", event_id="e2") as inner:
            assert baggage.get_baggage(semconv.RUN_ID) == inner.run_id
            assert baggage.get_baggage(semconv.EVENT_ID) == "e2"
        assert baggage.get_baggage(semconv.RUN_ID) == outer.run_id


def test_run_botanu_with_and_async_with(spans):
    with run_botanu("cm", event_id="e", customer_id="c") as run:
        assert get_current_run_context() is run
        emit_outcome("partial", value_type="items", value_amount=3)

    async def use():
        async with run_botanu("acm", event_id="e", customer_id="c") as arun:
            assert get_current_run_context() is arun
            await asyncio.sleep(0)

    asyncio.run(use())
    assert attrs(spans.run_span("cm"))[semconv.OUTCOME_STATUS] == "partial"
    assert attrs(spans.run_span("acm"))[semconv.OUTCOME_STATUS] == "success"


def test_two_tasks_share_one_decorated_function_and_one_run_botanu_object(spans):
    shared = run_botanu("shared-cm", event_id="e", customer_id="c")

    @botanu_workflow("shared-fn", event_id=lambda n: f"e{n}", customer_id="c")
    async def work(n):
        await asyncio.sleep(0.01 * (3 - n))
        return get_current_run_context().run_id

    async def via_cm(n):
        async with shared as run:
            await asyncio.sleep(0.01 * (3 - n))
            assert get_current_run_context() is run
            if n == 1:
                emit_outcome("failed", reason="declined")
            return run.run_id

    async def main():
        return await asyncio.gather(work(1), work(2), via_cm(1), via_cm(2))

    fn1, fn2, cm1, cm2 = asyncio.run(main())
    assert len({fn1, fn2, cm1, cm2}) == 4
    by_run = {attrs(s)[semconv.RUN_ID]: attrs(s) for s in spans.run_spans()}
    assert by_run[fn1][semconv.EVENT_ID] == "e1"
    assert by_run[fn2][semconv.EVENT_ID] == "e2"
    assert by_run[cm1][semconv.OUTCOME_STATUS] == "failed"
    assert by_run[cm2][semconv.OUTCOME_STATUS] == "success"


def test_threads_each_get_their_own_run(spans):
    @botanu_workflow("threaded", event_id=lambda n: f"{n}", customer_id="c")
    def work(n):
        return get_current_run_context().event_id

    out: list[str] = []
    threads = [threading.Thread(target=lambda n=n: out.append(work(n))) for n in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(out) == ["0", "1", "2", "3", "4"]
    assert len(spans.run_spans()) == 5


def test_context_copy_carries_the_run_into_a_worker_thread(spans):
    from concurrent.futures import ThreadPoolExecutor

    with run_botanu("pool", event_id="e", customer_id="c") as run, ThreadPoolExecutor(1) as pool:
        ctx = contextvars.copy_context()
        seen = pool.submit(ctx.run, get_current_run_context).result()
    assert seen is run


@pytest.mark.parametrize(
    ("raised", "status"),
    [
        (KeyboardInterrupt(), "canceled"),
        (SystemExit(3), "canceled"),
        (TimeoutError("slow"), "timeout"),
        (RuntimeError("nope"), "failed"),
    ],
)
def test_base_exceptions_leave_no_context_attached(spans, raised, status):
    @botanu_workflow("interrupted", event_id="e", customer_id="c")
    def work():
        raise raised

    with pytest.raises(type(raised)) as info:
        work()
    assert info.value is raised
    assert _runtime.current_scope() is None
    assert baggage.get_baggage(semconv.RUN_ID) is None
    a = attrs(spans.run_span("interrupted"))
    assert a[semconv.OUTCOME_STATUS] == status
    assert a[semconv.OUTCOME_ERROR_TYPE] == type(raised).__name__


def test_asyncio_cancellation_is_canceled_and_leaves_no_context(spans):
    started = asyncio.Event

    @botanu_workflow("cancelled", event_id="e", customer_id="c")
    async def slow(flag):
        flag.set()
        await asyncio.sleep(10)

    async def main():
        flag = started()
        task = asyncio.create_task(slow(flag))
        await flag.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert get_current_run_context() is None

    asyncio.run(main())
    assert attrs(spans.run_span("cancelled"))[semconv.OUTCOME_STATUS] == "canceled"


def test_asyncio_timeout_is_timeout(spans):
    @botanu_workflow("deadline", event_id="e", customer_id="c")
    async def slow():
        await asyncio.wait_for(asyncio.sleep(10), timeout=0.01)

    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(slow())
    assert attrs(spans.run_span("deadline"))[semconv.OUTCOME_STATUS] == "timeout"


def test_use_case_spelling_maps_to_workflow_and_label(spans):
    @botanu_use_case("Customer Support", workflow="ticket_resolution", tenant_id="t")
    def resolve():
        return get_current_run_context()

    run = resolve()
    a = attrs(spans.run_span("Customer Support"))
    assert a[semconv.WORKFLOW] == "Customer Support"
    assert a[semconv.WORKFLOW_LABEL] == "ticket_resolution"
    assert a[semconv.EVENT_ID] == run.run_id
    assert a[semconv.TENANT_ID] == "t"


def test_bad_workflow_name_fails_at_decoration():
    with pytest.raises(TypeError, match="workflow name"):
        botanu_workflow("", event_id="e", customer_id="c")(lambda: None)


def test_spans_opened_inside_a_generator_stay_nested_across_yields(spans):
    from botanu import track_llm_call

    @botanu_workflow("streaming", event_id="e", customer_id="c")
    def stream():
        with track_llm_call(provider="openai", model="gpt-4o"):
            for i in range(3):
                with tracer.start_as_current_span(f"chunk-{i}"):
                    pass
                yield i

    assert list(stream()) == [0, 1, 2]
    (llm,) = spans.named("chat gpt-4o")
    chunks = [s for s in spans.spans if s.name.startswith("chunk-")]
    assert len(chunks) == 3
    assert all(c.parent.span_id == llm.context.span_id for c in chunks)
    assert llm.parent.span_id == spans.run_span("streaming").context.span_id


def test_run_botanu_exited_in_another_task_still_ends_its_run(spans):
    from contextlib import AsyncExitStack

    async def main():
        stack = AsyncExitStack()

        async def enter():
            return await stack.enter_async_context(run_botanu("stacked", event_id="e"))

        run = await asyncio.create_task(enter())
        await stack.aclose()  # exits in this task, not the one that entered
        return run

    run = asyncio.run(main())
    span = spans.run_span("stacked")
    assert attrs(span)[semconv.RUN_ID] == run.run_id
    assert span.end_time is not None


def test_a_failed_entry_does_not_end_the_enclosing_run_of_the_same_object(spans, monkeypatch):
    from botanu.sdk import _guard

    shared = run_botanu("reused", event_id="e", customer_id="c")
    with shared as outer:
        monkeypatch.setattr(_guard, "raise_internal_errors", False)
        monkeypatch.setattr(_runtime.state, "tracer", None)  # the inner open fails inside
        with shared as inner:
            assert inner.run_id != outer.run_id
        monkeypatch.undo()
        assert get_current_run_context() is outer
    assert len(spans.run_spans()) == 1
