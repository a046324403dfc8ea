"""Late outcomes (issue 14): an event's outcome recorded after its runs, keyed by event id,
wins over the runs' own in `events` and the report; `runs` keeps each run's own. Spans are
made by the real SDK and go through the real OTLP decoder into a real DuckDB file."""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

from botanu import (
    BotanuWarning,
    botanu_workflow,
    emit_outcome,
    resolve_outcome,
    semconv,
    track_llm_call,
)
from botanu.engine.costing import cost_per_outcome
from botanu.engine.ingest import decode_protobuf
from botanu.engine.service import ingest_payloads
from botanu.engine.store import open_store

LATER = datetime(2030, 1, 1, tzinfo=timezone.utc)  # after any run of the test


@botanu_workflow("support", event_id=lambda ticket: ticket, customer_id="acme")
def answer(ticket: str, *, fail: bool = False) -> None:
    with track_llm_call(provider="openai", model="gpt-4o") as tracker:
        tracker.set_tokens(input_tokens=1000, output_tokens=100)
    if fail:
        raise RuntimeError("no answer")
    emit_outcome("success", value_type="tickets_resolved", value_amount=1)


def stored(spans, tmp_path, *, twice: bool = False):
    raws = decode_protobuf(encode_spans(spans.spans).SerializeToString())
    store = open_store(str(tmp_path / "late.duckdb"))
    ingest_payloads(store, [raws])
    if twice:  # an at-least-once exporter delivers again
        ingest_payloads(store, [raws])
    return store


def events(store):
    rows = store.query(
        "SELECT event_id, final_outcome, outcome_source, final_value_type, final_value_amount, "
        "total_cost, wasted_cost FROM events"
    ).rows
    return {row[0]: row[1:] for row in rows}


def test_a_late_outcome_is_a_root_span_of_its_own_even_inside_a_run(spans):
    @botanu_workflow("webhook", event_id="hook-1", customer_id="acme")
    def handle():
        resolve_outcome(
            "T-1", "failed", reason="ticket reopened", source="zendesk", metadata={"by": "bob"}
        )

    handle()
    (late,) = [s for s in spans.spans if s.name == semconv.OUTCOME_RESOLUTION_SPAN]
    assert late.parent is None
    assert late.context.trace_id not in {
        s.context.trace_id for s in spans.spans if s is not late
    }  # no trace of the run it was sent from
    assert dict(late.attributes) == {
        semconv.EVENT_ID: "T-1",
        semconv.OUTCOME_STATUS: "failed",
        semconv.OUTCOME_SOURCE: "zendesk",
        semconv.OUTCOME_REASON: "ticket reopened",
        semconv.OUTCOME_METADATA_PREFIX + "by": "bob",
    }  # no run id: it is part of no run


def test_a_late_outcome_is_dated_when_the_caller_says(spans):
    at = datetime(2026, 3, 4, 5, 6, 7, 891234, tzinfo=timezone(timedelta(hours=2)))
    resolve_outcome("T-1", "success", at=at)
    (late,) = spans.spans
    expected = int(datetime(2026, 3, 4, 3, 6, 7, tzinfo=timezone.utc).timestamp()) * 10**9
    assert late.start_time == late.end_time == expected + 891_234_000
    assert late.attributes[semconv.OUTCOME_SOURCE] == "api"  # the default source


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("T-1", "resolved"), {}, "unknown status"),
        (("", "failed"), {}, "event_id must be a non-empty string"),
        ((None, "failed"), {}, "event_id must be a non-empty string"),
        (("T" * 257, "failed"), {}, "at most 256"),
        (("T-1", "failed"), {"source": ""}, "source must be a non-empty string"),
    ],
)
def test_a_late_outcome_that_cannot_be_keyed_is_a_warning_and_sends_nothing(
    spans, args, kwargs, message
):
    with pytest.warns(BotanuWarning, match=message):
        resolve_outcome(*args, **kwargs)
    assert not spans.spans


def test_a_late_outcome_turns_a_success_into_a_failure(spans, tmp_path):
    answer("T-1")
    answer("T-2")
    resolve_outcome("T-1", "failed", reason="ticket reopened", source="zendesk", at=LATER)
    with stored(spans, tmp_path, twice=True) as store:
        runs = store.query("SELECT event_id, outcome_status, outcome_source FROM runs").rows
        assert sorted(runs) == [("T-1", "success", "sdk"), ("T-2", "success", "sdk")]
        found = events(store)
        t1_cost = found["T-1"][4]
        # the value type stays: a failure delivers none of it (the report counts none)
        assert found["T-1"] == ("failed", "zendesk", "tickets_resolved", 1.0, t1_cost, t1_cost)
        assert found["T-2"][:2] == ("success", "sdk")
        assert found["T-2"][5] == 0
        (resolved_at,) = store.query(
            "SELECT outcome_resolved_at FROM events WHERE event_id = 'T-1'"
        ).rows[0]
        assert resolved_at == LATER.replace(tzinfo=None)
        # the resolution span was delivered twice: one resolution
        assert store.query("SELECT count(*) FROM outcome_resolutions").rows == [(1,)]
        store.set_valuation("tickets_resolved", Decimal(3))
        (row,) = cost_per_outcome(store)
        total = found["T-1"][4] + found["T-2"][4]
        assert (row.events, row.successful_events, row.total_cost) == (2, 1, total)
        assert row.wasted_cost == t1_cost
        assert row.cost_per_success == total
        assert row.value_delivered == Decimal(3)  # T-2's ticket only
        assert row.late_outcomes == 1


def test_the_latest_late_outcome_wins_and_value_fields_replace_only_when_given(spans, tmp_path):
    with pytest.raises(RuntimeError):
        answer("T-1", fail=True)  # the run failed: its whole cost is waste ...
    answer("T-2")
    resolve_outcome("T-1", "failed", source="review", at=LATER)
    # ... until a later verdict says the ticket was solved after all, with more value
    resolve_outcome(
        "T-1",
        "success",
        value_type="tickets_resolved",
        value_amount=2,
        source="evaluator",
        at=LATER + timedelta(days=1),
    )
    resolve_outcome("T-2", "partial", source="review", at=LATER)  # no value fields given
    resolve_outcome("T-9", "failed", source="review", at=LATER)  # an event never seen
    with stored(spans, tmp_path) as store:
        found = events(store)
        assert found["T-1"][:4] == ("success", "evaluator", "tickets_resolved", 2.0)
        assert found["T-1"][5] == 0  # not waste any more
        assert found["T-2"][:4] == ("partial", "review", "tickets_resolved", 1.0)
        assert "T-9" not in found  # a resolution makes no event of its own
        run = store.query("SELECT outcome_status, outcome_source FROM runs WHERE event_id = 'T-1'")
        assert run.rows == [("failed", "auto")]  # the run keeps its own (automatic) outcome
        assert store.query("SELECT count(*) FROM outcome_resolutions").rows == [(4,)]


def test_a_late_outcome_decides_a_pending_event(spans, tmp_path):
    @botanu_workflow("review", event_id="R-1", customer_id="acme", auto_outcome_on_success=False)
    def review():
        with track_llm_call(provider="openai", model="gpt-4o") as tracker:
            tracker.set_tokens(input_tokens=10, output_tokens=1)

    review()
    with stored(spans, tmp_path) as store:
        assert events(store)["R-1"][:2] == ("pending", None)
    spans.clear()
    resolve_outcome("R-1", "success", source="review", at=LATER)
    raws = decode_protobuf(encode_spans(spans.spans).SerializeToString())
    with open_store(str(tmp_path / "late.duckdb")) as store:
        ingest_payloads(store, [raws])  # a later export, into the same store
        assert events(store)["R-1"][:2] == ("success", "review")
        (row,) = cost_per_outcome(store)
        assert (row.pending_events, row.successful_events) == (0, 1)


def test_a_store_from_before_late_outcomes_is_migrated(spans, tmp_path):
    """A store written by the previous version (spans whose outcome source was 'explicit'
    in an attribute, no resolutions table) opens with the runs' sources filled."""
    answer("T-1")
    with stored(spans, tmp_path) as store:
        store.query(
            "UPDATE span_rows SET attributes = list_transform(attributes, lambda e: CASE "
            "WHEN e.key = 'botanu.outcome.source' THEN {'key': e.key, 'value': 'explicit'} "
            "ELSE e END), outcome_source = NULL"
        )
        store.query("ALTER TABLE span_rows DROP COLUMN outcome_source")
        store.query("ALTER TABLE run_rollup DROP COLUMN outcome_source")
        store.query("DROP TABLE outcome_resolutions")
        store.query("DELETE FROM botanu_migrations WHERE name LIKE '0005%'")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with open_store(str(tmp_path / "late.duckdb")) as store:
            assert store.query("SELECT outcome_source FROM runs").rows == [("sdk",)]
            assert events(store)["T-1"][:2] == ("success", "sdk")


def test_a_resolution_span_that_names_no_event_or_no_known_status_resolves_nothing(tmp_path):
    """Spans from any sender: only one with an event id and a known status is a late
    outcome; the others are kept as spans and change no event."""
    from botanu.engine.records import SpanRecord

    def resolution(span_id, **fields):
        return SpanRecord(
            trace_id="ab" * 16,
            span_id=span_id,
            name=semconv.OUTCOME_RESOLUTION_SPAN,
            start_ns=1,
            end_ns=2,
            **fields,
        )

    with open_store(str(tmp_path / "odd.duckdb")) as store:
        store.write(
            [
                resolution("1" * 16, outcome_status="failed"),  # no event id
                resolution("2" * 16, event_id="T-1"),  # no status
                resolution("3" * 16, event_id="T-1", outcome_status="reopened"),  # unknown
                resolution("4" * 16, event_id="T-1", outcome_status="failed"),
            ]
        )
        assert store.query("SELECT count(*) FROM spans").rows == [(4,)]
        assert store.query("SELECT span_id, status FROM outcome_resolutions").rows == [
            ("4" * 16, "failed")
        ]
