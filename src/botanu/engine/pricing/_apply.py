"""The one applier of rates (apply.sql), rendered for the database that runs it: DuckDB
for a batch on its way into the file store, ClickHouse for a day of the Collector's
spans. The quote kinds and unit codes it tests are filled in from `_quotes`, so the SQL
and the quotes cannot disagree on a number.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

from botanu.engine.pricing._quotes import (
    FIXED,
    TOKENS,
    UNIT_CODES,
    UNITS,
    USAGE_ALWAYS,
    USAGE_DB,
    USAGE_TOKENS,
)

__all__ = ["Dialect", "apply_sql"]

Dialect = Literal["duckdb", "clickhouse"]
_DIALECTS: dict[Dialect, dict[str, str]] = {
    "duckdb": {"__HUGEINT__": "HUGEINT", "__IDIV__": "//"},
    "clickhouse": {"__HUGEINT__": "Int128", "__IDIV__": "DIV"},
}


@cache
def _template() -> str:
    text = (resources.files(__package__) / "apply.sql").read_text(encoding="utf-8")
    # comments name the placeholders: they go, so only the statement's are filled in
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    names = {
        "__FIXED__": FIXED,
        "__TOKENS__": TOKENS,
        "__UNITS__": UNITS,
        "__USAGE_TOKENS__": USAGE_TOKENS,
        "__USAGE_DB__": USAGE_DB,
        "__USAGE_ALWAYS__": USAGE_ALWAYS,
        **{f"__UNIT_{unit.upper()}__": code for unit, code in UNIT_CODES.items()},
    }
    for name, number in names.items():
        text = text.replace(name, str(number))
    return text


def apply_sql(dialect: Dialect, rows: str, carry: tuple[str, ...] = ()) -> str:
    """The applier over `rows` (a table or a subquery), passing the columns `carry`
    through beside its own."""
    text = _template()
    for name, value in _DIALECTS[dialect].items():
        text = text.replace(name, value)
    passed = "".join(f"{column}, " for column in carry)
    return text.replace("__ROWS__", rows).replace("__CARRY__", passed)
