"""A reported cost of exactly 0 on a span that carries usage is not trusted (OpenLIT
reports 0 whenever it has no price list): the span is priced from the catalog as if
nothing were reported, or left unpriced, and the line's detail keeps the reported 0.
A positive reported cost still wins; a 0 on a span without usage stays a reported $0.
The bulk pricer gives the same lines, span by span."""

from __future__ import annotations

from decimal import Decimal

import pytest

from botanu.engine.pricing._bulk import BulkPricer

from .conftest import gpt4o, same_in_bulk

NOTE = "reported 0 ignored: the span carries usage"


# --- priced from the catalog ------------------------------------------------------------------


def test_a_reported_zero_with_tokens_is_priced_from_genai_prices(pricer, span):
    tokens = {"input_tokens": 10_000, "output_tokens": 1_000}
    line = pricer.price(gpt4o(span, reported_cost=Decimal(0), **tokens))
    catalog = pricer.price(gpt4o(span, **tokens))

    assert line.source == "genai-prices"
    assert line.amount == catalog.amount > 0
    assert line.detail == (f"{catalog.detail}; {NOTE}" if catalog.detail else NOTE)
    assert line.estimated is True  # a catalog price, not the tool's figure


def test_the_user_rate_card_prices_a_reported_zero(user_pricer, span):
    line = user_pricer.price(
        span(
            category="llm",
            provider="vllm",
            request_model="llama-3.1-8b-instruct",
            input_tokens=1_000_000,
            output_tokens=1_000_000,
            reported_cost=Decimal(0),
        )
    )

    assert (line.source, line.amount) == ("user_rate_card", Decimal("0.15"))
    assert line.detail.endswith(f"; {NOTE}")


def test_a_reported_zero_the_catalog_cannot_price_is_unpriced_not_zero(pricer, span):
    line = pricer.price(
        span(
            category="llm",
            provider="acme",
            request_model="acme-large",
            input_tokens=10,
            reported_cost=Decimal("0.00"),
        )
    )

    assert (line.source, line.amount) == ("unpriced", None)
    assert "acme" in line.detail
    assert line.detail.endswith(f"; {NOTE}")


def test_a_reported_zero_on_priced_work_is_priced_from_the_rate_card(pricer, span):
    scan = span(category="db", system="bigquery", bytes_scanned=2**40, reported_cost=Decimal(0))
    put = span(category="storage", system="s3", operation="put", reported_cost=Decimal(0))

    for record in (scan, put):
        line = pricer.price(record)
        assert line.source == "rate_card", record
        assert line.amount > 0
        assert line.detail.endswith(f"; {NOTE}")


def test_a_reported_zero_on_unknown_billable_work_is_unpriced(pricer, span):
    line = pricer.price(
        span(category="messaging", system="kafka", operation="send", reported_cost=Decimal(0))
    )

    assert (line.source, line.amount) == ("unpriced", None)
    assert line.detail.endswith(f"; {NOTE}")


def test_a_reported_cost_that_the_store_keeps_as_zero_counts_as_zero(pricer, span):
    # beyond 18 places: stored as 0, so it is read as the 0 it will be
    line = pricer.price(gpt4o(span, input_tokens=100, reported_cost=Decimal("1e-20")))

    assert line.source == "genai-prices"


# --- trusted as before ------------------------------------------------------------------------


def test_a_positive_reported_cost_still_wins(pricer, span):
    line = pricer.price(gpt4o(span, input_tokens=10_000, reported_cost=Decimal("0.0001")))

    assert (line.source, line.amount) == ("reported", Decimal("0.0001"))
    assert line.detail == "cost reported on the span"


@pytest.mark.parametrize(
    "fields",
    [
        {"category": "llm", "provider": "openai", "request_model": "gpt-4o"},  # no counts
        {
            "category": "llm",
            "provider": "openai",
            "request_model": "gpt-4o",
            "input_tokens": 0,
            "output_tokens": 0,
        },
        {"category": "llm", "provider": "acme", "request_model": "x", "output_tokens": 0},
        {"category": "db", "system": "bigquery", "bytes_scanned": 0},  # a cached query
        {"category": "db", "system": "postgresql", "operation": "SELECT", "rows": 3},
        {"category": "other", "system": "acme-ocr"},
    ],
)
def test_a_reported_zero_without_usage_is_a_reported_zero(pricer, span, fields):
    line = pricer.price(span(reported_cost=Decimal(0), **fields))

    assert (line.source, line.amount) == ("reported", Decimal(0))
    assert line.detail == "cost reported on the span"


# --- the bulk path ----------------------------------------------------------------------------


def test_bulk_prices_reported_zeros_as_the_pricer(pricer, user_pricer, span):
    zero = Decimal(0)
    records = [
        gpt4o(span, input_tokens=10_000, output_tokens=1_000, reported_cost=zero),
        gpt4o(span, input_tokens=10_000, output_tokens=1_000),
        gpt4o(span, input_tokens=10_000, reported_cost=Decimal("0.25")),
        gpt4o(span, reported_cost=zero),
        gpt4o(span, input_tokens=0, output_tokens=0, reported_cost=zero),
        gpt4o(span, input_tokens=5, cache_read_tokens=9, reported_cost=zero),  # one by one
        span(
            category="llm", provider="acme", request_model="x", input_tokens=3, reported_cost=zero
        ),
        span(
            category="llm",
            provider="vllm",
            request_model="llama-3.1-8b-instruct",
            input_tokens=7,
            reported_cost=zero,
        ),
        span(category="db", system="bigquery", bytes_scanned=2**40, reported_cost=zero),
        span(category="db", system="bigquery", bytes_scanned=123_456_789, reported_cost=zero),
        span(category="db", system="bigquery", bytes_scanned=0, reported_cost=zero),
        span(category="db", system="bigquery", rows=5, reported_cost=zero),
        span(
            category="db",
            system="aws.dynamodb",
            operation="GetItem",
            request_units=2.5,
            reported_cost=zero,
        ),
        span(category="db", system="postgresql", rows=3, reported_cost=zero),
        span(category="storage", system="s3", operation="put", reported_cost=zero),
        span(category="storage", system="minio", operation="put", reported_cost=zero),
        span(category="messaging", system="kafka", operation="send", reported_cost=zero),
        span(category="messaging", system="gcp_pubsub", operation="send", reported_cost=zero),
        span(category="other", system="acme-ocr", reported_cost=zero),
    ]
    same_in_bulk(pricer, records)
    same_in_bulk(user_pricer, records)
    lines = BulkPricer(pricer).price_records(records)
    assert lines[0].source == "genai-prices"
    assert lines[0].detail.endswith(NOTE)
    assert lines[3].source == "reported"
    assert lines[8].detail.endswith(NOTE)


# --- the path every ingest takes --------------------------------------------------------------


def test_an_openlit_span_offline_is_priced_on_ingest(pricer):
    """OpenLIT's `gen_ai.usage.cost = 0` (no price list) through `prepare_spans`, the path
    of `serve`, `ingest` and the ClickHouse pricing job: priced, the 0 noted."""
    from botanu import semconv as sc
    from botanu.engine.ingest import RawSpan
    from botanu.engine.service import prepare_spans

    def raw(i: int, **usage: int) -> RawSpan:
        attributes = {
            sc.GEN_AI_SYSTEM_DEPRECATED: "openai",
            sc.GEN_AI_REQUEST_MODEL: "gpt-4o",
            sc.OPENLIT_COST: 0.0,
            **usage,
        }
        start = 1_763_000_000_000_000_000
        return RawSpan(
            f"{i:032x}",
            f"{i:016x}",
            None,
            "chat",
            "client",
            start,
            start + 1,
            "unset",
            attributes,
            {},
        )

    rows = prepare_spans(
        [
            raw(1, **{sc.GEN_AI_USAGE_INPUT_TOKENS: 1_000, sc.GEN_AI_USAGE_OUTPUT_TOKENS: 100}),
            raw(2),  # no usage: a reported $0
        ],
        pricer,
    ).to_pylist()

    assert rows[0]["price_source"] == "genai-prices"
    assert rows[0]["amount"] > 0
    assert rows[0]["price_detail"].endswith(NOTE)
    assert (rows[1]["price_source"], rows[1]["amount"]) == ("reported", 0)
