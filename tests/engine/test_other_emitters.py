"""Spans other emitters write, in the shapes their sources emit (versions named per
test; read from each tool's source, not recorded from a run), priced right.

The published botanu SDK (a service still on it): its cache counts (`botanu.usage.*`),
warehouse bytes (`botanu.warehouse.bytes_scanned`), storage counts (`botanu.data.*`) and
message counts are read. The attributes are those its trackers write (botanu-sdk-python at
2026-04-25: `tracking/llm.py`, `tracking/data.py`); its input count is the caller's number
as given: inclusive of cached input for OpenAI, exclusive of cache reads and writes for
Anthropic's raw usage.

Other tools: OpenInference's embeddings, OpenLIT's Anthropic input count (sent without its
cache tokens), and the costs Logfire and LiteLLM compute, taken as reported costs.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from genai_prices import Usage, calc_price

from botanu import semconv as sc
from botanu.engine.ingest import RawSpan, normalize
from botanu.engine.pricing import Pricer

AT = datetime(2026, 11, 2, 12, tzinfo=timezone.utc)
START = int(AT.timestamp()) * 10**9


def span(name: str, attributes: dict[str, object]) -> RawSpan:
    return RawSpan(
        trace_id="1" * 32,
        span_id="2" * 16,
        parent_span_id=None,
        name=name,
        kind="client",
        start_ns=START,
        end_ns=START + 1,
        status_code="unset",
        attributes=attributes,
        resource={},
    )


def llm(vendor: str, model: str, **usage: int) -> dict[str, object]:
    """What its `track_llm_call(vendor=...)` and `set_tokens(...)` write."""
    attributes: dict[str, object] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": vendor,
        "botanu.vendor": vendor,
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": usage.pop("input_tokens"),
        "gen_ai.usage.output_tokens": usage.pop("output_tokens"),
    }
    for key, value in usage.items():  # each cache count only when above 0
        attributes[f"botanu.usage.{key}"] = value
    return attributes


def genai_price(provider: str, model: str, usage: Usage) -> Decimal:
    return calc_price(usage, model, provider_id=provider, genai_request_timestamp=AT).total_price


@pytest.fixture(scope="module")
def pricer() -> Pricer:
    return Pricer()


def test_openai_cached_input_is_priced_at_the_cached_rate(pricer):
    # set_tokens(input_tokens=100_000, output_tokens=1_000, cache_read_tokens=80_000)
    # writes the cache read under both of its names
    attributes = llm(
        "openai",
        "gpt-4o",
        input_tokens=100_000,
        output_tokens=1_000,
        cached_tokens=80_000,
        cache_read_tokens=80_000,
    )
    line = pricer.price(normalize(span("chat gpt-4o", attributes)))

    usage = Usage(input_tokens=100_000, cache_read_tokens=80_000, output_tokens=1_000)
    assert line.amount == genai_price("openai", "gpt-4o", usage)
    assert line.amount == Decimal("0.16")  # $0.26 if the cached input were billed in full


def test_openai_cached_tokens_alone_count_as_cache_reads(pricer):
    attributes = llm(
        "openai", "gpt-4o", input_tokens=100_000, output_tokens=1_000, cached_tokens=80_000
    )
    line = pricer.price(normalize(span("chat gpt-4o", attributes)))

    assert line.amount == Decimal("0.16")


def test_anthropic_cache_reads_and_writes_are_priced(pricer):
    # Anthropic's raw usage: input_tokens excludes the cache reads and writes
    attributes = llm(
        "anthropic",
        "claude-sonnet-4-5",
        input_tokens=1_000,
        output_tokens=1_000,
        cache_read_tokens=100_000,
        cache_write_tokens=10_000,
    )
    line = pricer.price(normalize(span("chat claude", attributes)))

    usage = Usage(
        input_tokens=111_000,
        cache_read_tokens=100_000,
        cache_write_tokens=10_000,
        output_tokens=1_000,
    )
    assert line.amount == genai_price("anthropic", "claude-sonnet-4-5", usage)


def test_warehouse_bytes_scanned_price_a_bigquery_query(pricer):
    # DBTracker(system="bigquery").set_bytes_scanned(10**12): one TB scanned
    attributes = {
        "db.system": "bigquery",
        "db.operation": "SELECT",
        "botanu.warehouse.bytes_scanned": 10**12,
    }
    record = normalize(span("SELECT", attributes))
    line = pricer.price(record)

    assert record.bytes_scanned == 10**12
    # the shipped rate card: $6.25 per TiB scanned on demand; 10**12 * 6.25 / 2**40 exactly
    assert line.amount == Decimal("5.684341886080801486968994140625")


def test_a_storage_write_counts_its_objects(pricer):
    # StorageTracker(system="s3", operation="PUT").set_result(objects_count=1000, ...)
    attributes = {
        "botanu.storage.system": "s3",
        "botanu.storage.operation": "PUT",
        "botanu.data.objects_count": 1_000,
        "botanu.data.bytes_written": 10**9,
    }
    record = normalize(span("PUT", attributes))
    one = normalize(span("PUT", {k: v for k, v in attributes.items() if "objects" not in k}))

    assert (record.object_count, record.bytes_written) == (1_000, 10**9)
    assert pricer.price(record).amount == 1_000 * pricer.price(one).amount


def test_rows_and_messages_are_read():
    rows = normalize(span("q", {"db.system": "postgresql", sc.PUBLISHED_DATA_ROWS_RETURNED: 7}))
    sent = normalize(
        span(
            "send",
            {
                "messaging.system": "aws_sqs",
                "messaging.operation.type": "send",
                sc.PUBLISHED_MESSAGING_MESSAGE_COUNT: 12,
            },
        )
    )

    assert rows.rows == 7
    assert sent.message_count == 12


def test_its_anthropic_input_is_exclusive_even_when_above_the_cache_counts(pricer):
    # set_tokens(input_tokens=100, cache_read_tokens=80, cache_write_tokens=20), as its own
    # unit test for Anthropic: the input is Anthropic's, without the 100 cached tokens
    attributes = llm(
        "anthropic",
        "claude-sonnet-4-5",
        input_tokens=100,
        output_tokens=10,
        cached_tokens=80,
        cache_read_tokens=80,
        cache_write_tokens=20,
    )
    record = normalize(span("chat claude", attributes))

    assert record.input_tokens == 200
    usage = Usage(input_tokens=200, cache_read_tokens=80, cache_write_tokens=20, output_tokens=10)
    expected = genai_price("anthropic", "claude-sonnet-4-5", usage)
    assert pricer.price(record).amount == expected


def test_our_own_spans_keep_an_inclusive_input():
    # botanu's own trackers write input inclusive of cache, and never botanu.vendor
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-sonnet-4-5",
        "gen_ai.usage.input_tokens": 100,
        "gen_ai.usage.output_tokens": 10,
        "gen_ai.usage.cache_read.input_tokens": 80,
        "gen_ai.usage.cache_write.input_tokens": 20,
    }
    assert normalize(span("chat claude", attributes)).input_tokens == 100


def test_its_azure_openai_spelling_is_priced_as_azure(pricer):
    attributes = llm("azure.openai", "gpt-4o", input_tokens=1_000, output_tokens=100)
    line = pricer.price(normalize(span("chat gpt-4o", attributes)))

    usage = Usage(input_tokens=1_000, output_tokens=100)
    assert line.amount == genai_price("azure", "gpt-4o", usage)
    assert line.matched_provider == "azure"


# --- other tools ---------------------------------------------------------------------------


def test_openinference_embeddings_are_priced(pricer):
    # openinference-instrumentation-openai 0.1.54: embeddings name no llm.model_name
    attributes = {
        "openinference.span.kind": "EMBEDDING",
        "embedding.model_name": "text-embedding-3-small",
        "llm.token_count.prompt": 1_000,
        "llm.token_count.total": 1_000,
        "llm.system": "openai",
        "llm.provider": "openai",
    }
    record = normalize(span("CreateEmbeddings", attributes))
    line = pricer.price(record)

    assert (record.category, record.model, record.input_tokens) == (
        "llm",
        "text-embedding-3-small",
        1_000,
    )
    usage = Usage(input_tokens=1_000)
    assert line.amount == genai_price("openai", "text-embedding-3-small", usage)
    assert line.source == "genai-prices"


def test_openlits_anthropic_input_is_read_with_its_cache_tokens(pricer):
    # OpenLIT 1.45.0 (instrumentation/anthropic/utils.py): Anthropic's raw input_tokens,
    # the cache counts beside it even when 0, and its cost (0 for a model it cannot price)
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": "anthropic",
        "gen_ai.request.model": "claude-sonnet-4-5",
        "gen_ai.usage.input_tokens": 100,
        "gen_ai.usage.output_tokens": 10,
        "gen_ai.usage.cache_read.input_tokens": 80,
        "gen_ai.usage.cache_creation.input_tokens": 20,
        "gen_ai.client.token.usage": 110,
        "gen_ai.usage.cost": 0,
    }
    record = normalize(span("chat claude-sonnet-4-5", attributes))
    line = pricer.price(record)

    assert record.input_tokens == 200
    usage = Usage(input_tokens=200, cache_read_tokens=80, cache_write_tokens=20, output_tokens=10)
    assert line.amount == genai_price("anthropic", "claude-sonnet-4-5", usage)
    assert "reported 0 ignored" in line.detail


def test_openlits_other_providers_keep_an_inclusive_input():
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 100,
        "gen_ai.usage.output_tokens": 10,
        "gen_ai.usage.cache_read.input_tokens": 80,
        "gen_ai.client.token.usage": 110,
    }
    assert normalize(span("chat gpt-4o", attributes)).input_tokens == 100


@pytest.mark.parametrize(
    ("name", "attributes"),
    [
        # logfire 4.41.0 (llm_providers): USD from genai-prices, on the request span
        (
            "Chat Completion with 'gpt-4o'",
            {
                "gen_ai.system": "openai",
                "gen_ai.provider.name": "openai",
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.response.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 1_000,
                "gen_ai.usage.output_tokens": 100,
                "operation.cost": 0.00035,
            },
        ),
        # litellm 1.110.2 (integrations/opentelemetry.py): its cost breakdown, USD
        (
            "litellm_request",
            {
                "gen_ai.system": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 1_000,
                "gen_ai.usage.output_tokens": 100,
                "gen_ai.cost.total_cost": 0.00035,
                "gen_ai.cost.input_cost": 0.00025,
            },
        ),
        # the same with LITELLM_OTEL_V2 (otel/mappers/genai.py)
        (
            "chat gpt-4o",
            {
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 1_000,
                "gen_ai.usage.output_tokens": 100,
                "litellm.cost.total": 0.00035,
            },
        ),
    ],
    ids=["logfire", "litellm", "litellm-v2"],
)
def test_a_cost_the_tool_computed_is_taken_as_reported(pricer, name, attributes):
    line = pricer.price(normalize(span(name, attributes)))

    assert (line.source, line.amount) == ("reported", Decimal("0.00035"))
