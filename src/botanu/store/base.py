"""What every store offers, whatever the database behind it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

from botanu.engine.records import CostLine, SpanRecord
from botanu.exceptions import BotanuError

__all__ = ["QueryResult", "Store", "StoreError"]


class StoreError(BotanuError):
    """The store could not be opened, or a statement failed; the message says why."""


class QueryResult(NamedTuple):
    columns: list[str]
    rows: list[tuple[Any, ...]]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


class Store(Protocol):
    dialect: str

    def write(self, spans: Sequence[SpanRecord], cost_lines: Sequence[CostLine] = ()) -> int: ...

    def update_costs(self, cost_lines: Sequence[CostLine]) -> int: ...
    def set_valuation(
        self, value_type: str, value_per_unit: Any, currency: str = "USD"
    ) -> None: ...

    def query(self, sql: str, parameters: Sequence[Any] | None = None) -> QueryResult: ...

    def close(self) -> None: ...

    def __enter__(self) -> Store: ...

    def __exit__(self, *exc: object) -> None: ...
