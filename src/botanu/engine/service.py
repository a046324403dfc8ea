"""Spans in, stored: decode, flatten, price and store, one payload at a time.

A payload is decoded whole before anything is stored, and each payload is stored in one
transaction with its cost lines, so a crash or a bad payload never leaves half of one.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable

from botanu.engine.ingest import RawSpan, iter_file_payloads, normalize
from botanu.engine.pricing import Pricer
from botanu.engine.records import CostLine, SpanRecord
from botanu.store import Store

__all__ = ["default_pricer", "ingest_payloads", "price_records", "read_file", "reprice"]

SPAN_FIELDS = [f.name for f in dataclasses.fields(SpanRecord)]


def read_file(data: bytes) -> list[list[RawSpan]]:
    """Every export in a file, all decoded before any is stored (raises OTLPDecodeError)."""
    return list(iter_file_payloads(data))


def default_pricer() -> Pricer:
    """The shipped prices, plus the user's rate card named by `BOTANU_RATE_CARD`."""
    return Pricer(os.environ.get("BOTANU_RATE_CARD") or None)


def price_records(records: list[SpanRecord], pricer: Pricer | None = None) -> list[CostLine]:
    """Cost lines for the records that cost money (spans with nothing to price get none)."""
    pricer = pricer or default_pricer()
    lines = (pricer.price(record) for record in records)
    return [line for line in lines if line is not None]


def ingest_payloads(
    store: Store, payloads: Iterable[list[RawSpan]], pricer: Pricer | None = None
) -> int:
    """Normalize, price and store each payload; returns the number of new spans."""
    pricer = pricer or default_pricer()
    stored = 0
    for raw_spans in payloads:
        records = [normalize(raw) for raw in raw_spans]
        stored += store.write(records, price_records(records, pricer))
    return stored


def reprice(
    store: Store,
    since_ns: int,
    until_ns: int,
    pricer: Pricer | None = None,
    batch_size: int = 50_000,
) -> int:
    """Recompute the cost lines of the spans that started in [since, until) with today's
    prices (after a catalog update or a new rate card); returns how many were priced.
    Each batch replaces its lines in one transaction."""
    pricer = pricer or default_pricer()
    columns = ", ".join(f'"{name}"' for name in SPAN_FIELDS)
    repriced, offset = 0, 0
    while True:
        batch = store.query(
            f"SELECT {columns} FROM spans WHERE start_ns >= ? AND start_ns < ? "
            "ORDER BY trace_id, span_id LIMIT ? OFFSET ?",
            [since_ns, until_ns, batch_size, offset],
        )
        if not batch.rows:
            return repriced
        records = [_record(row) for row in batch.as_dicts()]
        lines = price_records(records, pricer)
        store.update_costs(lines)
        repriced += len(lines)
        offset += batch_size


def _record(row: dict[str, object]) -> SpanRecord:
    row["attributes"] = dict(row.get("attributes") or {})  # type: ignore[call-overload]
    return SpanRecord(**row)  # type: ignore[arg-type]
