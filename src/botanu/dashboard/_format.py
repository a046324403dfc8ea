"""Formatting for the dashboard: HTML escaping, exact money, and JSON-ready values.

Everything that came from telemetry or the store goes through `esc` before it reaches a
page. Money is shown exactly, as the store keeps it: never rounded, never `$0` for usage
that could not be priced.
"""

from __future__ import annotations

import html
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

__all__ = ["esc", "link_id", "money", "money_html", "number", "percent", "plain", "query_string"]


def esc(value: Any) -> str:
    """Any value as HTML text (attribute-safe: quotes escaped too); None is empty."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        value = format(value.normalize(), "f")
    elif isinstance(value, datetime):
        value = value.isoformat(sep=" ", timespec="milliseconds")
    return html.escape(str(value), quote=True)


def money(value: Decimal | None, currency: str | None = "USD") -> str:
    """An exact amount as text: `$0.00242305`, `1.5 EUR`, or `unpriced` for None."""
    if value is None:
        return "unpriced"
    text = format(value.normalize(), "f")
    if currency in (None, "USD"):
        return f"-${text[1:]}" if text.startswith("-") else f"${text}"
    return f"{text} {currency}"


def money_html(value: Decimal | None, currency: str | None = "USD") -> str:
    """`money` as HTML: escaped, and unpriced marked so it stands out."""
    if value is None:
        return '<span class="unpriced">unpriced</span>'
    return esc(money(value, currency))


def percent(ratio: Decimal | None) -> str:
    """A ratio for a person, to a tenth of a percent (the JSON twin has it exactly)."""
    if ratio is None:
        return "-"
    return f"{(ratio * 100).quantize(Decimal('0.1'))}%"


def number(value: Any) -> str:
    """A count for a table; None is a dash."""
    return "-" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def plain(value: Any) -> Any:
    """A value ready for JSON: Decimals as exact strings (trailing zeros trimmed, as
    `OutcomeCost.as_json` and the CLI print them), dates and datetimes ISO."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def link_id(value: str) -> str:
    """An id as one URL path segment (every reserved character quoted)."""
    return quote(value, safe="")


def query_string(params: dict[str, Any]) -> str:
    """`?a=1&b=2` from the non-empty parameters, or an empty string."""
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return "?" + urlencode(kept) if kept else ""
