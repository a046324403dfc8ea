"""Spans in, stored: decode, flatten, price and store, a batch of payloads at a time.

A payload is decoded whole before anything is stored, and stored whole with its cost
lines in one transaction (with the payloads batched beside it), so a crash or a bad
payload never leaves half of one. Spans travel as columns (`SpanBatch`) and are priced
in bulk, with the same cost lines `Pricer.price` gives one span at a time.
"""

from __future__ import annotations

import dataclasses
import gc
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from botanu.engine.ingest import RawSpan, iter_file_payloads
from botanu.engine.ingest.columnar import normalize_batch
from botanu.engine.pricing import Pricer
from botanu.engine.pricing._bulk import bulk_pricer
from botanu.engine.records import CostLine, SpanRecord
from botanu.store import Store, StoreError
from botanu.store.base import span_row_schema

__all__ = [
    "default_pricer",
    "ingest_payloads",
    "join_rows",
    "prepare_spans",
    "price_records",
    "read_file",
    "reprice",
]

SPAN_FIELDS = [f.name for f in dataclasses.fields(SpanRecord)]
# Spans per write: two of DuckDB's row groups (122,880 rows). A write of whole row groups
# goes straight to the file; a partial one goes through the WAL and a checkpoint, which
# costs twice as much per span.
BATCH_SPANS = 2 * 122_880
# Spans normalized and priced at a time: small enough for the CPU's caches (a whole write's
# worth at once is ~25% slower per span)
NORMALIZE_SPANS = 16_384


def read_file(data: bytes) -> list[list[RawSpan]]:
    """Every export in a file, all decoded before any is stored (raises OTLPDecodeError)."""
    return list(iter_file_payloads(data))


def default_pricer() -> Pricer:
    """The shipped prices, plus the user's rate card named by `BOTANU_RATE_CARD`."""
    return Pricer(os.environ.get("BOTANU_RATE_CARD") or None)


def price_records(records: list[SpanRecord], pricer: Pricer | None = None) -> list[CostLine]:
    """Cost lines for the records that cost money (spans with nothing to price get none)."""
    lines = bulk_pricer(pricer or default_pricer()).price_records(records)
    return [line for line in lines if line is not None]


def ingest_payloads(
    store: Store, payloads: Iterable[list[RawSpan]], pricer: Pricer | None = None
) -> int:
    """Normalize, price and store the payloads, `BATCH_SPANS` spans a write, each all or
    nothing (a failed write keeps the ones before it; sending again is safe, as stored
    spans are skipped). Returns the number of new spans."""
    pricer = pricer or default_pricer()
    return sum(
        store.write_batch(prepare_spans(raw_spans, pricer)) for raw_spans in _batches(payloads)
    )


def prepare_spans(raw_spans: Sequence[RawSpan], pricer: Pricer) -> Any:
    """The spans normalized and priced, as the Arrow table `Store.write_batch` takes
    (raises StoreError for a value no column can hold)."""
    bulk = bulk_pricer(pricer)
    tables = []
    with _cycle_collector_paused():
        for start in range(0, len(raw_spans), NORMALIZE_SPANS):
            try:
                batch = normalize_batch(raw_spans[start : start + NORMALIZE_SPANS])
            except (ValueError, OverflowError) as exc:  # a value no column can hold
                raise StoreError(f"nothing was stored: {exc}") from exc
            tables.append(batch.to_arrow(bulk.price_batch(batch)))
    return join_rows(tables)


def join_rows(tables: Sequence[Any]) -> Any:
    """Tables of rows for `write_batch` as one (an empty one for none)."""
    import pyarrow as pa

    if not tables:
        return span_row_schema().empty_table()
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables)


def _batches(payloads: Iterable[list[RawSpan]]) -> Iterator[list[RawSpan]]:
    """The payloads' spans in order, cut into writes of `BATCH_SPANS` (the last shorter;
    a payload may straddle two writes)."""
    pending: list[RawSpan] = []
    for payload in payloads:
        pending.extend(payload)
        while len(pending) >= BATCH_SPANS:
            yield pending[:BATCH_SPANS]
            del pending[:BATCH_SPANS]
    if pending:
        yield pending


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Ingest allocates a few containers per span and no reference cycles; left running,
    the cyclic collector walks every live object again and again (half the ingest time).
    Restored after each batch, and left alone if the host had turned it off."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
