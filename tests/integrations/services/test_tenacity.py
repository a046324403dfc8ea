"""`botanu_retry`: tenacity's retry, with each attempt visible to botanu — a retried run
is a new run of the same event; a retried call inside a run stamps its attempt number."""

from __future__ import annotations

import asyncio

import pytest
import tenacity
from tenacity import retry_if_exception_type, retry_if_result, stop_after_attempt

from botanu import (
    botanu_workflow,
    emit_outcome,
    get_current_run_context,
    run_botanu,
    semconv,
    set_business_context,
    track_llm_call,
)
from botanu.integrations.tenacity import botanu_retry, current_attempt


def attrs(span):
    return dict(span.attributes or {})


class RateLimited(Exception):
    pass


def test_retrying_a_run_gives_each_attempt_the_retry_lineage(spans):
    seen: list[int | None] = []

    @botanu_retry(stop=stop_after_attempt(3), retry=retry_if_exception_type(ConnectionError))
    @botanu_workflow("fulfill-order", event_id=lambda order_id: order_id, customer_id="acme")
    def fulfill(order_id: str) -> str:
        seen.append(current_attempt())
        if len(seen) < 3:
            raise ConnectionError("warehouse offline")
        return "shipped"

    assert fulfill("order-1") == "shipped"
    assert seen == [1, 2, 3]
    first, second, third = (attrs(s) for s in spans.named("botanu.run/fulfill-order"))
    assert len({first[semconv.RUN_ID], second[semconv.RUN_ID], third[semconv.RUN_ID]}) == 3
    for run, attempt in ((first, 1), (second, 2), (third, 3)):
        assert run[semconv.EVENT_ID] == "order-1"
        assert run[semconv.CUSTOMER_ID] == "acme"
        assert run[semconv.ATTEMPT] == attempt
    assert semconv.RETRY_OF_RUN_ID not in first
    assert second[semconv.RETRY_OF_RUN_ID] == first[semconv.RUN_ID]
    assert third[semconv.RETRY_OF_RUN_ID] == second[semconv.RUN_ID]
    assert second[semconv.ROOT_RUN_ID] == third[semconv.ROOT_RUN_ID] == first[semconv.RUN_ID]
    statuses = [first, second, third]
    assert [r[semconv.OUTCOME_STATUS] for r in statuses] == ["failed", "failed", "success"]
    assert first[semconv.OUTCOME_ERROR_TYPE] == "ConnectionError"


def test_each_call_of_a_retried_run_starts_a_new_event(spans):
    @botanu_retry(stop=stop_after_attempt(2), reraise=True)
    @botanu_workflow("sync", event_id=lambda key: key, customer_id="acme")
    def sync(key: str) -> None:
        raise KeyError(key)

    for key in ("a", "b"):
        with pytest.raises(KeyError):
            sync(key)
    runs = [attrs(s) for s in spans.run_spans()]
    assert [(r[semconv.EVENT_ID], r[semconv.ATTEMPT]) for r in runs] == [
        ("a", 1),
        ("a", 2),
        ("b", 1),  # no lineage leaks from one call to the next
        ("b", 2),
    ]


def test_attempts_inside_a_run_are_stamped_and_nothing_leaks_after(spans):
    calls = 0

    @botanu_retry(stop=stop_after_attempt(4), retry=retry_if_exception_type(RateLimited))
    def ask_model() -> str:
        nonlocal calls
        calls += 1
        with track_llm_call(provider="openai", model="gpt-4o-mini") as tracker:
            if calls < 3:
                tracker.set_error(RateLimited())
                raise RateLimited
            tracker.set_tokens(input_tokens=10, output_tokens=2)
        return "answer"

    with run_botanu("support", event_id="ticket-1") as run:
        assert ask_model() == "answer"
        with track_llm_call(provider="openai", model="gpt-4o-mini"):
            pass
        assert current_attempt() is None
        calls = 0
        ask_model()  # a second retried call starts again at attempt 1

    llm = [attrs(s) for s in spans.named("chat gpt-4o-mini")]
    assert [a.get(semconv.LLM_ATTEMPT) for a in llm] == [1, 2, 3, None, 1, 2, 3]
    assert {a[semconv.RUN_ID] for a in llm} == {run.run_id}
    assert len(spans.run_spans()) == 1  # attempts inside a run open no runs of their own
    assert semconv.LLM_ATTEMPT not in attrs(spans.run_span("support"))


def test_an_explicit_set_attempt_wins_over_the_stamp(spans):
    @botanu_retry(stop=stop_after_attempt(2), retry=retry_if_result(lambda r: r is None))
    def ask() -> str | None:
        with track_llm_call(provider="openai", model="m") as tracker:
            tracker.set_attempt(7)
        return None if current_attempt() == 1 else "ok"

    with run_botanu("support", event_id="ticket-1"):
        assert ask() == "ok"
    assert [attrs(s)[semconv.LLM_ATTEMPT] for s in spans.named("chat m")] == [7, 7]


def test_outcomes_and_business_context_inside_an_attempt_belong_to_the_run(spans):
    @botanu_retry(stop=stop_after_attempt(2))
    def step() -> None:
        set_business_context(team="search")
        emit_outcome("partial", reason="one of two")

    with run_botanu("support", event_id="ticket-1"):
        step()
        with track_llm_call(provider="openai", model="m"):
            pass
    run = attrs(spans.run_span("support"))
    assert (run[semconv.OUTCOME_STATUS], run[semconv.OUTCOME_SOURCE]) == ("partial", "sdk")
    assert run[semconv.TEAM] == "search"
    assert attrs(spans.named("chat m")[0])[semconv.TEAM] == "search"


def test_tenacity_behaviour_is_unchanged(spans):
    tries = 0

    @botanu_retry(stop=stop_after_attempt(2))
    def always_fails() -> None:
        nonlocal tries
        tries += 1
        raise ValueError("no")

    with pytest.raises(tenacity.RetryError) as info:
        always_fails()
    assert tries == 2
    assert isinstance(info.value.last_attempt.exception(), ValueError)

    @botanu_retry(
        stop=stop_after_attempt(2),
        retry_error_callback=lambda state: f"gave up after {state.attempt_number}",
    )
    def gives_up() -> str:
        raise ValueError("no")

    assert gives_up() == "gave up after 2"

    @botanu_retry
    def bare(x: int) -> int:
        return x + 1

    assert bare(1) == 2
    assert bare.__name__ == "bare"
    err = RuntimeError("stop")

    @botanu_retry(stop=stop_after_attempt(3), reraise=True)
    def user_error() -> None:
        raise err

    with pytest.raises(RuntimeError) as raised:
        user_error()
    assert raised.value is err


def test_async_functions_are_retried_with_the_same_rules(spans):
    seen: list[tuple[int | None, str | None]] = []

    @botanu_retry(stop=stop_after_attempt(3))
    @botanu_workflow("summarise", event_id="doc-1", customer_id="acme")
    async def summarise() -> str:
        await asyncio.sleep(0)
        run = get_current_run_context()
        seen.append((current_attempt(), run.run_id if run else None))
        if len(seen) < 2:
            raise TimeoutError
        return "summary"

    assert asyncio.run(summarise()) == "summary"
    first, second = (attrs(s) for s in spans.named("botanu.run/summarise"))
    assert [a for a, _ in seen] == [1, 2]
    assert [r for _, r in seen] == [first[semconv.RUN_ID], second[semconv.RUN_ID]]
    assert second[semconv.RETRY_OF_RUN_ID] == first[semconv.RUN_ID]
    assert first[semconv.OUTCOME_STATUS] == "timeout"


def test_a_retried_run_nested_in_a_run_keeps_its_parent(spans):
    @botanu_retry(stop=stop_after_attempt(2))
    @botanu_workflow("charge", event_id="pay-1", customer_id=None)
    def charge() -> None:
        if current_attempt() == 1:
            raise ConnectionError

    with run_botanu("checkout", event_id="cart-1") as outer:
        charge()
    first, second = (attrs(s) for s in spans.named("botanu.run/charge"))
    assert first[semconv.PARENT_RUN_ID] == second[semconv.PARENT_RUN_ID] == outer.run_id
    assert second[semconv.RETRY_OF_RUN_ID] == first[semconv.RUN_ID]
    assert second[semconv.ATTEMPT] == 2
