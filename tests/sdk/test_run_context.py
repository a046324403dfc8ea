"""RunContext: ids, lineage, baggage round trips, and hostile inbound baggage."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botanu import RunContext, RunStatus, generate_run_id, semconv


def test_run_ids_are_uuidv7_and_strictly_increasing():
    ids = [generate_run_id() for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    parsed = uuid.UUID(ids[0])
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    ms = int(ids[-1].replace("-", "")[:12], 16)
    assert abs(ms / 1000 - time.time()) < 5


def test_run_ids_stay_unique_across_threads():
    results: list[list[str]] = []

    def make() -> None:
        results.append([generate_run_id() for _ in range(2000)])

    threads = [threading.Thread(target=make) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [i for batch in results for i in batch]
    assert len(set(every)) == 8000
    assert all(batch == sorted(batch) for batch in results)


def test_create_sets_lineage_and_event_defaults_to_run_id():
    run = RunContext.create("fulfill-order", customer_id="acme")
    assert run.event_id == run.run_id
    assert run.root_run_id == run.run_id
    assert run.attempt == 1
    assert run.retry_of_run_id is None
    child = RunContext.create("sub", event_id="e-1", parent=run)
    assert child.parent_run_id == run.run_id


def test_create_retry_keeps_the_event_and_links_the_attempts():
    first = RunContext.create("fulfill-order", event_id="order-7", customer_id="acme")
    second = RunContext.create_retry(first)
    third = RunContext.create_retry(second)
    assert {second.event_id, third.event_id} == {"order-7"}
    assert (second.attempt, third.attempt) == (2, 3)
    assert second.retry_of_run_id == first.run_id
    assert third.retry_of_run_id == second.run_id
    assert second.root_run_id == third.root_run_id == first.run_id
    assert len({first.run_id, second.run_id, third.run_id}) == 3


def test_lean_baggage_has_the_four_keys_and_no_none():
    run = RunContext.create("support", event_id="t-1")
    assert run.to_baggage_dict(lean_mode=True) == {
        semconv.RUN_ID: run.run_id,
        semconv.WORKFLOW: "support",
        semconv.EVENT_ID: "t-1",
    }
    with_customer = RunContext.create("support", event_id="t-1", customer_id="acme")
    assert set(with_customer.to_baggage_dict(lean_mode=True)) == set(semconv.LEAN_KEYS)
    full = with_customer.to_baggage_dict(lean_mode=False)
    assert "None" not in full.values()
    assert full[semconv.ATTEMPT] == "1"
    assert semconv.TENANT_ID not in full


def test_lean_baggage_stays_near_a_hundred_bytes():
    run = RunContext.create("support", event_id="ticket-48213", customer_id="cust-9921")
    size = sum(len(k) + len(v) + 2 for k, v in run.to_baggage_dict(lean_mode=True).items())
    assert size <= 150


def test_full_baggage_round_trips():
    parent = RunContext.create("outer", event_id="e")
    run = RunContext.create(
        "support",
        event_id="t-1",
        customer_id="acme",
        tenant_id="tenant-a",
        environment="prod",
        parent=parent,
        deadline_seconds=30,
    )
    retry = RunContext.create_retry(run)
    back = RunContext.from_baggage(retry.to_baggage_dict(lean_mode=False))
    assert back is not None
    assert back.run_id == retry.run_id
    assert back.tenant_id == "tenant-a"
    assert back.environment == "prod"
    assert back.parent_run_id == parent.run_id
    assert back.root_run_id == run.run_id
    assert back.retry_of_run_id == run.run_id
    assert back.attempt == 2
    assert back.deadline is not None
    assert abs(back.deadline - retry.deadline) < 0.001  # type: ignore[operator]


def test_from_baggage_needs_run_id_and_workflow():
    assert RunContext.from_baggage({}) is None
    assert RunContext.from_baggage(None) is None
    assert RunContext.from_baggage({semconv.RUN_ID: "r"}) is None
    assert RunContext.from_baggage({semconv.WORKFLOW: "w"}) is None
    run = RunContext.from_baggage({semconv.RUN_ID: "r", semconv.WORKFLOW: "w"})
    assert run is not None
    assert run.event_id == "r"


def test_from_baggage_reads_the_published_sdks_use_case_key():
    run = RunContext.from_baggage({semconv.RUN_ID: "r", semconv.LEGACY_USE_CASE: "Support"})
    assert run is not None
    assert run.workflow == "Support"


@pytest.mark.parametrize(
    "bad",
    [
        "x" * 10_000,  # oversized
        "\u00e9" * 200,  # 200 characters, but 400 UTF-8 bytes
        "ab\u202ecd",  # a bidi override: a format character
        "a\nb",  # control character
        "",  # empty
        42,  # not a string
        ["r"],
    ],
)
def test_hostile_values_are_dropped_not_raised(bad):
    assert RunContext.from_baggage({semconv.RUN_ID: bad, semconv.WORKFLOW: "w"}) is None
    run = RunContext.from_baggage(
        {semconv.RUN_ID: "r", semconv.WORKFLOW: "w", semconv.CUSTOMER_ID: bad}
    )
    assert run is not None
    assert run.customer_id is None


def test_unicode_names_travel_and_come_back():
    run = RunContext.create("R\u00e9soudre ticket", customer_id="M\u00fcller GmbH")
    back = RunContext.from_baggage(run.to_baggage_dict(lean_mode=True))
    assert back is not None
    assert (back.workflow, back.customer_id) == ("R\u00e9soudre ticket", "M\u00fcller GmbH")


@pytest.mark.parametrize("attempt", ["0", "-1", "abc", "99999999999", "1.5"])
def test_bad_attempts_fall_back_to_one(attempt):
    run = RunContext.from_baggage(
        {semconv.RUN_ID: "r", semconv.WORKFLOW: "w", semconv.ATTEMPT: attempt}
    )
    assert run is not None
    assert run.attempt == 1


def test_many_entries_are_ignored_except_ours():
    bag = {f"k{i}": "v" for i in range(1000)}
    bag.update({semconv.RUN_ID: "r", semconv.WORKFLOW: "w"})
    run = RunContext.from_baggage(bag)
    assert run is not None
    assert run.run_id == "r"


@given(st.dictionaries(st.text(max_size=40), st.one_of(st.text(), st.integers(), st.none())))
def test_from_baggage_never_raises(bag):
    run = RunContext.from_baggage(bag)
    if run is not None:
        assert run.run_id.isprintable()
        assert len(run.run_id) <= 256


def test_span_attributes_leave_out_unset_values():
    run = RunContext.create("support", event_id="t-1")
    attributes = run.to_span_attributes()
    assert attributes[semconv.ATTEMPT] == 1
    assert semconv.CUSTOMER_ID not in attributes
    assert semconv.ROOT_RUN_ID not in attributes  # a first attempt is its own root
    retry = RunContext.create_retry(run)
    assert retry.to_span_attributes()[semconv.ROOT_RUN_ID] == run.run_id
    assert set(run.to_span_attributes(lean_mode=True)) <= set(semconv.LEAN_KEYS)


def test_deadline_and_cancellation_helpers():
    run = RunContext.create("w", deadline_seconds=60)
    remaining = run.remaining_time()
    assert remaining is not None
    assert 59 < remaining <= 60
    assert not run.is_past_deadline()
    assert not run.should_stop()
    run.cancel()
    assert run.is_cancelled()
    assert run.should_stop()
    late = RunContext.create("w", deadline_seconds=-1)
    assert late.is_past_deadline()
    assert late.remaining_time() == 0.0
    assert RunContext.create("w").remaining_time() is None


def test_statuses():
    assert [s.value for s in RunStatus] == [
        "success",
        "partial",
        "failed",
        "timeout",
        "canceled",
        "abandoned",
    ]
    assert str(RunStatus.SUCCESS) == "success"
