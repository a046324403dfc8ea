"""What every store offers, whatever the database behind it."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from botanu.engine.records import TOKEN_FIELDS, UNIT_FIELDS, CostLine, SpanRecord
from botanu.exceptions import QueryInterrupted, StoreError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "COST_COLUMNS",
    "QueryInterrupted",
    "QueryResult",
    "Store",
    "StoreError",
    "checked_valuation",
    "span_row_schema",
]

# the cost line of a span, as columns of its row: cost line field -> column
COST_COLUMNS = {
    "amount": "amount",
    "currency": "currency",
    "source": "price_source",
    "catalog_version": "catalog_version",
    "matched_provider": "matched_provider",
    "matched_model": "matched_model",
    "effective_date": "effective_date",
    "estimated": "estimated",
    "detail": "price_detail",
}
_COUNTS = frozenset((*TOKEN_FIELDS, *UNIT_FIELDS))


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


class QueryResult(NamedTuple):
    columns: list[str]
    rows: list[tuple[Any, ...]]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@cache
def span_row_schema() -> pa.Schema:
    """The Arrow shape of a batch for `Store.write_batch`: every `SpanRecord` field (the
    attributes as key/value entries) followed by the span's cost line columns."""
    import pyarrow as pa

    money = pa.decimal128(38, 18)
    types = {
        "start_ns": pa.int64(),
        "end_ns": pa.int64(),
        "attempt": pa.int32(),
        "is_run_span": pa.bool_(),
        "outcome_value_amount": pa.float64(),
        "request_units": pa.float64(),
        "reported_cost": money,
        "attributes": pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())])),
        "amount": money,
        "effective_date": pa.date32(),
        "estimated": pa.bool_(),
    }
    names = [f.name for f in dataclasses.fields(SpanRecord)] + list(COST_COLUMNS.values())
    return pa.schema(
        [(n, types.get(n, pa.int64() if n in _COUNTS else pa.string())) for n in names]
    )


class Store(Protocol):
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

    def close(self) -> None: ...

    def __enter__(self) -> Store: ...

    def __exit__(self, *exc: object) -> None: ...
