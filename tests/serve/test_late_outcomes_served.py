"""A late outcome sent each way a user sends one (issue 14): the SDK's span through a real
`botanu serve`, `botanu outcome` while the server owns the store, `botanu outcome` on the
store file, and an OTLP file through `botanu ingest`. Each turns a success into a failure
in `events` and the report; `runs` keeps the run's own outcome."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

from click.testing import CliRunner
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from botanu import resolve_outcome
from botanu.cli.main import cli

APP = textwrap.dedent(
    """
    import sys
    import botanu
    from botanu import botanu_workflow, emit_outcome, resolve_outcome
    from botanu.tracking.llm import track_llm_call

    botanu.enable(service_name="support")  # the default OTLP endpoint

    @botanu_workflow("support", event_id=lambda n: f"T-{n}", customer_id="acme")
    def resolve(n):
        with track_llm_call(provider="openai", model="gpt-4o-mini") as call:
            call.set_tokens(input_tokens=1000, output_tokens=100)
        emit_outcome("success", value_type="tickets_resolved", value_amount=1)

    for n in range(3):
        resolve(n)
    if sys.argv[1:] == ["late"]:
        resolve_outcome("T-0", "failed", reason="ticket reopened", source="zendesk")
    botanu.disable()
    """
)


def invoke(store, *args):
    result = CliRunner().invoke(cli, ["--store", str(store), *args])
    assert result.exit_code == 0, result.output
    return result.output


def report(store):
    (row,) = json.loads(invoke(store, "report", "--json"))["rows"]
    return row


def outcomes(store):
    rows = json.loads(
        invoke(store, "sql", "SELECT event_id, final_outcome, outcome_source FROM events", "--json")
    )
    return {row["event_id"]: (row["final_outcome"], row["outcome_source"]) for row in rows}


def run_outcome(store):
    rows = json.loads(
        invoke(store, "sql", "SELECT outcome_status FROM runs WHERE event_id = 'T-0'", "--json")
    )
    return [row["outcome_status"] for row in rows]


def wait_for(check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("not seen in time")


def run_app(tmp_path, url, *args):
    script = tmp_path / "app.py"
    script.write_text(APP)
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": url, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, str(script), *args],
        env=env,
        timeout=120,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()


def test_the_sdk_sends_a_late_outcome_through_botanu_serve(server_factory, tmp_path):
    server = server_factory()
    run_app(tmp_path, server.url, "late")
    server.wait_stored()
    assert outcomes(server.store) == {
        "T-0": ("failed", "zendesk"),
        "T-1": ("success", "sdk"),
        "T-2": ("success", "sdk"),
    }
    assert run_outcome(server.store) == ["success"]
    row = report(server.store)
    assert (row["events"], row["successful_events"]) == (3, 2)
    assert row["wasted_cost"] != "0"
    assert row["wasted_cost"] == _event_cost(server.store, "T-0")


def test_botanu_outcome_works_while_botanu_serve_owns_the_store(server_factory, tmp_path):
    server = server_factory()
    run_app(tmp_path, server.url)
    server.wait_stored()
    assert report(server.store)["successful_events"] == 3
    assert "resolved after their runs" not in invoke(server.store, "report")
    said = invoke(server.store, "outcome", "T-0", "failed", "--reason", "reopened")
    assert f"T-0: failed (source cli), sent to botanu serve at {server.url}" in said
    wait_for(lambda: outcomes(server.store)["T-0"] == ("failed", "cli"))
    row = report(server.store)
    assert (row["events"], row["successful_events"], row["late_outcomes"]) == (3, 2, 1)
    assert row["wasted_cost"] == _event_cost(server.store, "T-0")
    assert "1 event outcome(s) resolved after their runs" in invoke(server.store, "report")
    assert run_outcome(server.store) == ["success"]


def test_botanu_outcome_and_an_otlp_file_work_on_the_store_file(server_factory, tmp_path):
    server = server_factory()
    run_app(tmp_path, server.url)
    server.wait_stored()
    server.stop()  # the file is free again: the CLI writes to it directly
    said = invoke(server.store, "outcome", "T-0", "failed", "--source", "review")
    assert "T-0: failed (source review), stored" in said
    assert outcomes(server.store)["T-0"] == ("failed", "review")
    # a later verdict arrives as an OTLP file (what the SDK's span looks like exported)
    provider = TracerProvider()
    captured = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(captured))
    resolve_outcome("T-0", "success", source="evaluator", tracer_provider=provider)
    otlp = tmp_path / "late.pb"
    otlp.write_bytes(encode_spans(captured.get_finished_spans()).SerializeToString())
    invoke(server.store, "ingest", str(otlp))
    assert outcomes(server.store)["T-0"] == ("success", "evaluator")
    assert report(server.store)["successful_events"] == 3


def test_botanu_outcome_refuses_what_it_cannot_key(tmp_path):
    for args, message in [
        (["T-1", "resolved"], "'resolved' is not one of"),
        (["", "failed"], "event_id must be a non-empty string"),
        (["T-1", "failed", "--at", "yesterday"], "not an ISO 8601 time"),
        (["T-1", "failed", "--source", " "], "source must be a non-empty string"),
    ]:
        result = CliRunner().invoke(cli, ["--store", str(tmp_path / "s.duckdb"), "outcome", *args])
        assert result.exit_code == 2, result.output
        assert message in result.output
    assert not (tmp_path / "s.duckdb").exists()  # refused before the store was opened


def _event_cost(store, event_id):
    rows = json.loads(
        invoke(
            store, "sql", f"SELECT total_cost FROM events WHERE event_id = '{event_id}'", "--json"
        )
    )
    return rows[0]["total_cost"]
