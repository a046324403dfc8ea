"""A call that failed (span status error) before it reported any usage is not billed by
the provider: its cost line is exactly $0, source `not_billed`, not unpriced. A failed call
with usage is priced as any other; a successful call without token counts stays unpriced;
a reported cost still wins. The bulk pricer gives the same lines, span by span."""

from __future__ import annotations

from decimal import Decimal

import pytest

from botanu.engine.pricing._bulk import BulkPricer

from .conftest import gpt4o, same_in_bulk

DETAIL = "the call failed before any usage was reported: providers do not bill it"


# --- not billed -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"category": "llm", "provider": "openai", "request_model": "gpt-4o"},
        {"category": "llm", "provider": "openai", "request_model": "gpt-4o-mini"},
        {"category": "llm", "provider": "acme", "request_model": "acme-large"},  # unknown
        {"category": "llm", "provider": "openai"},  # no model name either
        {
            "category": "llm",
            "provider": "openai",
            "request_model": "gpt-4o",
            "input_tokens": 0,
            "output_tokens": 0,
        },
        {"category": "db", "system": "bigquery", "bytes_scanned": 0},
    ],
)
def test_a_failed_call_without_usage_is_not_billed(pricer, span, fields):
    line = pricer.price(span(status_code="error", **fields))

    assert (line.source, line.amount) == ("not_billed", Decimal(0))
    assert line.detail == DETAIL
    assert line.catalog_version is None


def test_the_not_billed_line_names_what_was_called(pricer, span):
    line = pricer.price(
        span(category="llm", provider="openai", request_model="gpt-4o", status_code="error")
    )

    assert (line.matched_provider, line.matched_model) == ("openai", "gpt-4o")


# --- as before --------------------------------------------------------------------------------


def test_a_failed_call_with_usage_is_priced(pricer, span):
    tokens = {"input_tokens": 10_000, "output_tokens": 1_000}
    failed = pricer.price(gpt4o(span, status_code="error", **tokens))

    assert failed == pricer.price(gpt4o(span, **tokens))
    assert failed.source == "genai-prices"
    assert failed.amount > 0


@pytest.mark.parametrize("status", ["ok", "unset"])
def test_a_call_that_did_not_fail_without_token_counts_stays_unpriced(pricer, span, status):
    line = pricer.price(gpt4o(span, status_code=status))

    assert (line.source, line.amount) == ("unpriced", None)
    assert "usage not reported" in line.detail


def test_a_failed_span_with_nothing_to_price_gets_no_line(pricer, span):
    tool = span(category="llm", provider="openai", operation="execute_tool", status_code="error")
    internal = span(category="other", status_code="error")

    assert pricer.price(tool) is None
    assert pricer.price(internal) is None


def test_a_failed_billable_request_is_priced(pricer, span):
    put = pricer.price(span(category="storage", system="s3", operation="put", status_code="error"))

    assert put.source == "rate_card"
    assert put.amount > 0


@pytest.mark.parametrize("reported", [Decimal("0.002"), Decimal(0)])
def test_a_reported_cost_still_wins(pricer, span, reported):
    line = pricer.price(gpt4o(span, status_code="error", reported_cost=reported))

    assert (line.source, line.amount) == ("reported", reported)


# --- the bulk path ----------------------------------------------------------------------------


def test_bulk_prices_failed_calls_as_the_pricer(pricer, user_pricer, span):
    records = []
    for status in ("error", "ok", "unset"):
        records += [
            gpt4o(span, status_code=status),
            gpt4o(span, status_code=status, input_tokens=10_000, output_tokens=1_000),
            gpt4o(span, status_code=status, input_tokens=0, output_tokens=0),
            gpt4o(span, status_code=status, input_tokens=5, cache_read_tokens=9),  # one by one
            gpt4o(span, status_code=status, reported_cost=Decimal("0.5")),
            gpt4o(span, status_code=status, reported_cost=Decimal(0)),
            gpt4o(span, status_code=status, input_tokens=7, reported_cost=Decimal(0)),
            span(category="llm", provider="acme", request_model="x", status_code=status),
            span(category="llm", provider="acme", request_model="x", input_tokens=3),
            span(
                category="llm",
                provider="vllm",
                request_model="llama-3.1-8b-instruct",
                status_code=status,
            ),
            span(category="llm", provider="openai", operation="execute_tool", status_code=status),
            span(
                category="llm",
                provider="openai",
                operation="execute_tool",
                input_tokens=0,
                status_code=status,
            ),
            span(category="db", system="bigquery", status_code=status),
            span(category="db", system="bigquery", bytes_scanned=0, status_code=status),
            span(category="db", system="bigquery", bytes_scanned=2**40, status_code=status),
            span(
                category="db",
                system="aws.dynamodb",
                operation="GetItem",
                request_units=0.0,
                status_code=status,
            ),
            span(
                category="db",
                system="aws.dynamodb",
                operation="GetItem",
                request_units=2.5,
                status_code=status,
            ),
            span(category="db", system="postgresql", rows=3, status_code=status),
            span(category="storage", system="s3", operation="put", status_code=status),
            span(category="messaging", system="kafka", operation="send", status_code=status),
            span(category="other", system="acme-ocr", status_code=status),
        ]
    same_in_bulk(pricer, records)
    same_in_bulk(user_pricer, records)
    lines = BulkPricer(pricer).price_records(records)
    assert (lines[0].source, lines[0].amount, lines[0].detail) == ("not_billed", 0, DETAIL)
    assert lines[1].source == "genai-prices"


# --- the path every ingest takes --------------------------------------------------------------


def test_a_failed_request_is_not_billed_on_ingest(pricer):
    """An OTLP span with status error and no usage through `prepare_spans` (the path of
    `serve`, `ingest` and the ClickHouse pricing job): a $0 not_billed line."""
    from botanu import semconv as sc
    from botanu.engine.ingest import RawSpan
    from botanu.engine.service import prepare_spans

    def raw(i: int, status: str, **usage: int) -> RawSpan:
        attributes = {sc.GEN_AI_SYSTEM_DEPRECATED: "openai", sc.GEN_AI_REQUEST_MODEL: "gpt-4o"}
        start = 1_763_000_000_000_000_000
        return RawSpan(
            f"{i:032x}",
            f"{i:016x}",
            None,
            "chat",
            "client",
            start,
            start + 1,
            status,
            {**attributes, **usage},
            {},
        )

    tokens = {sc.GEN_AI_USAGE_INPUT_TOKENS: 1_000, sc.GEN_AI_USAGE_OUTPUT_TOKENS: 100}
    table = prepare_spans([raw(1, "error"), raw(2, "error", **tokens), raw(3, "ok")], pricer)
    rows = {int(row["span_id"], 16): row for row in table.to_pylist()}  # rows may regroup

    assert (rows[1]["price_source"], rows[1]["amount"]) == ("not_billed", 0)
    assert rows[1]["price_detail"] == DETAIL
    assert rows[2]["price_source"] == "genai-prices"
    assert (rows[3]["price_source"], rows[3]["amount"]) == ("unpriced", None)
