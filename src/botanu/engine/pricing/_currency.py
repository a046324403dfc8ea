"""Currencies: a rate card's dated exchange rates, and the one conversion of a price in
the card's currency into USD that every priced line goes through. Every stored
amount is USD, so no sum adds two currencies; a span with no rate in force is unpriced.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Context, Decimal
from pathlib import PurePath
from typing import Protocol

import yaml

from botanu.engine.records import CostLine

__all__ = [
    "MAX_EXCHANGE_RATE",
    "MAX_EXCHANGE_RATES",
    "ExchangeRate",
    "ExchangeRates",
    "convert",
    "read_currency",
    "read_exchange_rates",
    "to_usd",
]

# One rate a day for a dozen currencies over two years; more is a generated file gone wrong.
MAX_EXCHANGE_RATES = 10_000
# US dollars per unit: no currency is worth a million dollars (the dearest is a few)
MAX_EXCHANGE_RATE = Decimal(1_000_000)
# the store keeps 18 decimal places; a rate finer than that is not a published rate
_MAX_RATE_PLACES = 18
# an amount (at most 34 digits) times a rate (at most 25) is exact in 100 digits
_EXACT = Context(prec=100)
_CODE = re.compile(r"[A-Z]{3}\Z")
_RATE_FIELDS = ("currency", "from", "usd")


class _Reader(Protocol):
    """What the rate card's reader offers (`_rate_card._Reader`): typed values of YAML
    nodes, and errors that carry the node's line."""

    def error(self, node: yaml.Node, field: str, problem: str) -> Exception: ...

    def mapping(
        self, node: yaml.Node, field: str, allowed: tuple[str, ...]
    ) -> dict[str, yaml.Node]: ...

    def text(self, node: yaml.Node, field: str) -> str: ...

    def decimal(self, node: yaml.Node, field: str, maximum: Decimal, example: str) -> Decimal: ...

    def day(self, node: yaml.Node, field: str) -> date: ...


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    """`usd` US dollars per one unit of `currency`, from `effective_from` until the next
    rate of that currency."""

    currency: str
    effective_from: date
    usd: Decimal
    line: int = 0

    def to_usd(self, amount: Decimal) -> Decimal:
        """`amount` of this currency in USD, exactly (only the store rounds, once)."""
        return _EXACT.multiply(amount, self.usd)

    def from_usd(self, amount: Decimal) -> Decimal:
        """The amount of this currency that `to_usd` turns into `amount`."""
        return _EXACT.divide(amount, self.usd)

    def note(self, amount: Decimal, per: str = "") -> str:
        """How an amount was converted: `EUR 0.0123 at 1.08 USD/EUR from 2026-01-01`."""
        return (
            f"{self.currency} {_plain(amount)}{per} at {_plain(self.usd)} "
            f"USD/{self.currency} from {self.effective_from}"
        )


class ExchangeRates:
    """The rates of one card by currency, each currency's in date order."""

    def __init__(self, rates: tuple[ExchangeRate, ...], source: str) -> None:
        by_currency: dict[str, list[ExchangeRate]] = {}
        for rate in rates:
            by_currency.setdefault(rate.currency, []).append(rate)
        self._rates: Mapping[str, list[ExchangeRate]] = {
            code: sorted(found, key=lambda r: r.effective_from)
            for code, found in by_currency.items()
        }
        self._starts = {
            code: [r.effective_from for r in found] for code, found in self._rates.items()
        }
        self._source = PurePath(source).name  # a stored detail names no machine path

    def in_force(self, currency: str, day: date) -> ExchangeRate | str:
        """The rate of `currency` in force on `day`, or why there is none (the detail of
        an unpriced line: which rate is missing and how to add it)."""
        starts = self._starts.get(currency, [])
        at = bisect_right(starts, day)
        if at:
            return self._rates[currency][at - 1]
        first = f" (first from {starts[0]})" if starts else ""
        return (
            f"no {currency} exchange rate on {day}{first}: add "
            f'{{currency: {currency}, from: {day}, usd: "USD per {currency}"}} '
            f"to exchange_rates in {self._source}"
        )


def convert(
    amount: Decimal, detail: str | None, rate: ExchangeRate | None
) -> tuple[Decimal, str | None]:
    """An amount in a card's currency, and its line's detail, as USD: the amount times the
    rate, exactly, and the detail with a note of the original amount and the rate."""
    if rate is None:
        return amount, detail
    note = rate.note(amount)
    return rate.to_usd(amount), f"{detail}; {note}" if detail else note


def to_usd(line: CostLine, rate: ExchangeRate | None) -> CostLine:
    """A cost line priced in a card's currency, converted (`convert`); the USD price took
    effect when both the price and the rate were in force."""
    if rate is None or line.amount is None:
        return line
    amount, detail = convert(line.amount, line.detail, rate)
    start = line.effective_date
    if start is None or rate.effective_from > start:
        start = rate.effective_from
    return replace(line, amount=amount, currency="USD", detail=detail, effective_date=start)


def read_currency(reader: _Reader, node: yaml.Node, rates: tuple[ExchangeRate, ...]) -> str:
    """The card's `currency:`, a three-letter code; any but USD needs a rate to USD."""
    code = _code(reader.text(node, "currency"))
    if code is None:
        raise reader.error(node, "currency", "expected a three-letter code such as USD or EUR")
    if code != "USD" and all(rate.currency != code for rate in rates):
        # every stored amount is USD: prices in another currency are converted, dated
        problem = (
            f"prices in {code} need a rate to USD: add exchange_rates: "
            f'[{{currency: {code}, from: 2026-01-01, usd: "1.08"}}] '
            f"(US dollars per {code}, in force from that day)"
        )
        raise reader.error(node, "currency", problem)
    return code


def read_exchange_rates(reader: _Reader, node: yaml.Node) -> tuple[ExchangeRate, ...]:
    """The `exchange_rates:` section: a list of {currency, from, usd}, validated."""
    if not isinstance(node, yaml.SequenceNode):
        raise reader.error(node, "exchange_rates", "expected a list of {currency, from, usd}")
    if len(node.value) > MAX_EXCHANGE_RATES:
        raise reader.error(node, "exchange_rates", f"more than {MAX_EXCHANGE_RATES:,} rates")
    rates: list[ExchangeRate] = []
    seen: dict[tuple[str, date], int] = {}
    for i, item in enumerate(node.value):
        rate = _read_rate(reader, item, f"exchange_rates[{i}]")
        first = seen.setdefault((rate.currency, rate.effective_from), rate.line)
        if first != rate.line:
            given = f"a {rate.currency} rate from {rate.effective_from}"
            problem = f"{given} is given twice (first at line {first})"
            raise reader.error(item, f"exchange_rates[{i}].from", problem)
        rates.append(rate)
    return tuple(rates)


def _read_rate(reader: _Reader, node: yaml.Node, where: str) -> ExchangeRate:
    fields = reader.mapping(node, where, _RATE_FIELDS)
    for key in _RATE_FIELDS:
        if key not in fields:
            raise reader.error(
                node,
                f"{where}.{key}",
                'missing (write {currency: EUR, from: 2026-01-01, usd: "1.08"})',
            )
    code = _code(reader.text(fields["currency"], f"{where}.currency"))
    if code is None:
        raise reader.error(
            fields["currency"], f"{where}.currency", "expected a three-letter code such as EUR"
        )
    if code == "USD":
        raise reader.error(fields["currency"], f"{where}.currency", "USD needs no exchange rate")
    usd = reader.decimal(fields["usd"], f"{where}.usd", MAX_EXCHANGE_RATE, 'a rate such as "1.08"')
    if usd <= 0 or _places(usd) > _MAX_RATE_PLACES:
        problem = (
            f"expected US dollars per {code} above 0, at most {_MAX_RATE_PLACES} decimal places"
        )
        raise reader.error(fields["usd"], f"{where}.usd", problem)
    return ExchangeRate(
        currency=code,
        effective_from=reader.day(fields["from"], f"{where}.from"),
        usd=usd,
        line=node.start_mark.line + 1,
    )


def _code(text: str) -> str | None:
    """`text` as a three-letter currency code (upper-cased), or None when it is not one."""
    code = text.strip().upper()
    return code if _CODE.match(code) else None


def _places(value: Decimal) -> int:
    """Decimal places of `value` once trailing zeros are dropped."""
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # a finite value
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + trailing))


def _plain(value: Decimal) -> str:
    """A decimal as people write it: no exponent, no trailing zeros (0.0123, 1.08, 100)."""
    return format(value.normalize(_EXACT), "f")
