"""A batch prices every span exactly as the span is priced alone (`Pricer.price`, a
batch of one), field by field: the quotes of many keys, the lines of spans priced on
their own and the rules of reported and failed calls do not mix up rows. On every golden
case and on generated spans (catalog and unknown models, tiers, cache, service tiers, price
changes, the shipped rate card's systems, reported costs, a reported 0 with and without
usage, failed and successful calls with and without usage, user rate cards)."""

from __future__ import annotations

import importlib.util
import itertools
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botanu.engine.pricing import Pricer, parse_rate_card, shipped_rate_card
from botanu.engine.pricing._bulk import BulkPricer, bulk_pricer
from botanu.engine.pricing._quotes import FALLBACK, TOKENS, UNITS
from botanu.engine.records import TOKEN_FIELDS, UNIT_FIELDS, SpanRecord

UTC = timezone.utc
HERE = Path(__file__).parent


def load(name: str) -> ModuleType:
    """A sibling test module (tests are not a package), for its golden cases."""
    path = HERE / name
    spec = importlib.util.spec_from_file_location(f"_bulk_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CONFTEST = load("conftest.py")
LLM_GOLDEN = load("test_golden_llm.py")
RESOURCE_GOLDEN = load("test_golden_resources.py")

# a user card with every kind of entry: token prices, multipliers, resource prices
USER_CARD = (
    RESOURCE_GOLDEN.USER_CARD
    + """
  - name: openai batch discount
    category: llm
    provider: openai
    model: "gpt-4.1*"
    multiplier: "0.85"
    effective_from: 2025-01-01
    source: enterprise agreement
  - name: bigquery commitment
    category: db
    system: bigquery
    multiplier: "0.7"
    effective_from: 2024-01-01
    source: GCP commit
  - name: dynamodb reads at cost
    category: db
    system: aws.dynamodb
    operation: getitem
    unit: request_units
    per: 1000000
    price: "0.1"
    effective_from: 2024-01-01
    source: private pricing
  - name: kafka messages
    category: messaging
    system: kafka
    unit: messages
    per: 1000
    price: "0.03"
    minimum: 10
    effective_from: 2024-01-01
    source: self-hosted, per message
"""
)


def expected_lines(pricer: Pricer, records: list[SpanRecord]) -> list[object]:
    """What each span is priced alone (`alone`: by its source span by span where it can)."""
    return [CONFTEST.alone(pricer, record) for record in records]


def assert_same(bulk: BulkPricer, pricer: Pricer, records: list[SpanRecord]) -> None:
    got = bulk.price_records(records)
    want = expected_lines(pricer, records)
    for record, g, w in zip(records, got, want, strict=True):
        assert g == w, record


# One pricer on both sides, as in production (`bulk_pricer(pricer)`): the catalog keeps
# the first spelling it saw of a model it does not know in its "unknown model" message,
# so two pricers with different histories can word that line differently.
@pytest.fixture(scope="module")
def pricers() -> tuple[BulkPricer, Pricer]:
    pricer = Pricer()
    return BulkPricer(pricer), pricer


@pytest.fixture(scope="module")
def user_pricers() -> tuple[BulkPricer, Pricer]:
    card = parse_rate_card(USER_CARD.lstrip("\n"), "acme.yaml", version="acme.yaml")
    pricer = Pricer(card)
    return BulkPricer(pricer), pricer


def golden_records() -> list[SpanRecord]:
    cases = [*LLM_GOLDEN.GOLDEN, *RESOURCE_GOLDEN.GOLDEN, *RESOURCE_GOLDEN.USER_GOLDEN]
    return [CONFTEST.make_span(**dict(case.values[0])) for case in cases]


def test_every_golden_case_is_priced_alike(pricers, user_pricers):
    records = golden_records()
    assert len(records) >= 73
    for bulk, pricer in (pricers, user_pricers):
        assert_same(bulk, pricer, records)
        assert_same(bulk, pricer, records)  # again, from the quotes kept


def test_one_batch_mixes_every_kind_of_line(pricers):
    bulk, pricer = pricers
    span = CONFTEST.make_span
    records = [
        *golden_records(),
        span(category="llm", provider="openai", request_model="gpt-4o"),  # no usage
        span(category="llm", provider="openai", operation="execute_tool"),  # nothing
        span(category="llm", provider="acme", request_model="x", input_tokens=5),
        span(category="llm", provider="openai", input_tokens=5),  # no model
        span(
            category="llm",
            provider="openai",
            request_model="gpt-4o",
            input_tokens=1,
            cache_read_tokens=5,
        ),  # does not add up
        span(
            category="llm",
            provider="deepseek",
            request_model="deepseek-chat",
            input_tokens=100,
            output_tokens=10,
        ),  # priced by time of day
        span(category="db", system="postgresql", operation="SELECT", rows=3),
        span(category="db", system="snowflake", bytes_scanned=10**9),
        span(category="db", system="bigquery", bytes_scanned=123_456_789),  # inexact
        span(category="messaging", system="gcp_pubsub", operation="send", bytes_written=3),
        span(category="storage", object_count=2),
        span(category="other"),
        span(
            category="llm",
            provider="openai",
            request_model="gpt-4o",
            input_tokens=10,
            output_tokens=1,
            reported_cost=Decimal("0.1234567890123456789"),
        ),
    ]
    for i, record in enumerate(records):
        record.span_id = f"{i + 1:016x}"
    assert_same(bulk, pricer, records)


def test_quotes_cover_the_common_keys_and_defer_the_rest(pricers):
    bulk, _ = pricers
    day = (datetime(2026, 11, 1, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).days
    kinds = {
        ("llm", "openai", "gpt-4o"): TOKENS,
        ("llm", "anthropic", "claude-sonnet-4-5"): TOKENS,  # tiered, cache, web search
        ("llm", "google", "gemini-2.5-pro"): TOKENS,
        ("llm", "deepseek", "deepseek-chat"): FALLBACK,  # off-peak prices
        ("llm", "perplexity", "sonar"): FALLBACK,  # a price per request
    }
    for (category, provider, model), kind in kinds.items():
        key = (category, provider, model, None, None, None, "chat", day)
        assert bulk.quotes.quote(key).kind == kind, model
    for category, system, operation in (
        ("db", "bigquery", None),
        ("db", "aws.dynamodb", "GetItem"),  # request units, a float
        ("messaging", "gcp_pubsub", "send"),  # bytes, with a minimum
        ("storage", "s3", "put"),
        ("messaging", "aws_sqs", "send"),
    ):
        key = (category, None, None, None, None, system, operation, day)
        assert bulk.quotes.quote(key).kind == UNITS, system


def test_one_bulk_pricer_per_pricer():
    pricer = Pricer()
    assert bulk_pricer(pricer) is bulk_pricer(pricer)


# --- generated spans ------------------------------------------------------------------------

DAYS = [
    date(2019, 12, 31),
    date(2023, 7, 4),
    date(2023, 7, 5),
    date(2024, 10, 31),
    date(2024, 11, 1),
    date(2025, 5, 1),
    date(2025, 6, 10),
    date(2026, 1, 5),
    date(2026, 3, 13),
    date(2026, 5, 31),
    date(2026, 6, 1),
    date(2026, 10, 1),
    date(2026, 10, 12),
    date(2026, 10, 14),
    date(2026, 11, 1),
]
OTEL_PROVIDERS = [
    "openai",
    "anthropic",
    "aws.bedrock",
    "azure.ai.openai",
    "gcp.vertex_ai",
    "gcp.gemini",
    "x_ai",
    "mistral_ai",
    "groq",
    "deepseek",
    "perplexity",
    "cohere",
    "vllm",
    "acme",
]
MODELS = [
    "gpt-4o",
    "GPT-4o-2024-08-06",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-5",
    "o3",
    "o4-mini",
    "claude-sonnet-4-5",
    "claude-sonnet-4-5-20250929",
    "claude-opus-4-6",
    "claude-haiku-4-5",
    "claude-3-5-haiku-latest",
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "gemini-3-pro-preview",
    "grok-3",
    "mistral-large-latest",
    "deepseek-chat",
    "sonar",
    "whisper-large-v3",
    "llama-3.3-70b-versatile",
    "command-r-plus",
    "ft:gpt-4o-mini:acme::abc",
    "llama-3.1-8b-instruct",
    "not-a-model",
]
TIERS = [None, None, "default", "flex", "priority", "batch", "scale", "bogus"]


def catalog_pairs() -> list[tuple[str, str]]:
    from genai_prices.data import providers

    return [(p.id, m.id) for p in providers for m in p.models]


def shipped_systems() -> list[tuple[str, str, str | None]]:
    """(category, system, operation) for every spelling on the shipped card, plus misses."""
    out: list[tuple[str, str, str | None]] = []
    for entry in shipped_rate_card().entries:
        for system in entry.systems:
            for operation in (*entry.operations[:3], None, "Unknown"):
                out.append((entry.category, system, operation))
    out += [
        ("db", "postgresql", "SELECT"),
        ("db", "snowflake", None),
        ("db", "aws.dynamodb", "GetItem"),
        ("storage", "minio", "put"),
        ("messaging", "kafka", "send"),
        ("other", "acme-ocr", None),
        ("other", None, None),
        ("storage", None, None),
    ]
    return out


counts = st.one_of(st.none(), st.integers(0, 3_000), st.integers(0, 2_000_000))


@st.composite
def llm_fields(draw):
    if draw(st.booleans()):
        provider, model = draw(st.sampled_from(catalog_pairs()))
    else:
        provider, model = draw(st.sampled_from(OTEL_PROVIDERS)), draw(st.sampled_from(MODELS))
    tokens_in = draw(counts)
    read = draw(st.one_of(st.none(), st.integers(0, max(tokens_in or 0, 10))))
    write = draw(st.one_of(st.none(), st.integers(0, max((tokens_in or 0) - (read or 0), 10))))
    return {
        "category": "llm",
        "provider": draw(st.sampled_from([provider, provider, None])),
        "request_model": draw(st.sampled_from([model, model, None])),
        "response_model": draw(st.sampled_from([None, None, model, "gpt-4o"])),
        "operation": draw(st.sampled_from([None, "chat", "embeddings", "execute_tool"])),
        "service_tier": draw(st.sampled_from(TIERS)),
        "input_tokens": tokens_in,
        "output_tokens": draw(counts),
        "cache_read_tokens": read,
        "cache_write_tokens": write,
        "cache_write_1h_tokens": draw(st.one_of(st.none(), st.integers(0, max(write or 0, 5)))),
        "reasoning_tokens": draw(st.one_of(st.none(), st.integers(0, 5_000))),
    }


@st.composite
def resource_fields(draw):
    category, system, operation = draw(st.sampled_from(shipped_systems()))
    quantity = st.one_of(st.none(), st.integers(0, 2_000), st.integers(0, 2**45))
    return {
        "category": category,
        "system": system,
        "operation": operation,
        "bytes_scanned": draw(quantity),
        "request_units": draw(st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False))),
        "rows": draw(quantity),
        "bytes_read": draw(quantity),
        "bytes_written": draw(quantity),
        "object_count": draw(st.one_of(st.none(), st.integers(0, 5_000))),
        "message_count": draw(st.one_of(st.none(), st.integers(0, 5_000))),
    }


USAGE_FIELDS = (*TOKEN_FIELDS, *UNIT_FIELDS, "request_units")
# a reported 0 is taken only on a span without usage: draw both, often
REPORTED = [None] * 6 + [Decimal("0")] * 3 + [Decimal("0.000"), Decimal("0.25"), Decimal("1e-20")]
# a failed call without usage is not billed, with usage priced: draw failures often
STATUSES = ["unset", "ok", "error", "error"]


@st.composite
def spans(draw):
    records = []
    for i in range(draw(st.integers(1, 25))):
        fields = draw(st.one_of(llm_fields(), resource_fields()))
        usage = draw(st.sampled_from(["as drawn", "as drawn", "none", "zeros"]))
        for name in USAGE_FIELDS:
            if name in fields and usage != "as drawn":
                zero = 0.0 if name == "request_units" else 0  # a float, as stored
                fields[name] = None if usage == "none" else zero
        day = draw(st.sampled_from(DAYS))
        at = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
            microseconds=draw(st.integers(0, 86_400_000_000 - 1))
        )
        reported = draw(st.sampled_from(REPORTED))
        status = draw(st.sampled_from(STATUSES))
        record = CONFTEST.make_span(at=at, reported_cost=reported, status_code=status, **fields)
        record.span_id = f"{i + 1:016x}"
        records.append(record)
    return records


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.slow  # a long property run
@SETTINGS
@given(records=spans())
def test_generated_spans_are_priced_alike(pricers, records):
    bulk, pricer = pricers
    assert_same(bulk, pricer, records)


@pytest.mark.slow  # a long property run
@SETTINGS
@given(records=spans())
def test_generated_spans_are_priced_alike_with_a_user_rate_card(user_pricers, records):
    bulk, pricer = user_pricers
    assert_same(bulk, pricer, records)


def test_a_batch_of_one_key_many_times_is_priced_alike(pricers):
    bulk, pricer = pricers
    span = CONFTEST.make_span
    records = [
        span(
            category="llm",
            provider="anthropic",
            request_model="claude-sonnet-4-5",
            input_tokens=n * 1_000,
            cache_read_tokens=n * 100,
            cache_write_tokens=n * 50,
            cache_write_1h_tokens=n * 10,
            output_tokens=n,
        )
        for n in itertools.chain(range(1, 50), range(195, 205), range(268, 275))
    ]
    for i, record in enumerate(records):
        record.span_id = f"{i + 1:016x}"
    assert_same(bulk, pricer, records)


def test_most_golden_spans_are_priced_by_their_quote():
    bulk = BulkPricer(Pricer())
    bulk.price_records(golden_records())
    assert bulk.spans_one_by_one <= bulk.spans_priced // 5


def test_user_card_lines_in_one_batch(user_pricers):
    bulk, pricer = user_pricers
    span = CONFTEST.make_span
    records = [
        span(category="messaging", system="kafka", operation="send", message_count=None),
        span(category="messaging", system="kafka", operation="send", message_count=3),
        span(category="messaging", system="kafka", operation="send", message_count=12_345),
        span(category="storage", system="gcs", operation="upload", object_count=7),
        span(category="storage", system="s3", operation="put", object_count=3),
        span(category="db", system="bigquery", bytes_scanned=2**30),
        span(category="db", system="bigquery", bytes_scanned=123_456_789),
        span(category="db", system="aws.dynamodb", operation="GetItem", request_units=2.5),
        span(
            category="llm",
            provider="openai",
            request_model="gpt-4.1-mini",
            input_tokens=999,
            cache_read_tokens=100,
            output_tokens=10,
        ),
        span(
            category="llm",
            provider="openai",
            request_model="gpt-4o",
            input_tokens=10_000,
            cache_read_tokens=4_000,
            output_tokens=1_000,
        ),
        span(
            category="llm",
            provider="anthropic",
            request_model="claude-sonnet-4-5",
            input_tokens=250_000,
            cache_read_tokens=100_000,
            output_tokens=1_000,
        ),
        span(category="other", system="acme-ocr"),
    ]
    for i, record in enumerate(records):
        record.span_id = f"{i + 1:016x}"
    assert_same(bulk, pricer, records)


def test_a_pricer_and_its_bulk_pricer_go_together():
    import gc
    import weakref

    pricer = Pricer()
    pricer.price(golden_records()[0])
    bulk = weakref.ref(bulk_pricer(pricer))
    del pricer
    gc.collect()

    assert bulk() is None  # its DuckDB connection with it: a lookup per request leaks none


def test_a_reported_cost_is_given_back_whole_and_values_beyond_the_store_are_refused():
    pricer = Pricer()
    span = CONFTEST.make_span
    given = Decimal("0.1234567890123456789012")  # 22 places: the store keeps 18
    line = pricer.price(span(category="llm", provider="openai", reported_cost=given))
    assert (line.source, line.amount) == ("reported", given)

    with pytest.raises(ValueError, match="beyond what botanu stores"):
        pricer.price(span(category="llm", provider="openai", input_tokens=2**70))
    with pytest.raises(ValueError, match="beyond what botanu stores"):
        pricer.price(span(category="llm", provider="openai", reported_cost=Decimal("1e25")))
