"""`botanu price`: price the spans a Collector wrote to ClickHouse that botanu has not
priced yet, a UTC day at a time.

Each day: the day's new spans (an anti-join against what botanu keeps) are normalized
and priced inside the database with the engine's own declarations and quotes (see
_pricing.py beside it); the few spans SQL cannot price exactly come back and are
priced here by the same pricer; then the day's run rollup is rebuilt. Rerunning is safe
at any point: stored spans are not read again, and a day whose spans changed since its
rollup was built is rebuilt. Workers share a backfill by taking every K-th day
(`workers=K, worker=i`): they never touch the same day.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, Protocol

from botanu.engine.ingest import RawSpan
from botanu.engine.prepare import (
    BATCH_SPANS,
    cycle_collector_paused,
    default_pricer,
    prepare_spans,
)
from botanu.engine.pricing import Pricer
from botanu.engine.pricing._bulk import bulk_pricer
from botanu.engine.store.base import DayPriced

__all__ = ["DayPriced", "PricingStore", "price_days", "raw_spans"]


class PricingStore(Protocol):
    """What the job needs of a store (the ClickHouse store has it)."""

    def span_days(self, since_ns: int, until_ns: int) -> list[date]: ...

    def price_in_database(
        self, day: date, quotes_for: Callable[..., tuple[Any, Any]], *, again: bool = False
    ) -> tuple[int, Any]: ...

    def end_pricing(self, day: date) -> None: ...

    def store_priced(self, rows: Any) -> None: ...

    def refresh_rollup(self, day: date, *, force: bool = False) -> bool: ...


def price_days(
    store: PricingStore,
    since_ns: int,
    until_ns: int,
    *,
    again: bool = False,
    workers: int = 1,
    worker: int = 0,
    pricer: Pricer | None = None,
    on_day: Callable[[DayPriced], None] | None = None,
) -> list[DayPriced]:
    """Price this worker's days in [since, until) (every span again when `again`, after a
    price change); returns what each day got."""
    if workers < 1 or not 0 <= worker < workers:
        raise ValueError(f"worker must be in [0, {workers}), got {worker}")
    pricer = pricer or default_pricer()
    bulk = bulk_pricer(pricer)
    done = []
    for day in store.span_days(since_ns, until_ns):
        if day.toordinal() % workers != worker:
            continue
        spans, left = store.price_in_database(day, bulk.quote_tables, again=again)
        for start in range(0, left.num_rows, BATCH_SPANS):
            with cycle_collector_paused():  # many small objects, no cycles: 2x faster
                raws = raw_spans(left.slice(start, BATCH_SPANS))
            store.store_priced(prepare_spans(raws, pricer))
        store.end_pricing(day)
        rebuilt = store.refresh_rollup(day, force=again)
        result = DayPriced(day, spans, rebuilt)
        done.append(result)
        if on_day is not None:
            on_day(result)
    return done


def raw_spans(table: Any) -> list[RawSpan]:
    """Rows read from the traces table as the decoder's spans (attribute values stay
    text, as the exporter keeps them; the engine reads numbers from text)."""
    columns = {name: table[name].to_pylist() for name in RawSpan._fields[:-2]}
    attributes = [dict(zip(k, v, strict=True)) for k, v in _map_items(table["attributes"])]
    shared: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
    resources = []
    for keys, values in _map_items(table["resource"]):
        items = tuple(zip(keys, values, strict=True))
        found = shared.get(items)
        if found is None:  # one dict per distinct resource, as the decoders share them
            found = shared[items] = dict(items)
        resources.append(found)
    parents = [parent or None for parent in columns["parent_span_id"]]
    return [
        RawSpan(*fields)
        for fields in zip(
            columns["trace_id"], columns["span_id"], parents, columns["name"],
            columns["kind"], columns["start_ns"], columns["end_ns"], columns["status_code"],
            attributes, resources, strict=True,
        )
    ]  # fmt: skip


def _map_items(column: Any) -> Iterator[tuple[list[str], list[str]]]:
    """A Map column's (keys, values) lists, row by row: flat arrays sliced by the
    offsets, ~2x quicker than the column's Python tuples."""
    import pyarrow as pa

    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    offsets = array.offsets.to_pylist()  # into the whole child arrays, even for a slice
    base, size = offsets[0], offsets[-1] - offsets[0]
    keys = array.keys.slice(base, size).to_pylist()
    values = array.items.slice(base, size).to_pylist()
    for start, end in itertools.pairwise(offsets):
        yield keys[start - base : end - base], values[start - base : end - base]
