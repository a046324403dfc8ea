"""The `botanu` CLI against a real DuckDB file: ingest an OTLP file, query it, and
reject bad input with a clear message and nothing stored."""

from __future__ import annotations

import json

from click.testing import CliRunner
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

from botanu import botanu_workflow, emit_outcome, track_llm_call
from botanu.cli import cli


def export_file(spans, tmp_path):
    @botanu_workflow("support", event_id="t-1", customer_id="acme")
    def resolve():
        with track_llm_call(provider="openai", model="gpt-4o") as tracker:
            tracker.set_tokens(input_tokens=1000, output_tokens=100)
        emit_outcome("success", value_type="tickets_resolved", value_amount=1)

    resolve()
    path = tmp_path / "spans.pb"
    path.write_bytes(encode_spans(spans.spans).SerializeToString())
    return path


def invoke(tmp_path, *args):
    store = str(tmp_path / "store.duckdb")
    return CliRunner().invoke(cli, ["--store", store, *args], catch_exceptions=False)


def test_ingest_then_query(spans, tmp_path):
    path = export_file(spans, tmp_path)
    result = invoke(tmp_path, "ingest", str(path))
    assert result.exit_code == 0, result.output
    assert "2 new spans" in result.output
    assert "0 new spans" in invoke(tmp_path, "ingest", str(path)).output
    runs = json.loads(invoke(tmp_path, "runs", "--json").output)
    assert [(r["workflow"], r["event_id"], r["outcome_status"]) for r in runs] == [
        ("support", "t-1", "success")
    ]
    csv_out = invoke(tmp_path, "sql", "SELECT workflow, events FROM workflows", "--csv").output
    assert csv_out.splitlines() == ["workflow,events", "support,1"]


def test_a_corrupt_file_is_rejected_whole(spans, tmp_path):
    good = export_file(spans, tmp_path)
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text(
        '{"resourceSpans": []}\n{"resourceSpans": [{"scopeSpans": [{"spans": [{}]}]}]}\n'
    )
    result = invoke(tmp_path, "ingest", str(corrupt))
    assert result.exit_code == 1
    assert "rejected, nothing stored" in result.output
    assert "line 2" in result.output
    invoke(tmp_path, "ingest", str(good))
    assert "1" in invoke(tmp_path, "sql", "SELECT count(*) AS n FROM runs", "--csv").output


def test_sql_errors_and_bad_store_urls_are_one_clear_line(tmp_path):
    result = invoke(tmp_path, "sql", "SELEC 1")
    assert result.exit_code == 1
    assert result.output.startswith("Error: SQL error:")
    result = CliRunner().invoke(cli, ["--store", "mysql://x", "runs"])
    assert result.exit_code == 1
    assert "unknown store URL" in result.output


def test_ingested_llm_spans_are_priced_exactly(spans, tmp_path):
    path = export_file(spans, tmp_path)
    invoke(tmp_path, "ingest", str(path))
    out = invoke(
        tmp_path,
        "sql",
        "SELECT c.amount, c.source, c.matched_model FROM cost_lines c",
        "--json",
    ).output
    (line,) = json.loads(out)
    # gpt-4o: $2.50 / 1M input, $10 / 1M output -> 1000 * 2.5e-6 + 100 * 1e-5
    assert line["amount"] == "0.0035"
    assert (line["source"], line["matched_model"]) == ("genai-prices", "gpt-4o")


def test_prices_explains_a_price_and_its_history(tmp_path):
    def lookup(*args):
        result = CliRunner().invoke(cli, ["prices", *args, "--json"])
        assert result.exit_code == 0, result.output
        return {row["usage"]: row for row in json.loads(result.output)}

    now = lookup("gpt-4o", "--provider", "openai")
    # gpt-4o: $2.50 / 1M input, $1.25 / 1M cached input, $10 / 1M output
    assert (now["input"]["per_million_tokens"], now["output"]["per_million_tokens"]) == (
        "2.5",
        "10",
    )
    assert now["cached input"]["per_million_tokens"] == "1.25"
    # o3: $10 / 1M input before 2025-06-10, $2 after
    assert (
        lookup("o3", "--provider", "openai", "--at", "2025-05-01")["input"]["per_million_tokens"]
        == "10"
    )
    assert (
        lookup("o3", "--provider", "openai", "--at", "2025-07-01")["input"]["per_million_tokens"]
        == "2"
    )
    unknown = lookup("no-such-model", "--provider", "openai")["input"]
    assert (unknown["per_million_tokens"], unknown["source"]) == (None, "unpriced")


def test_reprice_applies_a_new_rate_card_to_stored_spans(spans, tmp_path, monkeypatch):
    path = export_file(spans, tmp_path)
    invoke(tmp_path, "ingest", str(path))
    card = tmp_path / "negotiated.yaml"
    card.write_text(
        "version: 1\n"
        "prices:\n"
        "  - category: llm\n"
        "    provider: openai\n"
        "    model: gpt-4o\n"
        "    effective_from: 2020-01-01\n"
        "    source: our contract\n"
        '    input_mtok: "2.00"\n'
        '    output_mtok: "8.00"\n'
    )
    monkeypatch.setenv("BOTANU_RATE_CARD", str(card))
    result = invoke(tmp_path, "reprice", "--since", "2020-01-01")
    assert result.exit_code == 0, result.output
    assert "repriced 1 spans" in result.output
    (line,) = json.loads(
        invoke(tmp_path, "sql", "SELECT amount, source FROM cost_lines", "--json").output
    )
    # the contract: $2.00 / 1M input, $8.00 / 1M output -> 1000 * 2e-6 + 100 * 8e-6
    assert (line["amount"], line["source"]) == ("0.0028", "user_rate_card")
    assert (
        "repriced 0 spans"
        in invoke(tmp_path, "reprice", "--since", "2001-01-01", "--until", "2001-02-01").output
    )


def test_a_malformed_price_file_is_one_clear_line_and_stores_nothing(spans, tmp_path, monkeypatch):
    path = export_file(spans, tmp_path)
    card = tmp_path / "broken.yaml"
    card.write_text('version: 1\nprices:\n  - category: llm\n    input_mtok: "two dollars"\n')
    monkeypatch.setenv("BOTANU_RATE_CARD", str(card))
    result = invoke(tmp_path, "ingest", str(path))
    assert result.exit_code == 1
    first = result.output.splitlines()[0]
    assert str(card) in first
    assert ":4:" in first or ":3:" in first  # the line of the bad entry
    monkeypatch.delenv("BOTANU_RATE_CARD")
    assert "0" in invoke(tmp_path, "sql", "SELECT count(*) AS n FROM spans", "--csv").output
