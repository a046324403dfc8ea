"""Spans in, stored: decode, flatten, price and store, one payload at a time.

A payload is decoded whole before anything is stored, and each payload is stored in one
transaction with its cost lines, so a crash or a bad payload never leaves half of one.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from botanu.engine.ingest import RawSpan, iter_file_payloads, normalize
from botanu.engine.records import CostLine, SpanRecord
from botanu.store import Store

__all__ = ["ingest_payloads", "price_records", "read_file"]


def read_file(data: bytes) -> list[list[RawSpan]]:
    """Every export in a file, all decoded before any is stored (raises OTLPDecodeError)."""
    return list(iter_file_payloads(data))


def price_records(records: list[SpanRecord]) -> list[CostLine]:
    """Cost lines for the records that carry usage (the pricing engine decides)."""
    try:
        pricing = importlib.import_module("botanu.engine.pricing")
    except ImportError:
        return []
    make_pricer = getattr(pricing, "default_pricer", None)
    if make_pricer is None:  # the pricing engine is not built yet: store unpriced
        return []
    pricer = make_pricer()
    lines = (pricer.price(record) for record in records)
    return [line for line in lines if line is not None]


def ingest_payloads(store: Store, payloads: Iterable[list[RawSpan]]) -> int:
    """Normalize, price and store each payload; returns the number of new spans."""
    stored = 0
    for raw_spans in payloads:
        records = [normalize(raw) for raw in raw_spans]
        stored += store.write(records, price_records(records))
    return stored
