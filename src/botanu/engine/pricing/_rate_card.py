"""Rate cards: dated, sourced unit prices kept as YAML data. This module reads and
validates a file into typed entries with Decimal prices; every error names the file, the
line and the field. Matching entries to spans lives in `_resources` and `_llm`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal, get_args

import yaml

from botanu.engine.pricing._currency import (
    ExchangeRate,
    ExchangeRates,
    read_currency,
    read_exchange_rates,
)
from botanu.engine.records import Category
from botanu.exceptions import RateCardError

__all__ = [
    "MAX_PRICE",
    "MAX_RATE_CARD_BYTES",
    "TOKEN_PRICE_FIELDS",
    "RateCard",
    "RateCardEntry",
    "RateCardError",
    "Unit",
    "load_rate_card",
    "parse_rate_card",
    "shipped_rate_card",
]

Unit = Literal[
    "bytes_scanned",
    "bytes_read",
    "bytes_written",
    "bytes",
    "request_units",
    "rows",
    "objects",
    "messages",
    "requests",
]
# per-million-token prices, named as genai-prices names them
TOKEN_PRICE_FIELDS = (
    "input_mtok",
    "output_mtok",
    "cache_read_mtok",
    "cache_write_mtok",
    "cache_write_1h_mtok",
)

_CATEGORIES: tuple[Category, ...] = get_args(Category)
_UNITS: tuple[Unit, ...] = get_args(Unit)
_COMMON_FIELDS = ("name", "category", "effective_from", "source", "multiplier")
_LLM_FIELDS = ("provider", "model", *TOKEN_PRICE_FIELDS)
_RESOURCE_FIELDS = ("system", "operation", "unit", "per", "price", "minimum")
_TOP_FIELDS = ("version", "currency", "exchange_rates", "prices")

# Real rate cards are a few KB (the shipped one ~10 KB, ~60 entries); 1 MiB holds some 6,000
# entries and parses in seconds, while a 100 MB file took minutes and gigabytes.
MAX_RATE_CARD_BYTES = 1024 * 1024
# No provider bills a million dollars per unit or per million tokens: a bigger price is a
# typo or an attack, and could overflow the arithmetic of pricing and of the sums.
MAX_PRICE = Decimal(1_000_000)
# A multiplier scales another source's price (a discount or a surcharge); a thousandfold
# markup is beyond any contract.
MAX_MULTIPLIER = Decimal(1000)
# `per` units a price is for: a quintillion bytes (an exabyte) is beyond any price list.
MAX_PER = 10**18

_STR = "tag:yaml.org,2002:str"
_NUMBER_TAGS = (_STR, "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


@dataclass(frozen=True, slots=True)
class RateCardEntry:
    """One dated, sourced price.

    An `llm` entry matches on provider and model (glob patterns) and carries
    per-million-token prices; any other category matches on system and operation and
    carries `price` per `per` units of `unit`. Either kind may instead carry a
    `multiplier` that scales the price the next source gives (a negotiated discount).
    Empty match tuples match anything; text is kept lower-cased.
    """

    category: Category
    effective_from: date
    source: str
    line: int
    name: str | None = None
    providers: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    systems: tuple[str, ...] = ()
    operations: tuple[str, ...] = ()
    unit: Unit | None = None
    per: int = 1
    price: Decimal | None = None
    minimum: Decimal | None = None
    token_prices: tuple[tuple[str, Decimal], ...] = ()
    multiplier: Decimal | None = None

    @property
    def label(self) -> str:
        return self.name or f"entry at line {self.line}"


@dataclass(frozen=True, slots=True)
class RateCard:
    """A validated rate card. `version` names the file and a hash of its bytes (rates
    included). Prices are in `currency`; `exchange_rates` turn them into USD."""

    path: str
    version: str
    entries: tuple[RateCardEntry, ...]
    currency: str = "USD"
    exchange_rates: tuple[ExchangeRate, ...] = ()
    _by_category: Mapping[str, tuple[RateCardEntry, ...]] = field(
        init=False, repr=False, compare=False
    )
    _rates: ExchangeRates = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {c: tuple(e for e in self.entries if e.category == c) for c in _CATEGORIES}
        object.__setattr__(self, "_by_category", index)
        object.__setattr__(self, "_rates", ExchangeRates(self.exchange_rates, self.path))

    def entries_for(self, category: Category) -> tuple[RateCardEntry, ...]:
        return self._by_category[category]

    def usd_rate(self, day: date) -> ExchangeRate | str | None:
        """The rate that turns this card's prices into USD on `day`: None for a USD card,
        else the rate in force, or why there is none (the span is then unpriced)."""
        if self.currency == "USD":
            return None
        return self._rates.in_force(self.currency, day)


def load_rate_card(path: str | os.PathLike[str]) -> RateCard:
    """Read and validate a rate card file (raises `RateCardError`)."""
    where = os.fspath(path)
    try:
        with open(where, "rb") as file:
            # read one byte past the limit, never the whole of a huge file or a device
            data = file.read(MAX_RATE_CARD_BYTES + 1)
    except OSError as exc:
        raise RateCardError(where, None, None, f"cannot read the file: {exc.strerror}") from exc
    if len(data) > MAX_RATE_CARD_BYTES:
        raise _too_big(where)
    return parse_rate_card(data, where, version=f"{Path(where).name}+sha256:{_digest(data)}")


@cache
def shipped_rate_card() -> RateCard:
    """The rate card botanu ships (`botanu/engine/pricing/data/rate_card.yaml`)."""
    data = resources.files("botanu.engine.pricing").joinpath("data/rate_card.yaml").read_bytes()
    return parse_rate_card(
        data, "botanu/rate_card.yaml", version=f"botanu/rate_card.yaml+sha256:{_digest(data)}"
    )


def parse_rate_card(data: bytes | str, path: str, *, version: str | None = None) -> RateCard:
    """Validate rate-card YAML; `path` is only used to name the file in errors."""
    if len(data) > MAX_RATE_CARD_BYTES:
        raise _too_big(path)
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RateCardError(path, None, None, "not UTF-8 text") from exc
    try:
        root = yaml.compose(data, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise RateCardError(path, line, None, f"not valid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise RateCardError(path, None, None, f"not valid YAML: {exc}") from exc
    reader = _Reader(path)
    if root is None:
        raise RateCardError(path, 1, None, "empty file: expected 'version: 1' and 'prices:'")
    top = reader.mapping(root, "(top level)", _TOP_FIELDS)
    if "version" not in top:
        raise reader.error(root, "version", "missing (write 'version: 1')")
    if reader.integer(top["version"], "version") != 1:
        raise reader.error(top["version"], "version", "only version 1 is understood")
    rates = read_exchange_rates(reader, top["exchange_rates"]) if "exchange_rates" in top else ()
    currency = read_currency(reader, top["currency"], rates) if "currency" in top else "USD"
    if "prices" not in top:
        raise reader.error(root, "prices", "missing (a list of price entries)")
    items = top["prices"]
    if not isinstance(items, yaml.SequenceNode):
        raise reader.error(items, "prices", "expected a list of price entries")
    entries = tuple(reader.entry(node, f"prices[{i}]") for i, node in enumerate(items.value))
    return RateCard(
        path=path,
        version=version or path,
        entries=entries,
        currency=currency,
        exchange_rates=rates,
    )


def _too_big(path: str) -> RateCardError:
    limit = f"{MAX_RATE_CARD_BYTES / (1024 * 1024):g} MiB"
    return RateCardError(
        path, None, None, f"larger than {limit}, not read (a rate card is a few KB)"
    )


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


class _Reader:
    """Turns YAML nodes into typed values; errors carry the node's line."""

    def __init__(self, path: str) -> None:
        self.path = path

    def error(self, node: yaml.Node, field: str, problem: str) -> RateCardError:
        return RateCardError(self.path, node.start_mark.line + 1, field, problem)

    def mapping(
        self, node: yaml.Node, field: str, allowed: tuple[str, ...]
    ) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, field, "expected a mapping of field: value")
        out: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            where = key if field == "(top level)" else f"{field}.{key}"
            if key not in allowed:
                raise self.error(
                    key_node, where, f"unknown field (expected one of: {', '.join(allowed)})"
                )
            if key in out:
                raise self.error(key_node, where, "given twice")
            out[key] = value_node
        return out

    def scalar(self, node: yaml.Node, field: str, tags: tuple[str, ...], expected: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag not in tags or not node.value:
            raise self.error(node, field, f"expected {expected}")
        return str(node.value).strip()

    def text(self, node: yaml.Node, field: str) -> str:
        # any non-empty scalar: a name or a URL may look like a number or a date
        if isinstance(node, yaml.ScalarNode) and node.tag != "tag:yaml.org,2002:null":
            value = str(node.value).strip()
            if value:
                return value
        raise self.error(node, field, "expected non-empty text")

    def texts(self, node: yaml.Node, field: str) -> tuple[str, ...]:
        """One text or a list of texts, lower-cased for matching."""
        if isinstance(node, yaml.SequenceNode):
            values = tuple(self.text(item, field).lower() for item in node.value)
            if not values:
                raise self.error(node, field, "expected at least one value")
            return values
        return (self.text(node, field).lower(),)

    def integer(self, node: yaml.Node, field: str) -> int:
        raw = self.scalar(node, field, _NUMBER_TAGS, "a whole number")
        try:
            return int(raw)
        except ValueError:
            raise self.error(node, field, f"expected a whole number, got {_shown(raw)}") from None

    def decimal(
        self,
        node: yaml.Node,
        field: str,
        maximum: Decimal = MAX_PRICE,
        example: str = 'a price such as "0.40"',
    ) -> Decimal:
        # the scalar's own text, never a float: 0.1 stays exactly 0.1
        raw = self.scalar(node, field, _NUMBER_TAGS, example)
        try:
            value = Decimal(raw.replace("_", ""))
        except InvalidOperation:
            problem = f"expected {example}, got {_shown(raw)}"
            raise self.error(node, field, problem) from None
        if not value.is_finite() or value < 0:
            problem = f"expected a finite amount of 0 or more, got {_shown(raw)}"
            raise self.error(node, field, problem)
        if value > maximum:
            problem = f"{_shown(raw)} is beyond any plausible value (at most {maximum:,})"
            raise self.error(node, field, problem)
        return value

    def day(self, node: yaml.Node, field: str) -> date:
        raw = self.scalar(node, field, (_STR, "tag:yaml.org,2002:timestamp"), "a date YYYY-MM-DD")
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise self.error(node, field, f"expected a date YYYY-MM-DD, got {raw!r}") from None

    def entry(self, node: yaml.Node, where: str) -> RateCardEntry:
        fields = self.mapping(node, where, (*_COMMON_FIELDS, *_LLM_FIELDS, *_RESOURCE_FIELDS))
        return _Entry(self, fields, where, node).build()


class _Entry:
    """Validates one price entry: required fields, fields of the other kind, price forms."""

    def __init__(
        self, reader: _Reader, fields: dict[str, yaml.Node], where: str, node: yaml.Node
    ) -> None:
        self.r, self.fields, self.where, self.node = reader, fields, where, node

    def error(self, key: str, problem: str) -> RateCardError:
        # point at the field when it is there, else at the entry that lacks it
        return self.r.error(self.fields.get(key, self.node), f"{self.where}.{key}", problem)

    def decimal(self, key: str) -> Decimal | None:
        node = self.fields.get(key)
        if node is None:
            return None
        maximum = MAX_MULTIPLIER if key == "multiplier" else MAX_PRICE
        return self.r.decimal(node, f"{self.where}.{key}", maximum)

    def texts(self, key: str) -> tuple[str, ...]:
        node = self.fields.get(key)
        return () if node is None else self.r.texts(node, f"{self.where}.{key}")

    def text(self, key: str) -> str | None:
        node = self.fields.get(key)
        return None if node is None else self.r.text(node, f"{self.where}.{key}")

    def build(self) -> RateCardEntry:
        for required in ("category", "effective_from", "source"):
            if required not in self.fields:
                raise self.error(required, "missing")
        category = self.text("category")
        if category == "llm":
            return self._llm()
        for cat in _CATEGORIES:
            if cat == category:
                return self._resource(cat)
        raise self.error("category", f"expected one of {', '.join(_CATEGORIES)}, got {category!r}")

    def _common(self, other_kind: tuple[str, ...], kind: str) -> tuple[date, str, Decimal | None]:
        for key in other_kind:
            if key in self.fields:
                raise self.error(key, f"not a field of {kind} entry")
        effective_from = self.r.day(self.fields["effective_from"], f"{self.where}.effective_from")
        return effective_from, self.text("source") or "", self.decimal("multiplier")

    def _llm(self) -> RateCardEntry:
        effective_from, source, multiplier = self._common(_RESOURCE_FIELDS, "an llm")
        tokens = tuple(
            (key, value) for key in TOKEN_PRICE_FIELDS if (value := self.decimal(key)) is not None
        )
        if tokens and multiplier is not None:
            raise self.error("multiplier", "give token prices or a multiplier, not both")
        if not tokens and multiplier is None:
            raise self.error("input_mtok", "an llm entry needs token prices or a multiplier")
        if tokens and not {k for k, _ in tokens} & {"input_mtok", "output_mtok"}:
            raise self.error("input_mtok", "token prices need input_mtok or output_mtok")
        return RateCardEntry(
            category="llm",
            effective_from=effective_from,
            source=source,
            line=self.node.start_mark.line + 1,
            name=self.text("name"),
            providers=self.texts("provider"),
            models=self.texts("model"),
            token_prices=tokens,
            multiplier=multiplier,
        )

    def _resource(self, category: Category) -> RateCardEntry:
        effective_from, source, multiplier = self._common(_LLM_FIELDS, f"a {category}")
        price = self.decimal("price")
        if price is not None and multiplier is not None:
            raise self.error("multiplier", "give a price or a multiplier, not both")
        if price is None:
            if multiplier is None:
                raise self.error("price", "an entry needs a price (with unit) or a multiplier")
            for key in ("unit", "per", "minimum"):
                if key in self.fields:
                    raise self.error(key, "only goes with a price")
        unit: Unit | None = None
        if price is not None:
            if "unit" not in self.fields:
                raise self.error("unit", f"missing: the price is per what? ({', '.join(_UNITS)})")
            unit = _unit(self.text("unit"))
            if unit is None:
                raise self.error("unit", f"expected one of {', '.join(_UNITS)}")
        per = 1
        if "per" in self.fields:
            per = self.r.integer(self.fields["per"], f"{self.where}.per")
            if not 0 < per <= MAX_PER:
                raise self.error("per", f"expected a whole number above 0, at most {MAX_PER:,}")
        return RateCardEntry(
            category=category,
            effective_from=effective_from,
            source=source,
            line=self.node.start_mark.line + 1,
            name=self.text("name"),
            systems=self.texts("system"),
            operations=self.texts("operation"),
            unit=unit,
            per=per,
            price=price,
            minimum=self.decimal("minimum"),
            multiplier=multiplier,
        )


def _shown(raw: str) -> str:
    """The scalar as an error quotes it, cut short (it may be a megabyte of digits)."""
    return repr(raw if len(raw) <= 40 else raw[:40] + "...")


def _unit(text: str | None) -> Unit | None:
    for unit in _UNITS:
        if unit == text:
            return unit
    return None
