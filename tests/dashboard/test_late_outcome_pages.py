"""The run list and a run's page say when its event's outcome was replaced by a late one,
and who decided it (issue 14); the JSON twin carries the same."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import quote

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from starlette.testclient import TestClient

from botanu import botanu_workflow, resolve_outcome, track_llm_call
from botanu.dashboard import create_dashboard
from botanu.engine.ingest import decode_protobuf
from botanu.engine.service import ingest_payloads
from botanu.engine.store import open_store


@botanu_workflow("support", event_id=lambda ticket: ticket, customer_id="acme")
def answer(ticket):
    with track_llm_call(provider="openai", model="gpt-4o") as tracker:
        tracker.set_tokens(input_tokens=100, output_tokens=10)


def test_a_run_shows_its_own_outcome_and_its_events_late_one(spans, tmp_path):
    answer("T-1")  # automatic success ...
    answer("T-2")
    at = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    resolve_outcome("T-1", "failed", reason="reopened", source="zendesk", at=at)  # ... reopened
    store = open_store(str(tmp_path / "late.duckdb"))
    ingest_payloads(store, [decode_protobuf(encode_spans(spans.spans).SerializeToString())])
    with store, TestClient(create_dashboard(store)) as client:
        runs = {r["event_id"]: r for r in client.get("/api/runs").json()["runs"]}
        assert (runs["T-1"]["outcome_status"], runs["T-1"]["outcome_source"]) == ("success", "auto")
        assert (runs["T-1"]["event_outcome"], runs["T-1"]["event_outcome_source"]) == (
            "failed",
            "zendesk",
        )
        assert runs["T-1"]["event_outcome_resolved_at"].startswith("2030-01-02")
        assert (runs["T-2"]["event_outcome"], runs["T-2"]["event_outcome_resolved_at"]) == (
            "success",
            None,
        )
        listed = client.get("/runs").text
        assert listed.count("&rarr;") == 1  # only T-1's outcome was replaced
        assert 'class="status-failed">failed</span> <span class="muted" title="resolved' in listed
        page = client.get(f"/runs/{quote(runs['T-1']['run_id'], safe='')}").text
        assert "<dt>event outcome</dt>" in page
        assert ">zendesk</span>" in page
