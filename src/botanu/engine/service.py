"""Spans in, stored: decode, flatten, price and store, a batch of payloads at a time.

A payload is decoded whole before anything is stored, and stored whole with its cost
lines in one transaction (with the payloads batched beside it), so a crash or a bad
payload never leaves half of one. Spans travel as columns (`SpanBatch`) and are priced
in bulk, with the same cost lines `Pricer.price` gives one span at a time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from botanu.engine.ingest import RawSpan, iter_file_payloads
from botanu.engine.ingest.otlp import FileExportError, iter_file_exports
from botanu.engine.prepare import (
    BATCH_SPANS,
    NORMALIZE_SPANS,
    default_pricer,
    join_rows,
    prepare_spans,
    prepare_spans_checked,
    price_records,
)
from botanu.engine.pricing import Pricer
from botanu.engine.store import Store, StoreError

__all__ = [
    "BATCH_SPANS",
    "NORMALIZE_SPANS",
    "FileIngest",
    "default_pricer",
    "ingest_file",
    "ingest_payloads",
    "join_rows",
    "prepare_spans",
    "prepare_spans_checked",
    "price_records",
    "read_file",
]


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
