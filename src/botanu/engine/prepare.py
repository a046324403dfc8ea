"""Spans into rows: raw spans normalized and priced (in bulk, the same cost lines
`Pricer.price` gives one span at a time) into the Arrow table every store writes. What
every way in shares, below the stores: ingest and `botanu serve` on DuckDB, and the
spans `botanu price` leaves to Python on ClickHouse.
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from botanu.engine.batch import SpanBatch
from botanu.engine.ingest import RawSpan
from botanu.engine.ingest.bounds import (
    MAX_BACKWARDS_NS,
    MAX_SPAN_COST,
    TIME_MAX_NS,
    TIME_MIN_NS,
    out_of_time,
)
from botanu.engine.ingest.columnar import normalize_batch
from botanu.engine.pricing import Pricer
from botanu.engine.pricing._bulk import bulk_pricer
from botanu.engine.records import CostLine, SpanRecord, span_row_schema

__all__ = [
    "BATCH_SPANS",
    "NORMALIZE_SPANS",
    "cycle_collector_paused",
    "default_pricer",
    "join_rows",
    "prepare_spans",
    "prepare_spans_checked",
    "price_records",
]

log = logging.getLogger("botanu.engine")

# Spans per write: two of DuckDB's row groups (122,880 rows). A write of whole row groups
# goes straight to the file; a partial one goes through the WAL and a checkpoint, which
# costs twice as much per span.
BATCH_SPANS = 2 * 122_880
# Spans normalized and priced at a time: small enough for the CPU's caches (a whole write's
# worth at once is ~25% slower per span)
NORMALIZE_SPANS = 16_384


def default_pricer() -> Pricer:
    """The shipped prices, plus the user's rate card named by `BOTANU_RATE_CARD`."""
    return Pricer(os.environ.get("BOTANU_RATE_CARD") or None)


def price_records(records: list[SpanRecord], pricer: Pricer | None = None) -> list[CostLine]:
    """Cost lines for the records that cost money (spans with nothing to price get none)."""
    lines = bulk_pricer(pricer or default_pricer()).price_records(records)
    return [line for line in lines if line is not None]


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
    with cycle_collector_paused():
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


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
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
