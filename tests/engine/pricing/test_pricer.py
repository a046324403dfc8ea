"""What the pricer does when it cannot price: unknown usage is unpriced (amount None,
never 0, with the reason), a span with nothing to price gets no line, and the line says
which catalog version it came from."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from botanu.engine.pricing import Pricer, catalog_version, genai_provider_id, price_context

UTC = timezone.utc


def llm_span(span, provider, model, **tokens):
    return span(category="llm", provider=provider, request_model=model, **tokens)


# --- unpriced, never $0 ---------------------------------------------------------------------


def test_an_unknown_model_is_unpriced_not_zero(pricer, span):
    line = pricer.price(llm_span(span, "openai", "gpt-99-turbo", input_tokens=1_000))

    assert line.amount is None
    assert line.source == "unpriced"
    assert (
        line.detail
        == "unknown model: genai-prices has no price for 'gpt-99-turbo' for provider 'openai'"
    )
    assert line.catalog_version == pricer.catalog_version  # a newer catalog may know it


def test_an_unknown_model_is_named_as_each_span_spells_it(span):
    pricer = Pricer()  # its own cache of misses, so the first spelling is this test's
    first = pricer.price(llm_span(span, "openai", "GPT-99-Turbo", input_tokens=1))
    second = pricer.price(llm_span(span, "openai", "gpt-99-turbo", input_tokens=1))

    assert "'GPT-99-Turbo'" in first.detail
    assert "'gpt-99-turbo'" in second.detail


def test_an_unknown_provider_is_unpriced(pricer, span):
    line = pricer.price(llm_span(span, "ibm.watsonx.ai", "granite-3-8b", input_tokens=10))

    assert line.amount is None
    assert line.detail == "unknown provider: genai-prices has no provider 'ibm.watsonx.ai'"


def test_an_azure_deployment_name_is_unpriced_until_the_user_prices_it(pricer, span):
    line = pricer.price(llm_span(span, "azure.ai.openai", "support-bot-prod", input_tokens=10))

    assert line.amount is None
    assert "support-bot-prod" in line.detail


def test_an_llm_call_without_token_counts_is_unpriced(pricer, span):
    # a stream read without usage still cost money: show it, do not drop it
    line = pricer.price(llm_span(span, "openai", "gpt-4o"))

    assert line.amount is None
    assert line.detail == "no token counts on the LLM span (usage not reported)"


def test_an_llm_span_without_a_model_is_unpriced(pricer, span):
    line = pricer.price(span(category="llm", provider="openai", input_tokens=5))

    assert (line.amount, line.detail) == (None, "no model name on the LLM span")


def test_token_counts_that_do_not_add_up_are_unpriced(pricer, span):
    line = pricer.price(
        llm_span(span, "openai", "gpt-4o", input_tokens=100, cache_read_tokens=5_000)
    )

    assert line.amount is None
    assert line.detail.startswith("token counts do not add up: Invalid usage data")


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        (
            {"category": "storage", "system": "minio", "operation": "put"},
            "no rate for storage system 'minio' operation 'put': add one to your rate card",
        ),
        (
            {"category": "messaging", "system": "kafka", "operation": "send", "message_count": 1},
            "no rate for messaging system 'kafka' operation 'send': add one to your rate card",
        ),
        (
            {"category": "db", "system": "snowflake", "bytes_scanned": 10**9},
            "no rate for db system 'snowflake': add one to your rate card",
        ),
        (
            {
                "category": "db",
                "system": "aws.dynamodb",
                "operation": "ExecuteStatement",
                "request_units": 1.0,
            },
            "no rate for db system 'aws.dynamodb' operation 'ExecuteStatement': "
            "add one to your rate card",
        ),
        (
            {"category": "db", "system": "bigquery", "operation": "SELECT"},
            "bigquery on-demand query: needs bytes_scanned, which the span does not report",
        ),
        (
            {
                "category": "db",
                "system": "bigquery",
                "bytes_scanned": 1,
                "at": datetime(2019, 12, 31, tzinfo=UTC),
            },
            "no price in force on 2019-12-31 for db system 'bigquery' "
            "(the first starts 2020-01-01)",
        ),
        (
            {"category": "storage", "object_count": 1},
            "no system name on the storage span",
        ),
    ],
    ids=[
        "unknown storage",
        "kafka",
        "snowflake",
        "unknown dynamodb op",
        "no bytes",
        "too early",
        "no system",
    ],
)
def test_billable_work_without_a_rate_is_unpriced(pricer, span, fields, why):
    line = pricer.price(span(**fields))

    assert line.amount is None
    assert line.source == "unpriced"
    assert line.detail == why


# --- nothing to price: no cost line ---------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"category": "other"},  # an internal span
        {"category": "other", "system": "acme-ocr"},  # no rate, and not billable work we know
        {"category": "db", "system": "postgresql", "operation": "SELECT", "rows": 12},
        {"category": "llm", "provider": "openai", "operation": "execute_tool"},
        {"category": "llm", "provider": "openai", "operation": "invoke_agent"},
    ],
    ids=["internal", "other system", "own sql server", "tool call", "agent span"],
)
def test_a_span_with_nothing_to_price_gets_no_line(pricer, span, fields):
    assert pricer.price(span(**fields)) is None


def test_a_call_whose_usage_is_on_its_inner_span_is_priced_there_only(pricer, span):
    outer = llm_span(span, "anthropic", "claude-sonnet-4-5", input_tokens=100, output_tokens=10)
    outer.attributes = {"botanu.llm.usage_on_child": "true"}

    assert pricer.price(outer) is None
    inner = llm_span(span, "anthropic", "claude-sonnet-4-5", input_tokens=100, output_tokens=10)
    assert pricer.price(inner).amount == Decimal("0.00045")  # (100*3 + 10*15) / 1e6


def test_zero_tokens_is_an_explicit_zero_not_nothing(pricer, span):
    line = pricer.price(llm_span(span, "openai", "gpt-4o", input_tokens=0, output_tokens=0))

    assert line.amount == Decimal(0)
    assert line.source == "genai-prices"


# --- the line carries where its price came from ---------------------------------------------


def test_the_catalog_version_names_the_package_and_a_hash_of_its_data():
    assert re.fullmatch(r"genai-prices==0\.2\.3\+sha256:[0-9a-f]{12}", catalog_version())


def test_a_priced_line_carries_the_span_identity(pricer, span):
    record = llm_span(span, "openai", "gpt-4o", input_tokens=1, output_tokens=1)

    line = pricer.price(record)

    assert (line.trace_id, line.span_id, line.category) == (record.trace_id, record.span_id, "llm")


def test_the_response_model_is_priced_over_the_requested_one(pricer, span):
    line = pricer.price(
        span(
            category="llm",
            provider="openai",
            request_model="gpt-4o",
            response_model="gpt-4o-mini-2024-07-18",
            input_tokens=1_000_000,
        )
    )

    assert line.matched_model == "gpt-4o-mini"
    assert line.amount == Decimal("0.15")  # gpt-4o-mini: $0.15 / 1M input


def test_amounts_are_decimal_even_from_float_request_units(pricer, span):
    line = pricer.price(span(category="db", system="azure.cosmosdb", request_units=0.1))

    assert type(line.amount) is Decimal
    # Cosmos DB serverless: $0.25 per million RUs; 0.1 RU is exactly 0.1, not 0.1000000000000000055
    assert line.amount == Decimal("0.1") * Decimal("0.25") / 1_000_000


def test_the_host_decimal_context_does_not_change_an_amount(pricer, span):
    import decimal

    record = span(category="messaging", system="gcp_pubsub", operation="send", bytes_written=3)
    expected = pricer.price(record).amount
    with decimal.localcontext(decimal.Context(prec=3)):
        assert pricer.price(record).amount == expected


# --- building blocks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("otel", "catalog"),
    [
        ("openai", "openai"),
        ("azure.ai.openai", "azure"),
        ("az.ai.openai", "azure"),
        ("aws.bedrock", "aws"),
        ("gcp.vertex_ai", "google"),
        ("gcp.gemini", "google"),
        ("gcp.gen_ai", "google"),
        ("x_ai", "x-ai"),
        ("mistral_ai", "mistral"),
        ("OpenRouter", "openrouter"),  # not in the map: passed on lower-cased
        (None, None),
    ],
)
def test_provider_names(otel, catalog):
    assert genai_provider_id(otel) == catalog


@pytest.mark.parametrize(
    ("tier", "context"),
    [
        (None, None),
        ("default", None),
        ("auto", None),
        ("standard", None),
        ("flex", {"service_tier": "flex"}),
        ("Priority", {"service_tier": "priority"}),
        ("batch", {"processing": "batch"}),
    ],
)
def test_service_tiers(tier, context):
    assert price_context(tier) == context


def test_a_pricer_reads_a_user_rate_card_from_a_path(rate_card_file):
    path = rate_card_file(
        """
        version: 1
        prices: []
        """
    )

    pricer = Pricer(path)

    assert pricer.user_rate_card is not None
    assert pricer.user_rate_card.entries == ()
    assert pricer.user_rate_card.version.startswith("rates.yaml+sha256:")
