"""The rates apply.sql applies are genai-prices' own: LLM calls priced in bulk (quotes,
then the SQL applier) cost exactly what genai-prices' public `calc_price` says for the
same usage, model, provider, day and service tier — checked against the library, not
against botanu's own span-by-span pricer — over the models of the bundled catalog."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from genai_prices import Usage, calc_price
from genai_prices.data import providers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botanu.engine.pricing import Pricer
from botanu.engine.pricing._bulk import BulkPricer
from botanu.engine.records import SpanRecord, stored_money

UTC = timezone.utc
DAYS = [datetime(2025, 6, 1, 12, tzinfo=UTC), datetime(2026, 11, 1, 9, tzinfo=UTC)]
# (provider, model) pairs of the catalog whose prices are plain enough to quote
MODELS = sorted(
    (provider.id, model.id)
    for provider in providers
    if provider.id in {"openai", "anthropic", "google", "mistral", "deepseek", "x-ai"}
    for model in provider.models
)


@st.composite
def calls(draw):
    provider, model = draw(st.sampled_from(MODELS))
    cache_read = draw(st.one_of(st.none(), st.integers(0, 50_000)))
    cache_write = draw(st.one_of(st.none(), st.integers(0, 50_000)))
    uncached = draw(st.integers(0, 400_000))
    return {
        "provider": provider,
        "model": model,
        "input_tokens": uncached + (cache_read or 0) + (cache_write or 0),
        "cache_read_tokens": cache_read,
        "cache_write_tokens": cache_write,
        "output_tokens": draw(st.integers(0, 40_000)),
        "at": draw(st.sampled_from(DAYS)) + timedelta(seconds=draw(st.integers(0, 3_600))),
    }


def record(i: int, call: dict) -> SpanRecord:
    start = int(call["at"].timestamp()) * 10**9
    return SpanRecord(
        trace_id=f"{i + 1:032x}",
        span_id=f"{i + 1:016x}",
        name="chat",
        start_ns=start,
        end_ns=start + 1,
        category="llm",
        provider=call["provider"],
        request_model=call["model"],
        operation="chat",
        input_tokens=call["input_tokens"],
        cache_read_tokens=call["cache_read_tokens"],
        cache_write_tokens=call["cache_write_tokens"],
        output_tokens=call["output_tokens"],
    )


def library_price(call: dict):
    """genai-prices' own price of the call (None: the library prices no such call)."""
    usage = Usage(
        input_tokens=call["input_tokens"],
        cache_read_tokens=call["cache_read_tokens"],
        cache_write_tokens=call["cache_write_tokens"],
        output_tokens=call["output_tokens"],
    )
    try:
        found = calc_price(
            usage, call["model"], provider_id=call["provider"], genai_request_timestamp=call["at"]
        )
    except (LookupError, ValueError):
        return None
    return found.total_price


@pytest.fixture(scope="module")
def bulk():
    return BulkPricer(Pricer())


@pytest.mark.slow  # a long property run
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(calls(), min_size=1, max_size=30))
def test_bulk_amounts_are_genai_prices_own(bulk, batch):
    lines = bulk.price_records([record(i, call) for i, call in enumerate(batch)])
    for call, line in zip(batch, lines, strict=True):
        expected = library_price(call)
        assert line is not None, call
        if expected is None:  # unpriced, never $0
            assert line.amount is None, (call, line)
        else:
            assert line.amount == stored_money(expected), (call, line)


def test_the_applier_not_the_pricer_prices_them():
    bulk = BulkPricer(Pricer())
    batch = [
        {
            "provider": provider,
            "model": model,
            "input_tokens": 12_345,
            "cache_read_tokens": 2_000,
            "cache_write_tokens": None,
            "output_tokens": 678,
            "at": DAYS[1],
        }
        for provider, model in MODELS
    ]
    lines = bulk.price_records([record(i, call) for i, call in enumerate(batch)])
    priced = [
        (call, line)
        for call, line in zip(batch, lines, strict=True)
        if line is not None and line.amount is not None
    ]
    assert len(priced) >= len(MODELS) // 2
    for call, line in priced:
        assert line.amount == stored_money(library_price(call)), call
    # the catalog's models price through their quotes and apply.sql, one by one only
    # where a quote cannot hold the price (time-of-day prices, several tiers)
    assert bulk.spans_one_by_one <= bulk.spans_priced // 5
