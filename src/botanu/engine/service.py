"""Spans in, stored: decode, flatten, price and store, a batch of payloads at a time.

A payload is decoded whole before anything is stored, and stored whole with its cost
lines in one transaction (with the payloads batched beside it), so a crash or a bad
payload never leaves half of one. Spans travel as columns (`SpanBatch`) and are priced
in bulk, with the same cost lines `Pricer.price` gives one span at a time.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, BinaryIO

from botanu.engine.batch import SpanBatch
from botanu.engine.ingest import RawSpan, iter_file_payloads
from botanu.engine.ingest.bounds import (
    MAX_BACKWARDS_NS,
    MAX_SPAN_COST,
    TIME_MAX_NS,
    TIME_MIN_NS,
    out_of_time,
)
from botanu.engine.ingest.columnar import normalize_batch
from botanu.engine.ingest.otlp import FileExportError, iter_file_exports
from botanu.engine.pricing import Pricer
from botanu.engine.pricing._bulk import bulk_pricer
from botanu.engine.records import CostLine, SpanRecord, span_row_schema
from botanu.store import Store, StoreError

__all__ = [
    "FileIngest",
    "default_pricer",
    "ingest_file",
    "ingest_payloads",
    "join_rows",
    "prepare_spans",
    "prepare_spans_checked",
    "price_records",
    "read_file",
    "reprice",
]

log = logging.getLogger("botanu.engine")

SPAN_FIELDS = [f.name for f in dataclasses.fields(SpanRecord)]
# Spans per write: two of DuckDB's row groups (122,880 rows). A write of whole row groups
# goes straight to the file; a partial one goes through the WAL and a checkpoint, which
# costs twice as much per span.
BATCH_SPANS = 2 * 122_880
# Spans normalized and priced at a time: small enough for the CPU's caches (a whole write's
# worth at once is ~25% slower per span)
NORMALIZE_SPANS = 16_384


# Input bytes of a file held before a write, beside `BATCH_SPANS`: spans with big
# attributes reach it first, so what a file ingest holds is bounded in bytes too.
FILE_BATCH_BYTES = 32 * 1024 * 1024


def read_file(data: bytes) -> list[list[RawSpan]]:
    """Every export in a file's bytes, all decoded (raises OTLPDecodeError, and
    FileExportError past the size limit); `ingest_file` streams a file instead."""
    return list(iter_file_payloads(data))


@dataclasses.dataclass
class FileIngest:
    """What `ingest_file` did: new spans stored and the export that stopped it, if any
    (every export before that one's line was stored, none from it on)."""

    stored: int = 0
    error: FileExportError | None = None


def ingest_file(
    store: Store,
    source: BinaryIO,
    pricer: Pricer | None = None,
    max_export_bytes: int | None = None,
) -> FileIngest:
    """Stream an OTLP file into the store, an export at a time, writing every
    `BATCH_SPANS` spans or `FILE_BATCH_BYTES` of input; each export is decoded whole before
    it joins a write. A bad export stops the ingest after the ones before it are stored."""
    pricer = pricer or default_pricer()
    result = FileIngest()
    pending: list[RawSpan] = []
    pending_bytes = 0

    def write(count: int) -> None:
        try:
            result.stored += ingest_payloads(store, [pending[:count]], pricer)
        except StoreError as exc:
            raise StoreError(f"{exc} ({result.stored} new spans stored before)") from exc
        del pending[:count]

    try:
        for export in iter_file_exports(source, max_export_bytes):
            pending.extend(export.spans)
            pending_bytes += export.size
            while len(pending) >= BATCH_SPANS:
                left = len(pending) - BATCH_SPANS
                write(BATCH_SPANS)
                pending_bytes = pending_bytes * left // (left + BATCH_SPANS)
            if pending_bytes >= FILE_BATCH_BYTES:
                write(len(pending))
                pending_bytes = 0
    except FileExportError as exc:
        result.error = exc
    if pending:
        write(len(pending))
    return result


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
    """The spans normalized and priced, as the Arrow table `Store.write_batch` takes;
    a span that cannot be kept is left out with a warning (`prepare_spans_checked`)."""
    table, set_aside = prepare_spans_checked(raw_spans, pricer)
    if set_aside:
        span, why = set_aside[0]
        log.warning(
            "botanu: %d of %d spans set aside, not stored (span %s/%s: %s)",
            len(set_aside), len(raw_spans), span.trace_id, span.span_id, why,
        )  # fmt: skip
    return table


def prepare_spans_checked(
    raw_spans: Sequence[RawSpan], pricer: Pricer
) -> tuple[Any, list[tuple[RawSpan, str]]]:
    """The rows of the spans that can be kept (normalized and priced, the Arrow table
    `Store.write_batch` takes), and the spans set aside, each with why: times no clock
    reads, or a value no column can hold. One such span never costs its neighbours."""
    bulk = bulk_pricer(pricer)
    set_aside: list[tuple[RawSpan, str]] = []
    tables: list[Any] = []
    with _cycle_collector_paused():
        for start in range(0, len(raw_spans), NORMALIZE_SPANS):
            chunk = raw_spans[start : start + NORMALIZE_SPANS]
            tables.extend(_prepared(chunk, bulk, set_aside))
    return join_rows(tables), set_aside


# what normalizing or pricing raises for a value no column can hold
_UNHOLDABLE = (ValueError, OverflowError, ArithmeticError)


def _prepared(
    spans: Sequence[RawSpan], bulk: Any, set_aside: list[tuple[RawSpan, str]]
) -> list[Any]:
    """The spans' rows, as tables, less the spans whose times cannot be kept. When a
    value no column holds fails them, the spans with times beyond int64 are left out, or
    else the halves tried again until that span is alone (log2(n) retries a span)."""
    try:
        batch = normalize_batch(spans)
        rows = batch.to_arrow(_bounded_costs(bulk.price_batch(batch)))
    except _UNHOLDABLE as exc:
        reasons = [out_of_time(span.start_ns, span.end_ns) for span in spans]
        if any(reasons):
            set_aside.extend((span, why) for span, why in zip(spans, reasons, strict=True) if why)
            timely = [span for span, why in zip(spans, reasons, strict=True) if not why]
            return _prepared(timely, bulk, set_aside) if timely else []
        if len(spans) == 1:
            set_aside.append((spans[0], f"a value no column can hold: {str(exc)[:200]}"))
            return []
        half = len(spans) // 2
        return _prepared(spans[:half], bulk, set_aside) + _prepared(spans[half:], bulk, set_aside)
    return [_timely_rows(batch, rows, spans, set_aside)]


def _timely_rows(
    batch: SpanBatch, rows: Any, spans: Sequence[RawSpan], set_aside: list[tuple[RawSpan, str]]
) -> Any:
    """`rows` less those whose times no clock reads (checked a column at a time), their
    spans set aside."""
    import pyarrow.compute as pc

    starts, ends = batch.array("start_ns"), batch.array("end_ns")
    within = pc.and_(
        pc.and_(pc.greater_equal(starts, TIME_MIN_NS), pc.less_equal(starts, TIME_MAX_NS)),
        pc.and_(pc.greater_equal(ends, TIME_MIN_NS), pc.less_equal(ends, TIME_MAX_NS)),
    )
    # times within the window: their difference cannot overflow
    timely = pc.and_(within, pc.greater_equal(pc.subtract(ends, starts), -MAX_BACKWARDS_NS))
    if timely.false_count == 0:
        return rows
    order = batch.order
    for row in pc.indices_nonzero(pc.invert(timely)).to_pylist():
        span = spans[order[row] if order is not None else row]
        set_aside.append((span, out_of_time(span.start_ns, span.end_ns) or "its times"))
    return rows.filter(timely)


def _bounded_costs(costs: Any) -> Any:
    """The cost columns less an amount beyond what one span can cost (a rate card's
    mistake), left unpriced with a note in its detail."""
    import pyarrow as pa
    import pyarrow.compute as pc

    amount = costs.column("amount")
    beyond = pc.greater(amount, pa.scalar(MAX_SPAN_COST, amount.type))
    if not pc.any(beyond).as_py():
        return costs
    beyond = pc.fill_null(beyond, False)
    note = pa.scalar(f"amount dropped: beyond {MAX_SPAN_COST} for one span", pa.string())
    detail = pc.if_else(beyond, note, costs.column("price_detail").cast(pa.string()))
    costs = costs.set_column(costs.schema.get_field_index("price_detail"), "price_detail", detail)
    unpriced = pc.if_else(beyond, pa.scalar(None, amount.type), amount)
    return costs.set_column(costs.schema.get_field_index("amount"), "amount", unpriced)


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
