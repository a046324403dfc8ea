"""The in-process local exporter: `enable(exporter="local")` writes finished spans,
priced, straight into the embedded store — for scripts, notebooks and single-process
apps with no collector. DuckDB allows one process per file: use `botanu serve` when
several processes report.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from botanu.engine.ingest import RawSpan
from botanu.engine.service import default_pricer, ingest_payloads
from botanu.engine.store import Store, open_store

__all__ = ["LocalStoreExporter", "raw_span"]

logger = logging.getLogger("botanu")


def raw_span(span: ReadableSpan) -> RawSpan:
    """An SDK span in the shape ingest reads (the same as a decoded OTLP span)."""
    context = span.get_span_context()
    parent = span.parent
    return RawSpan(
        trace_id=format(context.trace_id, "032x") if context else "0" * 32,
        span_id=format(context.span_id, "016x") if context else "0" * 16,
        parent_span_id=format(parent.span_id, "016x") if parent else None,
        name=span.name,
        kind=span.kind.name.lower(),
        start_ns=span.start_time or 0,
        end_ns=span.end_time or 0,
        status_code=span.status.status_code.name.lower(),
        attributes=dict(span.attributes or {}),
        resource=dict(span.resource.attributes),
    )


class LocalStoreExporter(SpanExporter):
    """Exports spans into the store at `url` (default: `BOTANU_STORE` or the default file)."""

    def __init__(self, url: str | None = None) -> None:
        self._store: Store | None = open_store(url)
        self._pricer = default_pricer()
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self._lock:
            if self._store is None:
                return SpanExportResult.FAILURE
            try:
                ingest_payloads(self._store, [[raw_span(s) for s in spans]], self._pricer)
            except Exception:
                logger.exception("botanu: the local store could not take %d spans", len(spans))
                return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            store, self._store = self._store, None
        if store is not None:
            store.close()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
