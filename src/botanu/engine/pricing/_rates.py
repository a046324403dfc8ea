"""The arithmetic of quotes: genai-prices and rate-card prices turned into the exact
per-token rates and integer unit prices apply.sql applies, with the bounds within which
its arithmetic equals genai-prices' and the rate card's own (beyond them a span is
priced on its own).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Context, Decimal, Inexact, localcontext
from math import gcd, lcm
from typing import Any

from genai_prices.types import ModelPrice, TieredPrices

from botanu.engine.records import CostLine

__all__ = ["Line", "TokenRates", "UnitRate", "scaled", "token_rates"]

_TOKEN_KEYS = ("input_mtok", "cache_read_mtok", "cache_write_mtok", "cache_write_1h_mtok")
_PRICE_KEYS = (*_TOKEN_KEYS, "output_mtok")
# usage keys botanu reports to genai-prices: a priced unit above one of them changes leaves
_REPORTED = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_reasoning_tokens",
)
_MAX_RATE = Decimal(1)  # per token: apply.sql keeps rates as DECIMAL(18, 18)
_EXACT = Context(prec=80, traps=[Inexact])
_WIDE = Context(prec=80)


@dataclass(frozen=True, slots=True)
class Line:
    """A cost line apart from the span's identity; `amount` is set only for fixed lines."""

    source: str
    catalog_version: str | None
    matched_provider: str | None
    matched_model: str | None
    effective_date: date | None
    estimated: bool
    detail: str | None
    amount: Decimal | None = None

    @classmethod
    def of(cls, line: CostLine | None, *, keep_amount: bool = False) -> Line | None:
        if line is None:
            return None
        return cls(
            line.source,
            line.catalog_version,
            line.matched_provider,
            line.matched_model,
            line.effective_date,
            line.estimated,
            line.detail,
            line.amount if keep_amount else None,
        )


@dataclass(frozen=True, slots=True)
class TokenRates:
    """Per-token rates of the five token leaves (in, cache read, cache write, 1h write,
    out), below and above the context tier, and which cache leaves are priced apart."""

    base: tuple[Decimal, ...]
    high: tuple[Decimal, ...]
    tier_start: int | None
    priced: tuple[bool, bool, bool]  # cache read, cache write, 1h write
    # below this many tokens a count, times a rate, fits genai-prices' 28 digits (and a
    # multiplier after it): the pricer's own arithmetic is exact, so equal to ours
    max_tokens: int = 10**12


@dataclass(frozen=True, slots=True)
class UnitRate:
    """One rate-card entry in integers: amount = quantity * price / per (in 1e-18 of the
    card's currency), and the parts of a line's detail the entry declares."""

    unit: str
    price_e18: int  # the entry's price
    price2_e18: int  # after the user's multiplier (= price_e18 without one)
    per: int
    max_qty: int
    minimum: Decimal | None
    min_e18: int | None  # the amount of the minimum, when it is exact
    d_unit: str
    d_floor: str
    d_rest: str

    @property
    def step(self) -> int:
        """The fewest units whose price (before and after a multiplier) is a whole number
        of 1e-18: a quantity that is a multiple of it is priced exactly."""
        steps = [self.per // gcd(p, self.per) for p in (self.price_e18, self.price2_e18)]
        return lcm(*steps)

    @property
    def step_e18(self) -> int:
        return self.price2_e18 * self.step // self.per


def scaled(value: Decimal) -> int | None:
    """`value` in units of 1e-18, when it has at most 18 decimal places."""
    if not value.is_finite():
        return None
    try:
        scaled = value.scaleb(18, context=_EXACT)
    except Inexact:
        return None
    return int(scaled) if scaled == scaled.to_integral_value(context=_WIDE) else None


def token_rates(model_price: ModelPrice, multiplier: Decimal) -> TokenRates | str:
    """Per-token rates from a genai-prices price, when five token leaves express it."""
    from genai_prices.decompose import is_descendant_or_self
    from genai_prices.units import _get_registry

    registry = _get_registry()
    values: Mapping[str, Any] = {
        k: v for k, v in vars(model_price).items() if v is not None and not k.startswith("_")
    }
    reported = [registry.units[k] for k in _REPORTED]
    for key in values.keys() - set(_PRICE_KEYS):
        try:
            unit = registry.unit_for_price_key(key)
        except KeyError:
            return f"unknown price {key}"
        # a price on usage botanu never reports costs nothing, unless it is per request or
        # sits above a reported count (it would change that count's leaf)
        if unit.usage_key == "requests" or any(is_descendant_or_self(unit, r) for r in reported):
            return f"price {key} is not a token price"
    starts = {v.tiers[0].start for v in values.values() if isinstance(v, TieredPrices)}
    tiered = [v for v in values.values() if isinstance(v, TieredPrices)]
    if len(starts) > 1 or any(len(v.tiers) != 1 for v in tiered):
        return "several context tiers"
    base: list[Decimal] = []
    high: list[Decimal] = []
    for key in _PRICE_KEYS:
        value = values.get(key)
        low, top = (
            (value.base, value.tiers[0].price)
            if isinstance(value, TieredPrices)
            else (value, value)
        )
        for mtok, out in ((low, base), (top, high)):
            rate = _per_token(mtok, registry.unit_for_price_key(key).per, multiplier)
            if rate is None:
                return f"{key} has more than 18 decimal places per token"
            out.append(rate)
    priced = (
        "cache_read_mtok" in values,
        "cache_write_mtok" in values,
        "cache_write_1h_mtok" in values,
    )
    digits = max(_digits(v) for v in (*values.values(), multiplier) if v is not None)
    max_tokens = min(10**12, 10 ** max(0, 26 - digits - _digits(multiplier)))
    tier = starts.pop() if starts else None
    return TokenRates(tuple(base), tuple(high), tier, priced, max_tokens)


def _digits(value: Decimal | TieredPrices) -> int:
    """Significant digits of a price (the most of a tiered one's)."""
    if isinstance(value, TieredPrices):
        return max(_digits(value.base), *(_digits(t.price) for t in value.tiers))
    return len(value.normalize(context=_WIDE).as_tuple().digits)


def _per_token(mtok: Decimal | None, per: int, multiplier: Decimal) -> Decimal | None:
    if mtok is None:
        return Decimal(0)
    try:
        with localcontext(_EXACT):
            rate = mtok * multiplier / per
    except Inexact:
        return None
    if not rate.is_finite() or rate >= _MAX_RATE or rate < 0 or scaled(rate) is None:
        return None
    return rate
