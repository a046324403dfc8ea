"""Flatten a raw span into a `SpanRecord`: promote the cost-relevant attributes to typed
fields, reading botanu's names and the other conventions in use (older GenAI names,
OpenLLMetry, OpenInference, OpenLIT) so spans from any instrumentation can be priced.
Which attributes make which field is declared once, in `fields`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from botanu import semconv as sc
from botanu.engine.ingest.bounds import FIELD_BOUNDS, note
from botanu.engine.ingest.fields import (
    CATEGORY_FIELDS,
    DB_SYSTEM_KEYS,
    LLM_INPUT_KEYS,
    LLM_MODEL_KEYS,
    LLM_OUTPUT_KEYS,
    LLM_PROVIDER_KEYS,
    MESSAGE_OPERATIONS,
    OLD_PROVIDERS,
    READERS,
    SPAN_FIELDS,
    Field,
    attribute_text,
    read_text,
)
from botanu.engine.ingest.otlp import RawSpan
from botanu.engine.records import Category, SpanRecord

__all__ = ["normalize"]


def normalize(raw: RawSpan) -> SpanRecord:
    a = raw.attributes
    dropped: dict[str, str] = {}  # attribute -> why its value was dropped
    record = SpanRecord(
        trace_id=raw.trace_id,
        span_id=raw.span_id,
        parent_span_id=raw.parent_span_id,
        name=raw.name,
        kind=raw.kind,
        start_ns=raw.start_ns,
        end_ns=raw.end_ns,
        status_code=raw.status_code,
        service_name=read_text(raw.resource.get(sc.RESOURCE_SERVICE_NAME)),
        is_run_span=raw.name.startswith(sc.RUN_SPAN_PREFIX),
    )
    _fill(record, a, dropped, SPAN_FIELDS)
    record.environment = read_text(a.get(sc.ENVIRONMENT)) or read_text(
        raw.resource.get(sc.RESOURCE_DEPLOYMENT_ENVIRONMENT)
    )
    record.category = _fill_usage(record, a, dropped)
    record.attributes = _texts(a, dropped)
    return record


def _texts(a: Mapping[str, Any], dropped: Mapping[str, str]) -> dict[str, str]:
    """The attributes as text, less the dropped values, which the note names."""
    if not dropped:
        return {k: attribute_text(v) for k, v in a.items()}
    texts = {k: attribute_text(v) for k, v in a.items() if k not in dropped}
    notes = "; ".join(dropped.values())
    earlier = texts.get(sc.INGEST_NOTE)
    texts[sc.INGEST_NOTE] = f"{earlier}; {notes}" if earlier else notes
    return texts


def _fill(
    record: SpanRecord, a: Mapping[str, Any], dropped: dict[str, str], fields: Iterable[Field]
) -> None:
    for field in fields:
        setattr(record, field.name, _read(a, dropped, field))


def _read(a: Mapping[str, Any], dropped: dict[str, str], field: Field) -> Any:
    """The field's value: its reader on the first of its attributes that is present; a
    value beyond the field's bound is dropped, noted in `dropped`."""
    for key in field.keys:
        value = a.get(key)
        if value is not None:
            number: Any = READERS[field.read](value)
            bound = FIELD_BOUNDS.get(field.name)
            if bound is not None and number is not None and abs(number) > bound:
                dropped[key] = note(key, value, bound)
                return None
            return number
    return None


def _fill_usage(r: SpanRecord, a: Mapping[str, Any], dropped: dict[str, str]) -> Category:
    provider = read_text(_first(a, *LLM_PROVIDER_KEYS))
    model = read_text(_first(a, *LLM_MODEL_KEYS))
    inp = _read(a, dropped, Field("input_tokens", LLM_INPUT_KEYS, "count"))
    out = _read(a, dropped, Field("output_tokens", LLM_OUTPUT_KEYS, "count"))
    if provider or model or inp is not None or out is not None:
        r.provider = OLD_PROVIDERS.get(provider.lower(), provider.lower()) if provider else None
        r.request_model = model
        _fill(r, a, dropped, CATEGORY_FIELDS["llm"])
        # a total smaller than its own parts was sent exclusive (Anthropic's raw usage)
        parts = (r.cache_read_tokens or 0) + (r.cache_write_tokens or 0)
        if inp is not None and inp < parts:
            inp += parts
        reasoning = r.reasoning_tokens
        if out is not None and reasoning is not None and out < reasoning:
            out += reasoning
        r.input_tokens, r.output_tokens = inp, out
        return "llm"
    db_system = read_text(_first(a, *DB_SYSTEM_KEYS))
    if db_system:
        r.system = db_system
        _fill(r, a, dropped, CATEGORY_FIELDS["db"])
        return "db"
    storage = read_text(a.get(sc.STORAGE_SYSTEM)) or ("s3" if a.get(sc.AWS_S3_BUCKET) else None)
    if storage:
        r.system = storage
        _fill(r, a, dropped, CATEGORY_FIELDS["storage"])
        return "storage"
    messaging = read_text(a.get(sc.MESSAGING_SYSTEM))
    if messaging:
        r.system = messaging
        _fill(r, a, dropped, CATEGORY_FIELDS["messaging"])
        if r.message_count is None and r.operation in MESSAGE_OPERATIONS:
            r.message_count = 1  # a single send or receive moves one message
        return "messaging"
    return "other"


def _first(a: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        value = a.get(key)
        if value is not None:
            return value
    return None
