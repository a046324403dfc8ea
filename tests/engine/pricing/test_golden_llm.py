"""Golden LLM cases: each expected amount is worked out here by hand from the provider's
published per-million-token prices (written out as literals) and compared exactly with
what the pricer gets from genai-prices. Input counts include cache reads and writes;
output counts include reasoning, as OpenTelemetry reports them.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

MILLION = Decimal(1_000_000)
UTC = timezone.utc


def mtok(tokens: int, usd_per_million: str) -> Decimal:
    """`tokens` at a published $ / 1M-token price, exactly."""
    return Decimal(tokens) * Decimal(usd_per_million) / MILLION


def llm(
    provider: str,
    model: str,
    *,
    tokens_in: int,
    tokens_out: int,
    cache_read: int | None = None,
    cache_write: int | None = None,
    cache_write_1h: int | None = None,
    reasoning: int | None = None,
    tier: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "category": "llm",
        "provider": provider,
        "request_model": model,
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "cache_read_tokens": cache_read,
        "cache_write_tokens": cache_write,
        "cache_write_1h_tokens": cache_write_1h,
        "reasoning_tokens": reasoning,
        "service_tier": tier,
    }
    if at is not None:
        fields["at"] = at
    return fields


GOLDEN = [
    # --- OpenAI -----------------------------------------------------------------------------
    pytest.param(
        llm("openai", "gpt-4o", tokens_in=10_000, cache_read=4_000, tokens_out=1_000),
        # gpt-4o: $2.50 / 1M input, $1.25 / 1M cached input, $10 / 1M output
        mtok(6_000, "2.50") + mtok(4_000, "1.25") + mtok(1_000, "10"),
        "gpt-4o",
        id="openai gpt-4o with cached input",
    ),
    pytest.param(
        llm("openai", "gpt-4o-2024-08-06", tokens_in=1_000, tokens_out=500),
        # gpt-4o (dated snapshot): $2.50 / 1M input, $10 / 1M output
        mtok(1_000, "2.50") + mtok(500, "10"),
        "gpt-4o",
        id="openai gpt-4o dated snapshot name",
    ),
    pytest.param(
        llm("openai", "gpt-4o-mini", tokens_in=20_000, cache_read=5_000, tokens_out=2_000),
        # gpt-4o-mini: $0.15 / 1M input, $0.075 cached, $0.60 output
        mtok(15_000, "0.15") + mtok(5_000, "0.075") + mtok(2_000, "0.60"),
        "gpt-4o-mini",
        id="openai gpt-4o-mini with cached input",
    ),
    pytest.param(
        llm("openai", "gpt-4.1", tokens_in=8_000, cache_read=2_000, tokens_out=1_000),
        # gpt-4.1: $2 / 1M input, $0.50 cached, $8 output
        mtok(6_000, "2") + mtok(2_000, "0.50") + mtok(1_000, "8"),
        "gpt-4.1",
        id="openai gpt-4.1",
    ),
    pytest.param(
        llm("openai", "gpt-4.1-mini", tokens_in=30_000, cache_read=10_000, tokens_out=3_000),
        # gpt-4.1-mini: $0.40 / 1M input, $0.10 cached, $1.60 output
        mtok(20_000, "0.40") + mtok(10_000, "0.10") + mtok(3_000, "1.60"),
        "gpt-4.1-mini",
        id="openai gpt-4.1-mini",
    ),
    pytest.param(
        llm(
            "openai", "gpt-5", tokens_in=12_000, cache_read=8_000, tokens_out=4_000, reasoning=3_000
        ),
        # gpt-5: $1.25 / 1M input, $0.125 cached, $10 output (reasoning billed as output)
        mtok(4_000, "1.25") + mtok(8_000, "0.125") + mtok(4_000, "10"),
        "gpt-5",
        id="openai gpt-5 reasoning tokens",
    ),
    pytest.param(
        llm("openai", "gpt-5-mini", tokens_in=9_000, tokens_out=6_000, reasoning=5_000),
        # gpt-5-mini: $0.25 / 1M input, $2 output (reasoning billed as output)
        mtok(9_000, "0.25") + mtok(6_000, "2"),
        "gpt-5-mini",
        id="openai gpt-5-mini reasoning tokens",
    ),
    pytest.param(
        llm(
            "openai",
            "o3",
            tokens_in=5_000,
            cache_read=1_000,
            tokens_out=3_000,
            reasoning=2_500,
            at=datetime(2025, 7, 1, tzinfo=UTC),
        ),
        # o3 from 2025-06-10: $2 / 1M input, $0.50 cached, $8 output
        mtok(4_000, "2") + mtok(1_000, "0.50") + mtok(3_000, "8"),
        "o3",
        id="openai o3 after the 2025-06-10 price cut",
    ),
    pytest.param(
        llm(
            "openai",
            "o3",
            tokens_in=5_000,
            cache_read=1_000,
            tokens_out=3_000,
            reasoning=2_500,
            at=datetime(2025, 5, 1, tzinfo=UTC),
        ),
        # o3 before 2025-06-10: $10 / 1M input, $0.50 cached (as the catalog has it), $40 output
        mtok(4_000, "10") + mtok(1_000, "0.50") + mtok(3_000, "40"),
        "o3",
        id="openai o3 before the 2025-06-10 price cut",
    ),
    pytest.param(
        llm(
            "openai",
            "o3",
            tokens_in=1_000,
            tokens_out=1_000,
            at=datetime(2025, 6, 9, 23, 59, 59, tzinfo=UTC),
        ),
        # o3 on the last second of the old price: $10 input, $40 output
        mtok(1_000, "10") + mtok(1_000, "40"),
        "o3",
        id="openai o3 last second before the change",
    ),
    pytest.param(
        llm(
            "openai", "o3", tokens_in=1_000, tokens_out=1_000, at=datetime(2025, 6, 10, tzinfo=UTC)
        ),
        # o3 at midnight UTC of the change: $2 input, $8 output
        mtok(1_000, "2") + mtok(1_000, "8"),
        "o3",
        id="openai o3 first second after the change",
    ),
    pytest.param(
        llm("openai", "o4-mini", tokens_in=100_000, cache_read=20_000, tokens_out=10_000),
        # o4-mini standard: $1.10 / 1M input, $0.275 cached, $4.40 output
        mtok(80_000, "1.10") + mtok(20_000, "0.275") + mtok(10_000, "4.40"),
        "o4-mini",
        id="openai o4-mini standard tier",
    ),
    pytest.param(
        llm(
            "openai",
            "o4-mini",
            tokens_in=100_000,
            cache_read=20_000,
            tokens_out=10_000,
            tier="flex",
        ),
        # o4-mini flex: $0.55 / 1M input, $0.138 cached, $2.20 output
        mtok(80_000, "0.55") + mtok(20_000, "0.138") + mtok(10_000, "2.20"),
        "o4-mini",
        id="openai o4-mini flex tier",
    ),
    pytest.param(
        llm(
            "openai",
            "o4-mini",
            tokens_in=100_000,
            cache_read=20_000,
            tokens_out=10_000,
            tier="batch",
        ),
        # o4-mini batch: $0.55 / 1M input, $2.20 output; cached input stays $0.275
        mtok(80_000, "0.55") + mtok(20_000, "0.275") + mtok(10_000, "2.20"),
        "o4-mini",
        id="openai o4-mini batch",
    ),
    pytest.param(
        llm(
            "openai",
            "o4-mini",
            tokens_in=100_000,
            cache_read=20_000,
            tokens_out=10_000,
            tier="priority",
        ),
        # o4-mini priority: $2 / 1M input, $0.50 cached, $8 output
        mtok(80_000, "2") + mtok(20_000, "0.50") + mtok(10_000, "8"),
        "o4-mini",
        id="openai o4-mini priority tier",
    ),
    pytest.param(
        llm(
            "openai",
            "o4-mini",
            tokens_in=100_000,
            cache_read=20_000,
            tokens_out=10_000,
            tier="default",
        ),
        # o4-mini, tier "default" is the standard price: $1.10 / $0.275 / $4.40
        mtok(80_000, "1.10") + mtok(20_000, "0.275") + mtok(10_000, "4.40"),
        "o4-mini",
        id="openai o4-mini default tier is standard",
    ),
    pytest.param(
        llm("openai", "o1", tokens_in=2_000, cache_read=1_000, tokens_out=1_000, reasoning=800),
        # o1: $15 / 1M input, $7.50 cached, $60 output
        mtok(1_000, "15") + mtok(1_000, "7.50") + mtok(1_000, "60"),
        "o1",
        id="openai o1 reasoning model",
    ),
    pytest.param(
        llm("openai", "text-embedding-3-small", tokens_in=50_000, tokens_out=0),
        # text-embedding-3-small: $0.02 / 1M input tokens
        mtok(50_000, "0.02"),
        "text-embedding-3-small",
        id="openai embeddings",
    ),
    pytest.param(
        llm("azure.ai.openai", "gpt-4o", tokens_in=10_000, cache_read=4_000, tokens_out=1_000),
        # gpt-4o on Azure OpenAI (global): $2.50 / 1M input, $1.25 cached, $10 output
        mtok(6_000, "2.50") + mtok(4_000, "1.25") + mtok(1_000, "10"),
        "gpt-4o",
        id="azure openai gpt-4o",
    ),
    # --- Anthropic --------------------------------------------------------------------------
    pytest.param(
        llm(
            "anthropic",
            "claude-sonnet-4-5-20250929",
            tokens_in=100_000,
            cache_read=50_000,
            cache_write=30_000,
            cache_write_1h=10_000,
            tokens_out=2_000,
        ),
        # claude-sonnet-4-5: $3 / 1M input, $0.30 cache read, $3.75 5-minute cache write,
        # $6 1-hour cache write, $15 output; 20k of the 30k writes are 5-minute writes
        mtok(20_000, "3")
        + mtok(50_000, "0.30")
        + mtok(20_000, "3.75")
        + mtok(10_000, "6")
        + mtok(2_000, "15"),
        "claude-sonnet-4-5",
        id="anthropic sonnet 4.5 cache reads, 5-minute and 1-hour writes",
    ),
    pytest.param(
        llm(
            "anthropic", "claude-sonnet-4-5", tokens_in=50_000, cache_write=40_000, tokens_out=1_000
        ),
        # claude-sonnet-4-5: $3 input, $3.75 5-minute cache write, $15 output
        mtok(10_000, "3") + mtok(40_000, "3.75") + mtok(1_000, "15"),
        "claude-sonnet-4-5",
        id="anthropic sonnet 4.5 5-minute cache writes only",
    ),
    pytest.param(
        llm(
            "anthropic",
            "claude-sonnet-4-5",
            tokens_in=50_000,
            cache_write=40_000,
            cache_write_1h=40_000,
            tokens_out=1_000,
        ),
        # claude-sonnet-4-5: $3 input, $6 1-hour cache write, $15 output
        mtok(10_000, "3") + mtok(40_000, "6") + mtok(1_000, "15"),
        "claude-sonnet-4-5",
        id="anthropic sonnet 4.5 1-hour cache writes only",
    ),
    pytest.param(
        llm(
            "anthropic",
            "claude-sonnet-4-5",
            tokens_in=150_000,
            cache_read=100_000,
            tokens_out=1_000,
        ),
        # claude-sonnet-4-5 up to 200k input: $3 input, $0.30 cache read, $15 output
        mtok(50_000, "3") + mtok(100_000, "0.30") + mtok(1_000, "15"),
        "claude-sonnet-4-5",
        id="anthropic sonnet 4.5 below the 200k context tier",
    ),
    pytest.param(
        llm(
            "anthropic",
            "claude-sonnet-4-5",
            tokens_in=250_000,
            cache_read=100_000,
            tokens_out=1_000,
        ),
        # claude-sonnet-4-5 above 200k input, all tokens: $6 input, $0.60 cache read, $22.50 output
        mtok(150_000, "6") + mtok(100_000, "0.60") + mtok(1_000, "22.50"),
        "claude-sonnet-4-5",
        id="anthropic sonnet 4.5 above the 200k context tier",
    ),
    pytest.param(
        llm(
            "anthropic",
            "claude-opus-4-1",
            tokens_in=40_000,
            cache_read=10_000,
            cache_write=20_000,
            cache_write_1h=5_000,
            tokens_out=3_000,
        ),
        # claude-opus-4-1: $15 input, $1.50 cache read, $18.75 5m write, $30 1h write, $75 output
        mtok(10_000, "15")
        + mtok(10_000, "1.50")
        + mtok(15_000, "18.75")
        + mtok(5_000, "30")
        + mtok(3_000, "75"),
        "claude-opus-4-1",
        id="anthropic opus 4.1 with both cache write durations",
    ),
    pytest.param(
        llm(
            "anthropic",
            "claude-haiku-4-5",
            tokens_in=30_000,
            cache_read=20_000,
            cache_write=5_000,
            tokens_out=2_000,
        ),
        # claude-haiku-4-5: $1 input, $0.10 cache read, $1.25 5m write, $5 output
        mtok(5_000, "1") + mtok(20_000, "0.10") + mtok(5_000, "1.25") + mtok(2_000, "5"),
        "claude-haiku-4-5",
        id="anthropic haiku 4.5",
    ),
    pytest.param(
        llm(
            "anthropic",
            "claude-3-5-haiku-20241022",
            tokens_in=10_000,
            cache_write=4_000,
            cache_write_1h=4_000,
            tokens_out=500,
        ),
        # claude-3-5-haiku: $0.80 input, $1.60 1h cache write, $4 output
        mtok(6_000, "0.80") + mtok(4_000, "1.60") + mtok(500, "4"),
        "claude-3-5-haiku-latest",
        id="anthropic haiku 3.5 1-hour cache write",
    ),
    pytest.param(
        llm("anthropic", "claude-opus-4-5", tokens_in=8_000, cache_read=6_000, tokens_out=1_000),
        # claude-opus-4-5: $5 input, $0.50 cache read, $25 output
        mtok(2_000, "5") + mtok(6_000, "0.50") + mtok(1_000, "25"),
        "claude-opus-4-5",
        id="anthropic opus 4.5",
    ),
    pytest.param(
        llm(
            "anthropic",
            "claude-sonnet-4-20250514",
            tokens_in=4_000,
            tokens_out=4_000,
            reasoning=3_000,
        ),
        # claude-sonnet-4: $3 input, $15 output (extended thinking billed as output)
        mtok(4_000, "3") + mtok(4_000, "15"),
        "claude-sonnet-4-0",
        id="anthropic sonnet 4 extended thinking",
    ),
    # --- Google -----------------------------------------------------------------------------
    pytest.param(
        llm("gcp.gemini", "gemini-2.5-pro", tokens_in=200_000, tokens_out=1_000),
        # gemini-2.5-pro up to 200k input: $1.25 input, $10 output
        mtok(200_000, "1.25") + mtok(1_000, "10"),
        "gemini-2.5-pro",
        id="gemini 2.5 pro at exactly 200k input",
    ),
    pytest.param(
        llm("gcp.gemini", "gemini-2.5-pro", tokens_in=200_001, tokens_out=1_000),
        # gemini-2.5-pro above 200k input, all tokens: $2.50 input, $15 output
        mtok(200_001, "2.50") + mtok(1_000, "15"),
        "gemini-2.5-pro",
        id="gemini 2.5 pro above the 200k context tier",
    ),
    pytest.param(
        llm(
            "gcp.vertex_ai", "gemini-2.5-pro", tokens_in=40_000, cache_read=30_000, tokens_out=2_000
        ),
        # gemini-2.5-pro on Vertex: $1.25 input, $0.125 cached, $10 output
        mtok(10_000, "1.25") + mtok(30_000, "0.125") + mtok(2_000, "10"),
        "gemini-2.5-pro",
        id="vertex gemini 2.5 pro cached input",
    ),
    pytest.param(
        llm("gcp.gemini", "gemini-2.5-flash", tokens_in=10_000, cache_read=5_000, tokens_out=1_000),
        # gemini-2.5-flash: $0.30 input, $0.03 cached, $2.50 output
        mtok(5_000, "0.30") + mtok(5_000, "0.03") + mtok(1_000, "2.50"),
        "gemini-2.5-flash",
        id="gemini 2.5 flash",
    ),
    pytest.param(
        llm(
            "gcp.gemini", "gemini-2.0-flash", tokens_in=100_000, cache_read=40_000, tokens_out=5_000
        ),
        # gemini-2.0-flash: $0.10 input, $0.025 cached, $0.40 output
        mtok(60_000, "0.10") + mtok(40_000, "0.025") + mtok(5_000, "0.40"),
        "gemini-2.0-flash",
        id="gemini 2.0 flash",
    ),
    pytest.param(
        llm("gcp.vertex_ai", "claude-sonnet-4-5@20250929", tokens_in=10_000, tokens_out=1_000),
        # claude-sonnet-4-5 on Vertex AI: $3 input, $15 output
        mtok(10_000, "3") + mtok(1_000, "15"),
        "claude-sonnet-4-5",
        id="vertex claude sonnet 4.5 versioned id",
    ),
    # --- AWS Bedrock --------------------------------------------------------------------------
    pytest.param(
        llm(
            "aws.bedrock",
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0",
            tokens_in=1_000,
            tokens_out=100,
        ),
        # Claude 3.5 Sonnet on Bedrock: $3 / 1M input, $15 output
        mtok(1_000, "3") + mtok(100, "15"),
        "regional.anthropic.claude-3-5-sonnet-20240620-v1:0",
        id="bedrock foundation-model ARN",
    ),
    pytest.param(
        llm(
            "aws.bedrock",
            "anthropic.claude-3-5-sonnet-20240620-v1:0",
            tokens_in=1_000,
            tokens_out=100,
        ),
        # Claude 3.5 Sonnet on Bedrock: $3 / 1M input, $15 output
        mtok(1_000, "3") + mtok(100, "15"),
        "regional.anthropic.claude-3-5-sonnet-20240620-v1:0",
        id="bedrock model id",
    ),
    pytest.param(
        llm(
            "aws.bedrock",
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
            "us.anthropic.claude-sonnet-4-20250514-v1:0",
            tokens_in=20_000,
            cache_read=15_000,
            tokens_out=1_000,
        ),
        # Claude Sonnet 4 on Bedrock: $3 input, $0.30 cache read, $15 output
        mtok(5_000, "3") + mtok(15_000, "0.30") + mtok(1_000, "15"),
        "regional.anthropic.claude-sonnet-4-20250514-v1:0",
        id="bedrock inference-profile ARN with cache reads",
    ),
    pytest.param(
        llm(
            "aws.bedrock",
            "amazon.nova-pro-v1:0",
            tokens_in=10_000,
            cache_read=2_000,
            tokens_out=1_000,
        ),
        # Amazon Nova Pro: $0.80 input, $0.20 cached, $3.20 output
        mtok(8_000, "0.80") + mtok(2_000, "0.20") + mtok(1_000, "3.20"),
        "amazon.nova-pro-v1:0",
        id="bedrock amazon nova pro",
    ),
    pytest.param(
        llm("aws.bedrock", "meta.llama3-70b-instruct-v1:0", tokens_in=3_000, tokens_out=700),
        # Llama 3 70B Instruct on Bedrock: $2.65 input, $3.50 output
        mtok(3_000, "2.65") + mtok(700, "3.50"),
        "meta.llama3-70b-instruct-v1:0",
        id="bedrock llama 3 70b",
    ),
    # --- other providers ----------------------------------------------------------------------
    pytest.param(
        llm("x_ai", "grok-3", tokens_in=10_000, cache_read=4_000, tokens_out=1_000),
        # grok-3: $3 input, $0.75 cached, $15 output
        mtok(6_000, "3") + mtok(4_000, "0.75") + mtok(1_000, "15"),
        "grok-3",
        id="xai grok-3",
    ),
    pytest.param(
        llm("mistral_ai", "mistral-large-latest", tokens_in=5_000, tokens_out=1_000),
        # mistral-large: $2 input, $6 output
        mtok(5_000, "2") + mtok(1_000, "6"),
        "mistral-large",
        id="mistral large",
    ),
    pytest.param(
        llm("groq", "llama-3.3-70b-versatile", tokens_in=7_000, tokens_out=3_000),
        # llama-3.3-70b-versatile on Groq: $0.59 input, $0.79 output
        mtok(7_000, "0.59") + mtok(3_000, "0.79"),
        "llama-3.3-70b-versatile",
        id="groq llama 3.3 70b",
    ),
    pytest.param(
        llm("cohere", "command-r-plus", tokens_in=4_000, tokens_out=2_000),
        # command-r-plus: $2.50 input, $10 output
        mtok(4_000, "2.50") + mtok(2_000, "10"),
        "command-r-plus",
        id="cohere command-r-plus",
    ),
]


@pytest.mark.parametrize(("fields", "expected", "model_id"), GOLDEN)
def test_golden_llm_price(pricer, span, fields, expected, model_id):
    line = pricer.price(span(**fields))

    assert line.source == "genai-prices"
    assert isinstance(line.amount, Decimal)
    assert line.amount == expected
    assert line.matched_model == model_id
    assert line.currency == "USD"
    assert line.catalog_version == pricer.catalog_version


def test_the_golden_set_is_large_enough():
    assert len(GOLDEN) >= 40


def test_provider_names_map_to_the_right_catalog(pricer, span):
    cases = {
        "azure.ai.openai": "azure",  # contains "openai", must not fall to openai
        "aws.bedrock": "aws",
        "gcp.vertex_ai": "google",
        "gcp.gemini": "google",
        "x_ai": "x-ai",
        "mistral_ai": "mistral",
    }
    models = {
        "azure.ai.openai": "gpt-4o",
        "aws.bedrock": "anthropic.claude-3-5-sonnet-20240620-v1:0",
        "gcp.vertex_ai": "gemini-2.5-flash",
        "gcp.gemini": "gemini-2.5-flash",
        "x_ai": "grok-3",
        "mistral_ai": "mistral-large-latest",
    }
    for provider, expected in cases.items():
        line = pricer.price(
            span(**llm(provider, models[provider], tokens_in=1_000, tokens_out=100))
        )
        assert line.matched_provider == expected, provider


def test_a_dated_price_records_when_it_took_effect(pricer, span):
    after = pricer.price(
        span(**llm("openai", "o3", tokens_in=1, tokens_out=1, at=datetime(2025, 7, 1, tzinfo=UTC)))
    )
    before = pricer.price(
        span(**llm("openai", "o3", tokens_in=1, tokens_out=1, at=datetime(2025, 5, 1, tzinfo=UTC)))
    )

    assert after.effective_date == date(2025, 6, 10)
    assert before.effective_date is None  # the catalog's first o3 price is undated


def test_a_service_tier_price_says_so(pricer, span):
    flex = pricer.price(
        span(**llm("openai", "o4-mini", tokens_in=1_000, tokens_out=100, tier="flex"))
    )

    assert flex.detail == "flex rates"
    assert flex.effective_date == date(2026, 10, 12)  # when the catalog's flex prices start


def test_a_tier_the_catalog_lacks_is_priced_standard_and_flagged(pricer, span):
    # the catalog has o4-mini flex prices only from 2026-10-12; genai-prices would fall
    # back to standard prices silently, the cost line says it
    fields = llm(
        "openai",
        "o4-mini",
        tokens_in=100_000,
        cache_read=20_000,
        tokens_out=10_000,
        tier="flex",
        at=datetime(2026, 10, 1, tzinfo=UTC),
    )

    line = pricer.price(span(**fields))

    # o4-mini standard: $1.10 / 1M input, $0.275 cached, $4.40 output
    assert line.amount == mtok(80_000, "1.10") + mtok(20_000, "0.275") + mtok(10_000, "4.40")
    assert line.detail == "no flex price for o4-mini on 2026-10-01: standard rates"
