"""What every store offers, whatever the database behind it."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Protocol

from botanu.engine.records import CostLine, SpanRecord
from botanu.engine.store.reads import QueryResult, ViewReads
from botanu.exceptions import QueryInterrupted, StoreError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "DayPriced",
    "QueryInterrupted",
    "QueryResult",
    "Store",
    "StoreError",
    "checked_valuation",
]


# what one unit of an outcome may be worth: far beyond any business outcome, well inside
# the DECIMAL(38, 18) column and its sums
MAX_VALUE_PER_UNIT = Decimal(10) ** 12
_VALUE_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}\Z")
_CURRENCY = re.compile(r"[A-Z]{3}\Z")


def checked_valuation(
    value_type: str, value_per_unit: Any, currency: str = "USD"
) -> tuple[str, Decimal, str]:
    """A valuation as stored, or `StoreError` saying what is wrong with it."""
    if not isinstance(value_type, str) or not _VALUE_TYPE.match(value_type):
        raise StoreError(
            f"value type {value_type!r}: use up to 128 letters, digits and _ . : - "
            "(like the outcome's value_type)"
        )
    try:
        amount = Decimal(str(value_per_unit))
    except (InvalidOperation, ValueError):
        raise StoreError(f"value {value_per_unit!r} is not a number") from None
    if not amount.is_finite() or not 0 <= amount <= MAX_VALUE_PER_UNIT:
        raise StoreError(f"value {value_per_unit!r}: give an amount from 0 to 10^12")
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise StoreError(f"currency {currency!r}: give a three-letter code such as USD")
    return value_type, amount, currency


@dataclass(frozen=True)
class DayPriced:
    """What pricing a UTC day of spans stored first (ClickHouse) did."""

    day: date
    spans: int  # spans priced this time
    rebuilt: bool  # whether the day's run rollup was rebuilt


class Store(ViewReads, Protocol):
    """A store: writes, valuations, pricing, the named reads (`ViewReads`) and `query`
    (for `botanu sql` and `/api/query`)."""

    dialect: str

    def write(self, spans: Sequence[SpanRecord], cost_lines: Sequence[CostLine] = ()) -> int: ...

    def write_batch(self, batch: pa.Table) -> int: ...

    def update_costs(self, cost_lines: Sequence[CostLine]) -> int: ...
    def set_valuation(
        self, value_type: str, value_per_unit: Any, currency: str = "USD"
    ) -> None: ...

    def unset_valuation(self, value_type: str) -> bool: ...

    def valuations(self) -> list[tuple[str, Decimal, str]]: ...

    def query(self, sql: str, parameters: Sequence[Any] | None = None) -> QueryResult: ...

    # pricing: each store knows how its spans are priced
    def reprice(self, since_ns: int, until_ns: int) -> int:
        """Price every span that started in [since, until) again; how many were."""
        ...

    def price_new(
        self,
        since_ns: int,
        until_ns: int,
        *,
        workers: int = 1,
        worker: int = 0,
        on_day: Callable[[DayPriced], None] | None = None,
    ) -> list[DayPriced] | None:
        """Price what arrived unpriced (None: this store prices spans as it stores them)."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Store: ...

    def __exit__(self, *exc: object) -> None: ...
