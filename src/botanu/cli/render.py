"""Rendering query results: a rich table for people, JSON or CSV for programs."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import click

from botanu.engine.store import QueryResult

if TYPE_CHECKING:
    from botanu.engine.costing import OutcomeCost


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


def short_money(value: Decimal | None) -> str:
    """An amount for a person: 4 decimals, 6 below a cent, and never a misleading $0."""
    if value is None:
        return "-"
    if value == 0:
        return "$0"
    places = Decimal("0.0001") if abs(value) >= Decimal("0.01") else Decimal("0.000001")
    shown = value.quantize(places)
    return f"${shown}" if shown != 0 else "<$0.000001"


def emit_report(rows: Sequence[OutcomeCost], by: str) -> None:
    """The cost-per-outcome table (`--json` prints every figure exactly instead)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"cost per outcome by {by}")
    headings = ("", "events", "runs", "success", "pending", "total", "per success", "wasted")
    for heading in (*headings, "value", "ROI", "unpriced", "left out"):
        table.add_column(heading, justify="left" if not heading else "right", no_wrap=True)
    for row in rows:
        table.add_row(
            row.key or "(none)",
            str(row.events),
            str(row.runs),
            f"{row.success_rate * 100:.0f}%",
            str(row.pending_events) if row.pending_events else "-",
            short_money(row.total_cost),
            short_money(row.cost_per_success),
            short_money(row.wasted_cost),
            short_money(row.value_delivered),
            f"{row.roi * 100:.0f}%" if row.roi is not None else "-",
            str(row.unpriced_spans) if row.unpriced_spans else "-",
            str(row.events_unpriced) if row.events_unpriced else "-",
        )
    console = Console()
    console.width = max(console.width, 150)  # a pipe reports 80 columns: never cut names
    console.print(table)
    left_out = sum(row.events_unpriced for row in rows)
    if left_out:
        console.print(
            f"{left_out} event(s) left out of total, per success and wasted: some of their "
            'usage is unpriced (see `botanu sql "SELECT * FROM unpriced"`).'
        )
    late = sum(row.late_outcomes for row in rows)
    if late:
        console.print(
            f"{late} event outcome(s) resolved after their runs (`botanu outcome`, "
            "`resolve_outcome`) replace the runs' own: see `botanu sql \"SELECT event_id, "
            'final_outcome, outcome_source FROM events WHERE outcome_resolved_at IS NOT NULL"`.',
            highlight=False,
        )
    from botanu.engine.costing import value_notes

    for note in value_notes(rows):
        console.print(note, highlight=False)
