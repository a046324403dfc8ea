"""`botanu prices` shows each context tier as its own labelled row, base tier first, at
the rates the engine charges: never one tier's input beside another tier's output."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

from click.testing import CliRunner

from botanu.cli import cli
from botanu.engine.pricing import Pricer
from botanu.engine.records import SpanRecord

MILLION = Decimal(1_000_000)
DAY = "2026-11-02"
OVER_200K = "prompts over 200k tokens"


def lookup(*args: str) -> list[dict]:
    result = CliRunner().invoke(cli, ["prices", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def rates(rows: list[dict]) -> dict[str, Decimal]:
    return {r["usage"]: Decimal(r["per_million_tokens"]) for r in rows}


def call(input_tokens: int, output_tokens: int, cache_read: int = 0, **kw: object) -> Decimal:
    """What the engine charges for one claude-sonnet-4-5 call on DAY."""
    start = int(datetime.fromisoformat(DAY).replace(tzinfo=timezone.utc).timestamp() * 1e9)
    record = SpanRecord(
        trace_id="1" * 32,
        span_id="1" * 16,
        name="chat",
        start_ns=start,
        end_ns=start,
        category="llm",
        provider="anthropic",
        request_model="claude-sonnet-4-5",
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_tokens=cache_read,
        **kw,  # type: ignore[arg-type]
    )
    line = Pricer().price(record)
    assert line is not None
    assert line.amount is not None
    return line.amount


def test_each_context_tier_is_its_own_row_base_first():
    rows = lookup("claude-sonnet-4-5", "--provider", "anthropic", "--at", DAY)
    # genai-prices: $3 / $15 up to 200k prompt tokens, $6 / $22.50 over; cache likewise
    assert rates(rows) == {
        "input": Decimal(3),
        "cached input": Decimal("0.3"),
        "cache write": Decimal("3.75"),
        "output": Decimal(15),
        f"input, {OVER_200K}": Decimal(6),
        f"cached input, {OVER_200K}": Decimal("0.6"),
        f"cache write, {OVER_200K}": Decimal("7.5"),
        f"output, {OVER_200K}": Decimal("22.5"),
    }
    assert [r["tier"] for r in rows] == ["base"] * 4 + [OVER_200K] * 4
    assert [r["prompt_tokens_over"] for r in rows] == [None] * 4 + [200_000] * 4


def test_tier_rows_are_what_the_engine_charges():
    r = rates(lookup("claude-sonnet-4-5", "--provider", "anthropic", "--at", DAY))
    small = call(1_000, 500)
    assert small == (1_000 * r["input"] + 500 * r["output"]) / MILLION
    large = call(300_000, 500)
    assert large == (300_000 * r[f"input, {OVER_200K}"] + 500 * r[f"output, {OVER_200K}"]) / MILLION
    cached = call(300_000, 500, cache_read=100_000)
    cached_in, over_in = r[f"cached input, {OVER_200K}"], r[f"input, {OVER_200K}"]
    expected = 200_000 * over_in + 100_000 * cached_in + 500 * r[f"output, {OVER_200K}"]
    assert cached == expected / MILLION


def test_the_tiers_of_a_service_tier_are_its_own():
    rows = lookup("claude-sonnet-4-5", "--provider", "anthropic", "--at", DAY, "--tier", "batch")
    r = rates(rows)
    assert (r["input"], r["output"]) == (Decimal("1.5"), Decimal("7.5"))
    assert (r[f"input, {OVER_200K}"], r[f"output, {OVER_200K}"]) == (Decimal(3), Decimal("11.25"))
    batch = call(300_000, 500, service_tier="batch")
    assert batch == (300_000 * r[f"input, {OVER_200K}"] + 500 * r[f"output, {OVER_200K}"]) / MILLION


def test_a_model_with_one_tier_shows_one_row_per_usage():
    rows = lookup("gpt-4o-mini", "--provider", "openai", "--at", DAY)
    assert [r["usage"] for r in rows] == ["input", "cached input", "cache write", "output"]
    assert {r["tier"] for r in rows} == {"base"}
    assert (rates(rows)["input"], rates(rows)["output"]) == (Decimal("0.15"), Decimal("0.6"))


def test_several_tiers_are_listed_in_order():
    rows = lookup("qwen/qwen3-coder-flash", "--provider", "openrouter", "--at", DAY)
    inputs = [(r["tier"], r["per_million_tokens"]) for r in rows if r["usage"].startswith("input")]
    assert inputs == [
        ("base", "0.195"),
        ("prompts over 32k tokens", "0.325"),
        ("prompts over 128k tokens", "0.52"),
    ]


def test_a_flat_user_rate_card_has_no_tiers(tmp_path, monkeypatch):
    # the engine prices every prompt size at the contract's rates: so do the rows
    card = tmp_path / "contract.yaml"
    card.write_text(
        "version: 1\nprices:\n  - category: llm\n    provider: anthropic\n"
        "    model: claude-sonnet-4-5\n    effective_from: 2020-01-01\n"
        "    source: our contract\n"
        '    input_mtok: "2.00"\n    output_mtok: "10.00"\n'
    )
    monkeypatch.setenv("BOTANU_RATE_CARD", str(card))
    rows = lookup("claude-sonnet-4-5", "--provider", "anthropic", "--at", DAY)
    assert {r["tier"] for r in rows} == {"base"}
    assert (rates(rows)["input"], rates(rows)["output"]) == (Decimal(2), Decimal(10))


def test_a_per_request_fee_is_not_folded_into_token_rates():
    rows = lookup("sonar", "--provider", "perplexity", "--at", DAY)
    r = rates(rows)
    # sonar: $1 / 1M input and output tokens, plus $12 per thousand requests
    assert (r["input"], r["output"]) == (Decimal(1), Decimal(1))
    assert all("plus $0.012 per request" in row["detail"] for row in rows)


def test_the_table_names_each_tier():
    result = CliRunner().invoke(
        cli, ["prices", "claude-sonnet-4-5", "--provider", "anthropic", "--at", DAY]
    )
    assert result.exit_code == 0, result.output
    assert "200k" in result.output
    assert "$22.5" in result.output
