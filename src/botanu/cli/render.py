"""Rendering query results: a rich table for people, JSON or CSV for programs."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click

from botanu.store import QueryResult


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):  # exact, as text, without the store's trailing zeros
        return format(value.normalize(), "f")
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def money(value: Any) -> str:
    """A Decimal amount for a table: exact, trailing zeros trimmed, never rounded to $0."""
    if value is None:
        return "unpriced"
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return f"${text}"
    return str(value)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return money(value) if isinstance(value, Decimal) else str(value)


def emit(result: QueryResult, fmt: str, title: str | None = None) -> None:
    rows = [{c: _plain(v) for c, v in zip(result.columns, row, strict=True)} for row in result.rows]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, default=str))
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=result.columns)
        writer.writeheader()
        writer.writerows(rows)
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title)
        for column in result.columns:
            table.add_column(column)
        for row in result.rows:
            table.add_row(*(_cell(v) for v in row))
        Console().print(table)
