"""Spans other tools write, in the shapes their sources emit (versions named per test),
priced right: OpenInference's embeddings, OpenLIT's Anthropic input count (sent without
its cache tokens), and the costs Logfire and LiteLLM compute, taken as reported costs.
Shapes are read from each tool's source at the version named, not recorded from a run."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from genai_prices import Usage, calc_price

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


def genai_price(provider: str, model: str, usage: Usage) -> Decimal:
    return calc_price(usage, model, provider_id=provider, genai_request_timestamp=AT).total_price


@pytest.fixture(scope="module")
def pricer() -> Pricer:
    return Pricer()


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
