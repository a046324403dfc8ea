"""Flatten a raw span into a `SpanRecord`: promote the cost-relevant attributes to typed
fields, reading botanu's names and the other conventions in use (older GenAI names,
OpenLLMetry, OpenInference, OpenLIT) so spans from any instrumentation can be priced.
Which attributes make which field is declared once, in `fields`; one span is read as a
batch of one (`columnar.normalize_batch`), so there is one way of reading a span.
"""

from __future__ import annotations

from botanu.engine.ingest.otlp import RawSpan
from botanu.engine.records import SpanRecord

__all__ = ["normalize"]


def normalize(raw: RawSpan) -> SpanRecord:
    """The span as the engine keeps it (a value beyond its field's bound is dropped and
    named in the span's `botanu.ingest.note` attribute)."""
    from botanu.engine.ingest.columnar import normalize_batch

    return normalize_batch([raw]).record(0)
