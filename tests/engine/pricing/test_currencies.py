"""Currencies: a user rate card may price in another currency with dated exchange rates;
every cost line is USD (the price times the rate in force on the span's day, exactly, the
original amount and the rate kept in the detail), a span with no rate in force is
unpriced, and the bulk pricer gives each span the pricer's line."""

from __future__ import annotations

import importlib.util
import json
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from botanu import semconv as sc
from botanu.cli import cli
from botanu.engine.ingest import RawSpan
from botanu.engine.pricing import Pricer, RateCardError, load_rate_card, parse_rate_card
from botanu.engine.pricing._bulk import BulkPricer
from botanu.engine.pricing._currency import MAX_EXCHANGE_RATES
from botanu.engine.records import SpanRecord
from botanu.engine.service import ingest_payloads
from botanu.engine.store import open_store

UTC = timezone.utc
HERE = Path(__file__).parent
MARCH = datetime(2026, 3, 1, 12, tzinfo=UTC)  # EUR at 1.08
NOVEMBER = datetime(2026, 11, 1, 12, tzinfo=UTC)  # EUR at 1.1
BEFORE = datetime(2025, 12, 31, 23, 59, tzinfo=UTC)  # before the first EUR rate


def load(name: str) -> ModuleType:
    """A sibling test module (tests are not a package), for its helpers."""
    path = HERE / name
    spec = importlib.util.spec_from_file_location(f"_currencies_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CONFTEST = load("conftest.py")
BULK = load("test_bulk.py")

EUR_CARD = """
version: 1
currency: eur
exchange_rates:
  - {currency: EUR, from: 2026-01-01, usd: "1.08"}
  - {currency: EUR, from: 2026-07-01, usd: 1.1}
  - {currency: GBP, from: 2026-01-01, usd: "1.27"}
prices:
  - name: llama contract
    category: llm
    provider: vllm
    model: "llama-*"
    input_mtok: "0.05"
    output_mtok: "0.10"
    effective_from: 2025-01-01
    source: GPU hours
  - name: openai discount
    category: llm
    provider: openai
    model: gpt-4o
    multiplier: "0.9"
    effective_from: 2025-01-01
    source: enterprise agreement
  - name: kafka messages
    category: messaging
    system: kafka
    unit: messages
    per: 1000
    price: "0.03"
    minimum: 10
    effective_from: 2024-01-01
    source: self-hosted
  - name: dynamodb reads
    category: db
    system: aws.dynamodb
    unit: request_units
    per: 1000000
    price: "0.11"
    effective_from: 2024-01-01
    source: private pricing
  - name: bigquery deal
    category: db
    system: bigquery
    unit: bytes_scanned
    per: 1099511627776
    price: "5.5"
    effective_from: 2026-02-01
    source: our deal
"""


def eur_card():
    return parse_rate_card(EUR_CARD.lstrip("\n"), "acme.yaml", version="acme.yaml")


@pytest.fixture(scope="module")
def eur() -> Pricer:
    return Pricer(eur_card())


def llama(at: datetime = MARCH, **fields) -> SpanRecord:
    usage = {"input_tokens": 1234, "output_tokens": 77} | fields
    return CONFTEST.make_span(
        at=at, category="llm", provider="vllm", request_model="llama-3.1-8b", **usage
    )


def kafka(at: datetime = MARCH, **fields) -> SpanRecord:
    return CONFTEST.make_span(at=at, category="messaging", system="kafka", **fields)


# --- the rate card ------------------------------------------------------------------------


def test_a_card_in_euros_loads_with_its_rates():
    card = eur_card()

    assert card.currency == "EUR"
    assert [(r.currency, r.effective_from, r.usd) for r in card.exchange_rates] == [
        ("EUR", date(2026, 1, 1), Decimal("1.08")),
        ("EUR", date(2026, 7, 1), Decimal("1.1")),  # a bare number, read from its text
        ("GBP", date(2026, 1, 1), Decimal("1.27")),
    ]
    assert [card.usd_rate(d).usd for d in (date(2026, 6, 30), date(2026, 7, 1))] == [
        Decimal("1.08"),
        Decimal("1.1"),
    ]


def test_a_usd_card_needs_no_rate():
    card = parse_rate_card("version: 1\ncurrency: usd\nprices: []\n", "usd.yaml")
    assert (card.currency, card.usd_rate(date(2026, 1, 1))) == ("USD", None)


RATE = "version: 1\ncurrency: EUR\nexchange_rates:\n  - {currency: EUR, from: 2026-01-01, usd: "


@pytest.mark.parametrize(
    ("text", "line", "field", "problem"),
    [
        (
            "version: 1\ncurrency: EUR\nprices: []\n",
            2,
            "currency",
            "prices in EUR need a rate to USD: add exchange_rates: "
            '[{currency: EUR, from: 2026-01-01, usd: "1.08"}]',
        ),
        (
            "version: 1\ncurrency: EUR\nexchange_rates:\n"
            '  - {currency: GBP, from: 2026-01-01, usd: "1.27"}\nprices: []\n',
            2,
            "currency",
            "prices in EUR need a rate to USD",
        ),
        ("version: 1\ncurrency: euros\nprices: []\n", 2, "currency", "three-letter code"),
        (RATE + '"0"}\nprices: []\n', 4, "exchange_rates[0].usd", "above 0"),
        (RATE + '"-1.08"}\nprices: []\n', 4, "exchange_rates[0].usd", "0 or more"),
        (RATE + '"1.08 USD"}\nprices: []\n', 4, "exchange_rates[0].usd", "a rate such as"),
        (RATE + '"1e-19"}\nprices: []\n', 4, "exchange_rates[0].usd", "18 decimal places"),
        (RATE + '"2000000"}\nprices: []\n', 4, "exchange_rates[0].usd", "beyond any plausible"),
        (
            RATE + '"1.08"}\n  - {currency: eur, from: 2026-01-01, usd: "1.09"}\nprices: []\n',
            5,
            "exchange_rates[1].from",
            "a EUR rate from 2026-01-01 is given twice (first at line 4)",
        ),
        (
            "version: 1\nexchange_rates:\n  - {currency: USD, from: 2026-01-01, usd: 1}\n"
            "prices: []\n",
            3,
            "exchange_rates[0].currency",
            "USD needs no exchange rate",
        ),
        (
            "version: 1\nexchange_rates:\n  - {currency: EUR, usd: 1}\nprices: []\n",
            3,
            "exchange_rates[0].from",
            "missing",
        ),
        (
            "version: 1\nexchange_rates:\n  - {currency: EUR, from: 2026-01-01, usd: 1, to: x}\n"
            "prices: []\n",
            3,
            "exchange_rates[0].to",
            "unknown field",
        ),
        (
            "version: 1\nexchange_rates:\n  - {currency: EUR, from: January, usd: 1}\nprices: []\n",
            3,
            "exchange_rates[0].from",
            "expected a date YYYY-MM-DD",
        ),
        (
            "version: 1\nexchange_rates:\n  currency: EUR\nprices: []\n",
            3,
            "exchange_rates",
            "expected a list",
        ),
    ],
    ids=[
        "no rate for the card's currency",
        "a rate for another currency only",
        "not a currency code",
        "rate of zero",
        "negative rate",
        "rate not a number",
        "rate beyond 18 places",
        "rate beyond any plausible",
        "same currency and day twice",
        "a rate for USD",
        "rate without a day",
        "misspelt field",
        "bad date",
        "rates not a list",
    ],
)
def test_a_malformed_currency_or_rate_names_file_line_and_field(
    rate_card_file, text, line, field, problem
):
    path = rate_card_file(text)

    with pytest.raises(RateCardError) as caught:
        load_rate_card(path)

    error = caught.value
    assert (error.path, error.line, error.field) == (str(path), line, field)
    assert problem in str(error)


@pytest.mark.slow  # writes and parses a rate card of 10,001 rates
def test_the_number_of_rates_is_bounded(rate_card_file):
    rates = "".join(
        f"  - {{currency: EUR, from: {date.fromordinal(730_000 + i)}, usd: 1}}\n"
        for i in range(MAX_EXCHANGE_RATES + 1)
    )
    path = rate_card_file(f"version: 1\nexchange_rates:\n{rates}prices: []\n")

    with pytest.raises(RateCardError, match=f"more than {MAX_EXCHANGE_RATES:,} rates"):
        load_rate_card(path)


# --- the pricer ---------------------------------------------------------------------------


def test_a_euro_price_is_converted_into_usd_exactly(eur):
    line = eur.price(llama())

    # EUR 0.05 / 1M input, EUR 0.10 / 1M output: 1234 * 5e-8 + 77 * 1e-7 = EUR 0.0000694
    assert line.amount == Decimal("0.0000694") * Decimal("1.08")
    assert (line.currency, line.source) == ("USD", "user_rate_card")
    assert line.detail == "llama contract: GPU hours; EUR 0.0000694 at 1.08 USD/EUR from 2026-01-01"
    # the USD price took effect with the rate (the EUR price is older)
    assert line.effective_date == date(2026, 1, 1)


@pytest.mark.parametrize(
    ("at", "rate", "since"),
    [
        (datetime(2026, 1, 1, 0, 0, tzinfo=UTC), "1.08", date(2026, 1, 1)),
        (datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC), "1.08", date(2026, 1, 1)),
        (datetime(2026, 7, 1, 0, 0, tzinfo=UTC), "1.1", date(2026, 7, 1)),
        (NOVEMBER, "1.1", date(2026, 7, 1)),
    ],
)
def test_the_rate_is_the_one_in_force_on_the_spans_day(eur, at, rate, since):
    line = eur.price(llama(at=at))

    assert line.amount == Decimal("0.0000694") * Decimal(rate)
    assert line.detail.endswith(f"EUR 0.0000694 at {rate} USD/EUR from {since}")
    assert line.effective_date == since


@pytest.mark.parametrize("record", [llama(at=BEFORE), kafka(at=BEFORE, message_count=3)])
def test_a_span_before_the_first_rate_is_unpriced_never_zero(eur, record):
    line = eur.price(record)

    assert (line.amount, line.source, line.currency) == (None, "unpriced", "USD")
    assert line.detail == (
        "no EUR exchange rate on 2025-12-31 (first from 2026-01-01): add "
        '{currency: EUR, from: 2025-12-31, usd: "USD per EUR"} to exchange_rates in acme.yaml'
    )


def test_a_unit_price_in_euros_is_converted_minimum_included(eur):
    line = eur.price(kafka(message_count=3))

    # Kafka at EUR 0.03 per 1000 messages, 10 at least: EUR 0.0003
    assert line.amount == Decimal("0.0003") * Decimal("1.08")
    assert line.detail == (
        "3 messages (billed the minimum 10) at 0.03 per 1000 (kafka messages); "
        "EUR 0.0003 at 1.08 USD/EUR from 2026-01-01"
    )
    units = CONFTEST.make_span(
        at=MARCH, category="db", system="aws.dynamodb", operation="GetItem", request_units=2.5
    )
    # 2.5 RU at EUR 0.11 per million: EUR 0.000000275
    assert eur.price(units).amount == Decimal("0.000000275") * Decimal("1.08")


def test_a_multiplier_on_a_euro_card_is_a_ratio_not_a_price(eur):
    record = CONFTEST.make_span(
        at=NOVEMBER,
        category="llm",
        provider="openai",
        request_model="gpt-4o",
        input_tokens=1000,
        output_tokens=100,
    )
    line = eur.price(record)

    # gpt-4o at $2.50 / 1M input, $10 / 1M output, times 0.9: no exchange rate applies
    assert line.amount == (Decimal("0.0025") + Decimal("0.001")) * Decimal("0.9")
    assert "EUR" not in line.detail


def test_a_reported_cost_stays_as_reported(eur):
    line = eur.price(llama(reported_cost=Decimal("0.25")))
    assert (line.amount, line.source, line.currency) == (Decimal("0.25"), "reported", "USD")


def test_a_reported_zero_beside_usage_is_priced_and_converted(eur):
    line = eur.price(llama(reported_cost=Decimal(0)))

    assert line.amount == Decimal("0.0000694") * Decimal("1.08")
    assert line.detail == (
        "llama contract: GPU hours; EUR 0.0000694 at 1.08 USD/EUR from 2026-01-01; "
        "reported 0 ignored: the span carries usage"
    )


def test_a_failed_call_without_usage_is_not_billed(eur):
    line = eur.price(llama(input_tokens=None, output_tokens=None, status_code="error"))
    assert (line.amount, line.source) == (Decimal(0), "not_billed")


# --- the bulk pricer ----------------------------------------------------------------------


def priced_alike(pricer: Pricer, records: list[SpanRecord]) -> BulkPricer:
    """Assert a batch gives each span the line it gets alone (a batch of one)."""
    for i, record in enumerate(records):
        record.span_id = f"{i + 1:016x}"
    bulk = BulkPricer(pricer)
    for _ in range(2):  # again, from the quotes kept
        got = bulk.price_records(records)
        for record, line in zip(records, got, strict=True):
            assert line == CONFTEST.alone(pricer, record), record
    return bulk


def every_kind_of_span() -> list[SpanRecord]:
    span = CONFTEST.make_span
    days = (BEFORE, MARCH, datetime(2026, 6, 30, 23, tzinfo=UTC), NOVEMBER)
    records: list[SpanRecord] = []
    for at in days:
        records += [
            llama(at=at),
            llama(at=at, input_tokens=10**9, output_tokens=3),
            llama(at=at, input_tokens=1, cache_read_tokens=5),  # does not add up
            llama(at=at, input_tokens=None, output_tokens=None),  # usage not reported
            llama(at=at, input_tokens=None, output_tokens=None, status_code="error"),
            llama(at=at, reported_cost=Decimal(0)),
            llama(at=at, reported_cost=Decimal("0.25")),
            kafka(at=at),
            kafka(at=at, message_count=3),
            kafka(at=at, message_count=12_345),
            kafka(at=at, message_count=7, reported_cost=Decimal(0)),
            kafka(at=at, status_code="error"),
            span(at=at, category="db", system="aws.dynamodb", request_units=2.86),
            span(at=at, category="db", system="aws.dynamodb", request_units=2.5,
                 reported_cost=Decimal(0)),
            span(at=at, category="db", system="bigquery", bytes_scanned=2**40),
            span(at=at, category="db", system="bigquery", bytes_scanned=123_456_789),
            span(at=at, category="db", system="bigquery"),
            span(at=at, category="llm", provider="openai", request_model="gpt-4o",
                 input_tokens=1000, output_tokens=100),
        ]  # fmt: skip
    return records


def test_a_batch_gives_every_span_its_line_alone(eur, monkeypatch):
    records = every_kind_of_span()
    priced_alike(eur, records)

    on_their_own: list[SpanRecord] = []
    line_of = eur.line_of

    def recorded(record: SpanRecord):
        if record.name:  # a real span, not one a quote is declared from
            on_their_own.append(record)
        return line_of(record)

    monkeypatch.setattr(eur, "line_of", recorded)
    BulkPricer(eur).price_records(records)

    # converted in bulk: only what no rate applies exactly is priced span by span
    assert on_their_own
    for record in on_their_own:
        assert (
            record.request_units is not None  # a float quantity
            or (record.bytes_scanned or 0) % 2**24  # off the price's exact step
            or (record.cache_read_tokens or 0) > (record.input_tokens or 0)  # does not add up
        ), record


def test_many_spans_of_one_day_are_converted_by_their_quote(eur):
    records = [llama(input_tokens=n * 1_000, output_tokens=n) for n in range(1, 60)]
    records += [kafka(message_count=n) for n in range(1, 60)]

    bulk = priced_alike(eur, records)

    assert bulk.spans_one_by_one == 0


SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.slow  # a long property run
@SETTINGS
@given(records=BULK.spans())
def test_generated_spans_are_priced_alike_with_a_euro_card(eur, records):
    # the generated days run from 2019 (no EUR rate yet) to 2026 (two rates)
    priced_alike(eur, records)


# --- stored and summed --------------------------------------------------------------------


def raw_span(span_id: str, run: str, at: datetime, attributes: dict) -> RawSpan:
    start = int(at.timestamp()) * 10**9
    return RawSpan(
        trace_id=f"{run:0>32}",
        span_id=span_id,
        parent_span_id=None,
        name="call",
        kind="client",
        start_ns=start,
        end_ns=start + 1_000,
        status_code="unset",
        attributes={sc.RUN_ID: run, sc.WORKFLOW: "support", sc.EVENT_ID: run, **attributes},
        resource={},
    )


def test_stored_costs_are_all_usd_and_add_up(eur, tmp_path):
    llama_call = {
        sc.GEN_AI_PROVIDER_NAME: "vllm",
        sc.GEN_AI_REQUEST_MODEL: "llama-3.1-8b",
        sc.GEN_AI_USAGE_INPUT_TOKENS: 1234,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: 77,
    }
    catalog_call = {
        sc.GEN_AI_PROVIDER_NAME: "anthropic",
        sc.GEN_AI_REQUEST_MODEL: "claude-sonnet-4-5",
        sc.GEN_AI_USAGE_INPUT_TOKENS: 100,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: 10,
    }
    spans = [
        raw_span("1" * 16, "a", MARCH, llama_call),
        raw_span("2" * 16, "a", MARCH, catalog_call),
        raw_span("3" * 16, "b", BEFORE, llama_call),  # no EUR rate yet: unpriced
        raw_span("4" * 16, "b", MARCH, catalog_call),
    ]
    with open_store(str(tmp_path / "botanu.duckdb")) as store:
        ingest_payloads(store, [spans], eur)
        currencies = store.query("SELECT DISTINCT currency FROM cost_lines").rows
        runs = store.query("SELECT run_id, total_cost, priced_cost FROM runs ORDER BY 1").rows

    claude = Decimal("0.00045")  # (100 * $3 + 10 * $15) / 1e6
    euros = Decimal("0.0000694") * Decimal("1.08")
    assert currencies == [("USD",)]
    assert runs == [("a", euros + claude, euros + claude), ("b", None, claude)]


# --- botanu prices ------------------------------------------------------------------------


def test_prices_shows_a_euro_price_with_its_usd_figure(tmp_path, monkeypatch):
    card = tmp_path / "acme.yaml"
    card.write_text(EUR_CARD.lstrip("\n"))
    monkeypatch.setenv("BOTANU_RATE_CARD", str(card))

    result = CliRunner().invoke(
        cli, ["prices", "llama-3.1-8b", "--provider", "vllm", "--at", "2026-03-01", "--json"]
    )

    assert result.exit_code == 0, result.output
    rows = {row["usage"]: row for row in json.loads(result.output)}
    assert rows["input"]["per_million_tokens"] == "0.054"  # EUR 0.05 at 1.08
    assert rows["input"]["detail"] == (
        "llama contract: GPU hours; EUR 0.05 per million tokens at 1.08 USD/EUR from 2026-01-01"
    )
    assert rows["output"]["per_million_tokens"] == "0.108"
    assert rows["output"]["detail"].endswith(
        "EUR 0.1 per million tokens at 1.08 USD/EUR from 2026-01-01"
    )
