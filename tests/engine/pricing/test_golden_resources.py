"""Golden non-LLM cases from the shipped rate card: warehouse bytes scanned, storage
requests, queue messages and DB request units. Each expected amount is worked out here
from the published list price (written out as a literal) and compared exactly.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

UTC = timezone.utc
TIB = 2**40  # BigQuery and Pub/Sub price per TiB: 2^40 bytes
MIB = 2**20


def work(category: str, system: str, operation: str | None = None, **fields: Any) -> dict[str, Any]:
    return {"category": category, "system": system, "operation": operation, **fields}


GOLDEN = [
    # --- warehouse bytes scanned ------------------------------------------------------------
    pytest.param(
        work("db", "bigquery", "SELECT", bytes_scanned=TIB // 2),
        # BigQuery on-demand: $6.25 per TiB scanned
        Decimal(TIB // 2) * Decimal("6.25") / TIB,
        date(2023, 7, 5),
        id="bigquery half a TiB",
    ),
    pytest.param(
        work("db", "bigquery", "SELECT", bytes_scanned=10 * MIB),
        # BigQuery on-demand: $6.25 per TiB; 10 MiB is the per-table minimum a query bills
        Decimal(10 * MIB) * Decimal("6.25") / TIB,
        date(2023, 7, 5),
        id="bigquery 10 MiB",
    ),
    pytest.param(
        work("db", "gcp.bigquery", bytes_scanned=3 * TIB, at=datetime(2023, 7, 4, 23, tzinfo=UTC)),
        # BigQuery on-demand before 2023-07-05: $5 per TiB
        3 * Decimal("5.00"),
        date(2020, 1, 1),
        id="bigquery the day before the 2023 price rise",
    ),
    pytest.param(
        work("db", "bigquery", bytes_scanned=3 * TIB, at=datetime(2023, 7, 5, tzinfo=UTC)),
        # BigQuery on-demand from 2023-07-05: $6.25 per TiB
        3 * Decimal("6.25"),
        date(2023, 7, 5),
        id="bigquery the day of the 2023 price rise",
    ),
    # --- DB request units ---------------------------------------------------------------------
    pytest.param(
        work("db", "aws.dynamodb", "GetItem", request_units=2.5),
        # DynamoDB on-demand reads from 2024-11-01: $0.125 per million read request units
        Decimal("2.5") * Decimal("0.125") / 1_000_000,
        date(2024, 11, 1),
        id="dynamodb read request units",
    ),
    pytest.param(
        work("db", "aws.dynamodb", "PutItem", request_units=10.0),
        # DynamoDB on-demand writes from 2024-11-01: $0.625 per million write request units
        10 * Decimal("0.625") / 1_000_000,
        date(2024, 11, 1),
        id="dynamodb write request units",
    ),
    pytest.param(
        work("db", "dynamodb", "PutItem", request_units=10.0, at=datetime(2024, 6, 1, tzinfo=UTC)),
        # DynamoDB on-demand writes before 2024-11-01: $1.25 per million write request units
        10 * Decimal("1.25") / 1_000_000,
        date(2018, 11, 28),
        id="dynamodb writes before the 2024 price cut",
    ),
    pytest.param(
        work("db", "azure.cosmosdb", "read_item", request_units=2.86),
        # Cosmos DB serverless: $0.25 per million RUs (2.86 RU, as the SDK reports it)
        Decimal("2.86") * Decimal("0.25") / 1_000_000,
        date(2022, 1, 1),
        id="cosmos db request units",
    ),
    # --- object storage requests --------------------------------------------------------------
    pytest.param(
        work("storage", "s3", "PutObject", object_count=3, bytes_written=4096),
        # S3 Standard: $0.005 per 1,000 PUT requests; the bytes written cost nothing per span
        3 * Decimal("0.005") / 1_000,
        date(2020, 1, 1),
        id="s3 put three objects",
    ),
    pytest.param(
        work("storage", "s3", "get", bytes_read=1_000_000),
        # S3 Standard: $0.0004 per 1,000 GET requests; one object when the span does not say
        Decimal("0.0004") / 1_000,
        date(2020, 1, 1),
        id="s3 get one object",
    ),
    pytest.param(
        work("storage", "s3", "list"),
        # S3 Standard: LIST is a $0.005 per 1,000 request
        Decimal("0.005") / 1_000,
        date(2020, 1, 1),
        id="s3 list",
    ),
    pytest.param(
        work("storage", "s3", "HeadObject"),
        # S3 Standard: "all other requests" are $0.0004 per 1,000
        Decimal("0.0004") / 1_000,
        date(2020, 1, 1),
        id="s3 other request",
    ),
    pytest.param(
        work("storage", "s3", "delete", object_count=100),
        # S3: DELETE requests are free
        Decimal(0),
        date(2020, 1, 1),
        id="s3 delete is free",
    ),
    pytest.param(
        work("storage", "gcs", "upload", object_count=2_000),
        # Cloud Storage Standard: $0.005 per 1,000 Class A operations
        2_000 * Decimal("0.005") / 1_000,
        date(2020, 1, 1),
        id="gcs class A writes",
    ),
    pytest.param(
        work("storage", "gcs", "download", object_count=10),
        # Cloud Storage Standard: $0.0004 per 1,000 Class B operations
        10 * Decimal("0.0004") / 1_000,
        date(2020, 1, 1),
        id="gcs class B reads",
    ),
    # --- queue messages -----------------------------------------------------------------------
    pytest.param(
        work("messaging", "aws_sqs", "send", message_count=10),
        # SQS standard: $0.40 per million requests; a batch send of 10 is one request
        Decimal("0.40") / 1_000_000,
        date(2020, 1, 1),
        id="sqs batch send",
    ),
    pytest.param(
        work("messaging", "aws_sqs", "receive", message_count=1),
        # SQS standard: $0.40 per million requests
        Decimal("0.40") / 1_000_000,
        date(2020, 1, 1),
        id="sqs receive",
    ),
    pytest.param(
        work("messaging", "aws_sqs", "process", message_count=1),
        # processing a received message makes no SQS request
        Decimal(0),
        date(2020, 1, 1),
        id="sqs process is no request",
    ),
    pytest.param(
        work("messaging", "aws.sns", "send", message_count=1),
        # SNS standard topics: $0.50 per million publishes
        Decimal("0.50") / 1_000_000,
        date(2020, 1, 1),
        id="sns publish",
    ),
    pytest.param(
        work("messaging", "gcp_pubsub", "send", message_count=1, bytes_written=200),
        # Pub/Sub: $40 per TiB, at least 1000 bytes per publish request
        1_000 * Decimal(40) / TIB,
        date(2020, 1, 1),
        id="pubsub small message billed the 1000-byte minimum",
    ),
    pytest.param(
        work("messaging", "gcp_pubsub", "receive", message_count=1, bytes_written=MIB),
        # Pub/Sub: $40 per TiB of delivery throughput
        MIB * Decimal(40) / TIB,
        date(2020, 1, 1),
        id="pubsub one MiB delivered",
    ),
]


@pytest.mark.parametrize(("fields", "expected", "effective"), GOLDEN)
def test_golden_resource_price(pricer, span, fields, expected, effective):
    line = pricer.price(span(**fields))

    assert line.source == "rate_card"
    assert isinstance(line.amount, Decimal)
    assert line.amount == expected
    assert line.effective_date == effective
    assert line.matched_provider == fields["system"]
    assert line.catalog_version.startswith("botanu/rate_card.yaml+sha256:")


def test_the_detail_says_what_was_priced(pricer, span):
    line = pricer.price(span(**work("db", "bigquery", bytes_scanned=TIB // 2)))

    assert line.detail == (
        "549755813888 bytes_scanned at 6.25 per 1099511627776 (bigquery on-demand query)"
    )


# --- a cost reported on the span wins ------------------------------------------------------


def test_a_reported_cost_beats_every_price(pricer, span):
    line = pricer.price(
        span(
            category="llm",
            provider="openai",
            request_model="gpt-4o",
            input_tokens=10_000,
            output_tokens=1_000,
            reported_cost=Decimal("0.0123"),
        )
    )

    assert line.amount == Decimal("0.0123")
    assert line.source == "reported"
    assert line.estimated is False


def test_a_reported_cost_prices_an_unknown_model(pricer, span):
    line = pricer.price(
        span(
            category="llm",
            provider="acme",
            request_model="acme-large",
            input_tokens=1,
            reported_cost=Decimal("0.5"),
        )
    )

    assert (line.amount, line.source) == (Decimal("0.5"), "reported")


def test_a_reported_cost_on_non_llm_work(pricer, span):
    line = pricer.price(
        span(**work("db", "snowflake", bytes_scanned=10**9), reported_cost=Decimal("0.02"))
    )

    assert (line.amount, line.source) == (Decimal("0.02"), "reported")


# --- the user's rate card -------------------------------------------------------------------

USER_CARD = """
version: 1
prices:
  - name: negotiated gpt-4o
    category: llm
    provider: openai
    model: gpt-4o
    input_mtok: "2.00"
    cache_read_mtok: "1.00"
    output_mtok: "8.00"
    effective_from: 2026-01-01
    source: Acme enterprise agreement, schedule B
  - name: anthropic committed-use discount
    category: llm
    provider: anthropic
    multiplier: "0.80"
    effective_from: 2026-01-01
    source: Acme / Anthropic order form 2026
  - name: our fine-tune
    category: llm
    model: "ft:gpt-4o-mini:acme::*"
    input_mtok: "0.30"
    cache_read_mtok: "0.15"
    output_mtok: "1.20"
    effective_from: 2025-01-01
    source: https://openai.com/api/pricing/ (fine-tuned gpt-4o-mini)
  - name: self-hosted llama
    category: llm
    provider: vllm
    model: llama-3.1-8b-instruct
    input_mtok: "0.05"
    output_mtok: "0.10"
    effective_from: 2025-01-01
    source: GPU hours / measured tokens, FinOps sheet 2025-Q1
  - name: s3 PUT under our private pricing
    category: storage
    system: s3
    operation: [put, putobject]
    unit: objects
    per: 1000
    price: "0.004"
    effective_from: 2025-01-01
    source: AWS private pricing addendum
  - name: gcp discount
    category: storage
    system: gcs
    multiplier: "0.9"
    effective_from: 2025-01-01
    source: GCP commit
  - name: ocr pages
    category: other
    system: acme-ocr
    unit: requests
    price: "0.002"
    effective_from: 2025-01-01
    source: acme-ocr price list
  - name: ocr pages
    category: other
    system: acme-ocr
    unit: requests
    price: "0.0015"
    effective_from: 2026-06-01
    source: acme-ocr price list, June 2026
"""

MILLION = Decimal(1_000_000)


def mtok(tokens: int, usd_per_million: str) -> Decimal:
    return Decimal(tokens) * Decimal(usd_per_million) / MILLION


@pytest.fixture(scope="module")
def user_pricer(tmp_path_factory):
    from botanu.engine.pricing import Pricer

    path = tmp_path_factory.mktemp("cards") / "acme.yaml"
    path.write_text(USER_CARD.lstrip("\n"))
    return Pricer(path)


USER_GOLDEN = [
    pytest.param(
        {
            "category": "llm",
            "provider": "openai",
            "request_model": "gpt-4o",
            "input_tokens": 10_000,
            "cache_read_tokens": 4_000,
            "output_tokens": 1_000,
        },
        # negotiated gpt-4o: $2 input, $1 cached, $8 output (list: $2.50 / $1.25 / $10)
        mtok(6_000, "2.00") + mtok(4_000, "1.00") + mtok(1_000, "8.00"),
        id="user price for gpt-4o beats genai-prices",
    ),
    pytest.param(
        {
            "category": "llm",
            "provider": "anthropic",
            "request_model": "claude-sonnet-4-5",
            "input_tokens": 100_000,
            "cache_read_tokens": 50_000,
            "cache_write_tokens": 30_000,
            "cache_write_1h_tokens": 10_000,
            "output_tokens": 2_000,
        },
        # claude-sonnet-4-5 list: $3 input, $0.30 read, $3.75 5m write, $6 1h write, $15 out;
        # times the negotiated 0.80
        (
            mtok(20_000, "3")
            + mtok(50_000, "0.30")
            + mtok(20_000, "3.75")
            + mtok(10_000, "6")
            + mtok(2_000, "15")
        )
        * Decimal("0.80"),
        id="negotiated discount on genai-prices",
    ),
    pytest.param(
        {
            "category": "llm",
            "provider": "openai",
            "request_model": "ft:gpt-4o-mini:acme::abc123",
            "input_tokens": 10_000,
            "cache_read_tokens": 2_000,
            "output_tokens": 1_000,
        },
        # fine-tuned gpt-4o-mini: $0.30 input, $0.15 cached, $1.20 output
        mtok(8_000, "0.30") + mtok(2_000, "0.15") + mtok(1_000, "1.20"),
        id="fine-tuned model",
    ),
    pytest.param(
        {
            "category": "llm",
            "provider": "vllm",
            "request_model": "llama-3.1-8b-instruct",
            "input_tokens": 100_000,
            "output_tokens": 20_000,
        },
        # self-hosted: $0.05 input, $0.10 output
        mtok(100_000, "0.05") + mtok(20_000, "0.10"),
        id="self-hosted model",
    ),
    pytest.param(
        {"category": "storage", "system": "s3", "operation": "put", "object_count": 5},
        # private S3 PUT price: $0.004 per 1,000 (list: $0.005)
        5 * Decimal("0.004") / 1_000,
        id="user storage price beats the shipped card",
    ),
    pytest.param(
        {"category": "storage", "system": "gcs", "operation": "upload", "object_count": 1_000},
        # Cloud Storage Class A $0.005 per 1,000, times the 0.9 commitment discount
        1_000 * Decimal("0.005") / 1_000 * Decimal("0.9"),
        id="user multiplier on the shipped card",
    ),
    pytest.param(
        {"category": "other", "system": "acme-ocr", "at": datetime(2026, 5, 31, tzinfo=UTC)},
        # acme-ocr: $0.002 per request until 2026-06-01
        Decimal("0.002"),
        id="custom resource before its price change",
    ),
    pytest.param(
        {"category": "other", "system": "acme-ocr", "at": datetime(2026, 6, 1, tzinfo=UTC)},
        # acme-ocr: $0.0015 per request from 2026-06-01
        Decimal("0.0015"),
        id="custom resource after its price change",
    ),
]


@pytest.mark.parametrize(("fields", "expected"), USER_GOLDEN)
def test_golden_user_rate_card(user_pricer, span, fields, expected):
    line = user_pricer.price(span(**fields))

    assert line.source == "user_rate_card"
    assert line.amount == expected
    assert "acme.yaml+sha256:" in line.catalog_version


def test_a_user_entry_not_yet_in_force_leaves_genai_prices(user_pricer, span):
    line = user_pricer.price(
        span(
            category="llm",
            provider="openai",
            request_model="gpt-4o",
            input_tokens=1_000,
            output_tokens=1_000,
            at=datetime(2025, 12, 31, tzinfo=UTC),
        )
    )

    # gpt-4o list: $2.50 input, $10 output
    assert line.source == "genai-prices"
    assert line.amount == mtok(1_000, "2.50") + mtok(1_000, "10")


def test_a_discounted_line_names_both_catalogs_and_the_discount(user_pricer, span):
    line = user_pricer.price(
        span(
            category="llm",
            provider="anthropic",
            request_model="claude-haiku-4-5",
            input_tokens=1_000,
            output_tokens=1_000,
        )
    )

    assert line.catalog_version.startswith(user_pricer.catalog_version + ";acme.yaml+sha256:")
    assert line.matched_model == "claude-haiku-4-5"
    assert line.effective_date == date(2026, 1, 1)
    assert "multiplied by 0.80 (anthropic committed-use discount" in line.detail
