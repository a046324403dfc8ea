"""Rate cards are data: the shipped one is sourced and dated throughout, and a malformed
file is refused with an error naming the file, the line and the field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from botanu.engine.pricing import (
    Pricer,
    RateCardError,
    load_rate_card,
    parse_rate_card,
    shipped_rate_card,
)
from botanu.exceptions import BotanuError

# --- the shipped card ---------------------------------------------------------------------------


def test_every_shipped_price_is_dated_and_sourced():
    card = shipped_rate_card()

    assert card.entries
    for entry in card.entries:
        assert isinstance(entry.effective_from, date)
        assert entry.source
        assert isinstance(entry.price, Decimal)
        if entry.price > 0:
            assert "https://" in entry.source, entry.label


def test_the_shipped_card_covers_the_promised_kinds_of_work():
    units = {(entry.category, entry.unit) for entry in shipped_rate_card().entries}

    assert ("db", "bytes_scanned") in units  # warehouse bytes
    assert ("db", "request_units") in units  # DynamoDB, Cosmos DB
    assert ("storage", "objects") in units  # object storage requests
    assert ("messaging", "requests") in units  # queue messages
    assert shipped_rate_card().version.startswith("botanu/rate_card.yaml+sha256:")


def test_a_bare_number_is_read_from_its_text_not_as_a_float(rate_card_file):
    card = load_rate_card(
        rate_card_file(
            """
            version: 1
            prices:
              - category: other
                system: x
                unit: requests
                price: 0.1
                effective_from: 2026-01-01
                source: test
            """
        )
    )

    assert card.entries[0].price == Decimal("0.1")


# --- malformed files ----------------------------------------------------------------------------

VALID_ENTRY = """\
  - category: storage
    system: s3
    unit: objects
    per: 1000
    price: "0.005"
    effective_from: 2026-01-01
    source: test
"""


@pytest.mark.parametrize(
    ("text", "line", "field", "problem"),
    [
        (
            "version: 1\nprices:\n" + VALID_ENTRY.replace('"0.005"', '"abc"'),
            7,
            "prices[0].price",
            "expected a price such as \"0.40\", got 'abc'",
        ),
        (
            "version: 1\nprices:\n"
            + VALID_ENTRY
            + "  - category: db\n    efective_from: 2026-01-01\n",
            11,
            "prices[1].efective_from",
            "unknown field",
        ),
        (
            "version: 1\nprices:\n" + VALID_ENTRY.replace("    source: test\n", ""),
            3,
            "prices[0].source",
            "missing",
        ),
        (
            "version: 1\nprices:\n" + VALID_ENTRY.replace("2026-01-01", "2026-13-01"),
            8,
            "prices[0].effective_from",
            "expected a date YYYY-MM-DD, got '2026-13-01'",
        ),
        (
            "version: 1\nprices:\n" + VALID_ENTRY.replace('"0.005"', '"-0.005"'),
            7,
            "prices[0].price",
            "expected a finite amount of 0 or more",
        ),
        (
            "version: 1\nprices:\n" + VALID_ENTRY.replace('"0.005"', '"NaN"'),
            7,
            "prices[0].price",
            "expected a finite amount of 0 or more",
        ),
        (
            "version: 1\nprices:\n" + VALID_ENTRY.replace("category: storage", "category: gpu"),
            3,
            "prices[0].category",
            "expected one of llm, db, storage, messaging, other, got 'gpu'",
        ),
        (
            "version: 1\nprices:\n" + VALID_ENTRY.replace("category: storage", "category: llm"),
            4,
            "prices[0].system",
            "not a field of an llm entry",
        ),
        (
            "version: 1\nprices:\n" + VALID_ENTRY.replace("    unit: objects\n", ""),
            3,
            "prices[0].unit",
            "missing: the price is per what?",
        ),
        (
            "version: 1\nprices:\n" + VALID_ENTRY.replace("unit: objects", "unit: gigabytes"),
            5,
            "prices[0].unit",
            "expected one of bytes_scanned",
        ),
        (
            "version: 1\nprices:\n" + VALID_ENTRY.replace("per: 1000", "per: 0"),
            6,
            "prices[0].per",
            "expected a whole number above 0",
        ),
        (
            "version: 1\nprices:\n" + VALID_ENTRY + '    multiplier: "0.9"\n',
            10,
            "prices[0].multiplier",
            "give a price or a multiplier, not both",
        ),
        (
            "version: 1\nprices:\n"
            "  - category: llm\n    model: gpt-4o\n    effective_from: 2026-01-01\n"
            "    source: test\n",
            3,
            "prices[0].input_mtok",
            "an llm entry needs token prices or a multiplier",
        ),
        (
            "version: 1\nprices:\n"
            "  - category: llm\n    model: gpt-4o\n    input_mtok: two dollars\n"
            "    effective_from: 2026-01-01\n    source: test\n",
            5,
            "prices[0].input_mtok",
            "expected a price such as \"0.40\", got 'two dollars'",
        ),
        (
            "version: 1\nprices:\n"
            + VALID_ENTRY.replace("    system: s3\n", "    system: s3\n    system: gcs\n"),
            5,
            "prices[0].system",
            "given twice",
        ),
        ("prices: []\n", 1, "version", "missing"),
        ("version: 2\nprices: []\n", 1, "version", "only version 1 is understood"),
        ("version: 1\ncurrency: EUR\nprices: []\n", 2, "currency", "prices in EUR need a rate"),
        ("version: 1\nprices:\n  category: db\n", 3, "prices", "expected a list of price entries"),
        ("version: 1\n", 1, "prices", "missing"),
    ],
    ids=[
        "price not a number",
        "misspelt field",
        "no source",
        "bad date",
        "negative price",
        "not a number",
        "unknown category",
        "field of the other kind",
        "price without unit",
        "unknown unit",
        "per zero",
        "price and multiplier",
        "llm entry without prices",
        "llm price not a number",
        "duplicate field",
        "no version",
        "future version",
        "other currency",
        "prices not a list",
        "no prices",
    ],
)
def test_a_malformed_rate_card_names_file_line_and_field(
    rate_card_file, text, line, field, problem
):
    path = rate_card_file(text)

    with pytest.raises(RateCardError) as caught:
        load_rate_card(path)

    error = caught.value
    assert (error.path, error.line, error.field) == (str(path), line, field)
    assert str(error).startswith(f"{path}:{line}: {field}: ")
    assert problem in str(error)


def test_a_yaml_syntax_error_names_file_and_line(rate_card_file):
    path = rate_card_file('version: 1\nprices:\n  - category: db\n    price: "0.1\n')

    with pytest.raises(RateCardError, match=r"rates\.yaml:\d+: not valid YAML") as caught:
        load_rate_card(path)

    assert caught.value.line is not None


def test_an_empty_file_is_refused(rate_card_file):
    with pytest.raises(RateCardError, match="empty file"):
        load_rate_card(rate_card_file(""))


def test_a_missing_file_is_named(tmp_path):
    missing = tmp_path / "nope.yaml"

    with pytest.raises(RateCardError, match=r"nope\.yaml: cannot read the file"):
        load_rate_card(missing)


def test_the_pricer_refuses_a_malformed_user_card(rate_card_file):
    path = rate_card_file("version: 1\nprices:\n" + VALID_ENTRY.replace('"0.005"', "twelve"))

    with pytest.raises(RateCardError, match=r"rates\.yaml:7: prices\[0\]\.price: "):
        Pricer(path)


def test_rate_card_errors_are_botanu_value_errors():
    with pytest.raises(BotanuError):
        parse_rate_card("version: x\nprices: []\n", "inline.yaml")
    with pytest.raises(ValueError, match=r"inline\.yaml:1: version: expected a whole number"):
        parse_rate_card("version: x\nprices: []\n", "inline.yaml")
