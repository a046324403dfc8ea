"""Flatten a raw span into a `SpanRecord`: promote the cost-relevant attributes to typed
fields, reading botanu's names and the other conventions in use (older GenAI names,
OpenLLMetry, OpenInference, OpenLIT) so spans from any instrumentation can be priced.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from botanu import semconv as sc
from botanu.engine.ingest.bounds import (
    MAX_ATTEMPT,
    MAX_OUTCOME_VALUE,
    MAX_REQUEST_UNITS,
    MAX_SPAN_COST,
    MAX_TOKENS,
    MAX_UNITS,
    note,
)
from botanu.engine.ingest.otlp import RawSpan
from botanu.engine.records import Category, SpanRecord

__all__ = ["normalize"]

# deprecated gen_ai.system values -> gen_ai.provider.name
_OLD_PROVIDERS = {
    "az.ai.openai": sc.PROVIDER_AZURE_OPENAI,
    "az.ai.inference": sc.PROVIDER_AZURE_INFERENCE,
    "vertex_ai": sc.PROVIDER_GCP_VERTEX_AI,
    "gemini": sc.PROVIDER_GCP_GEMINI,
    "xai": sc.PROVIDER_X_AI,
    "aws_bedrock": sc.PROVIDER_AWS_BEDROCK,
    "bedrock": sc.PROVIDER_AWS_BEDROCK,
    "mistralai": sc.PROVIDER_MISTRAL_AI,
    "mistral": sc.PROVIDER_MISTRAL_AI,
}
_MESSAGE_OPERATIONS = {"send", "receive", "process", "create", "publish"}


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
        service_name=_str(raw.resource.get("service.name")),
        run_id=_str(a.get(sc.RUN_ID)),
        event_id=_str(a.get(sc.EVENT_ID)),
        workflow=_str(a.get(sc.WORKFLOW)),
        workflow_label=_str(a.get(sc.WORKFLOW_LABEL)),
        customer_id=_str(a.get(sc.CUSTOMER_ID)),
        tenant_id=_str(a.get(sc.TENANT_ID)),
        environment=_str(a.get(sc.ENVIRONMENT))
        or _str(raw.resource.get(sc.RESOURCE_DEPLOYMENT_ENVIRONMENT)),
        attempt=_bounded(a, dropped, _int, MAX_ATTEMPT, sc.ATTEMPT),
        parent_run_id=_str(a.get(sc.PARENT_RUN_ID)),
        root_run_id=_str(a.get(sc.ROOT_RUN_ID)),
        retry_of_run_id=_str(a.get(sc.RETRY_OF_RUN_ID)),
        is_run_span=raw.name.startswith(sc.RUN_SPAN_PREFIX),
        outcome_status=_str(a.get(sc.OUTCOME_STATUS)),
        outcome_value_type=_str(a.get(sc.OUTCOME_VALUE_TYPE)),
        outcome_value_amount=_bounded(
            a, dropped, _float, MAX_OUTCOME_VALUE, sc.OUTCOME_VALUE_AMOUNT
        ),
        outcome_reason=_str(a.get(sc.OUTCOME_REASON)),
        outcome_error_type=_str(a.get(sc.OUTCOME_ERROR_TYPE)),
        outcome_source=_str(a.get(sc.OUTCOME_SOURCE)),
        team=_str(a.get(sc.TEAM)),
        cost_center=_str(a.get(sc.COST_CENTER)),
        region=_str(a.get(sc.REGION)),
        reported_cost=_bounded(
            a,
            dropped,
            _decimal,
            MAX_SPAN_COST,
            sc.REPORTED_COST,
            sc.OPENINFERENCE_COST_TOTAL,
            sc.OPENLIT_COST,
        ),
    )
    record.category = _fill_usage(record, a, dropped)
    record.attributes = _texts(a, dropped)
    return record


def _texts(a: Mapping[str, Any], dropped: Mapping[str, str]) -> dict[str, str]:
    """The attributes as text, less the dropped values, which the note names."""
    if not dropped:
        return {k: _as_text(v) for k, v in a.items()}
    texts = {k: _as_text(v) for k, v in a.items() if k not in dropped}
    notes = "; ".join(dropped.values())
    earlier = texts.get(sc.INGEST_NOTE)
    texts[sc.INGEST_NOTE] = f"{earlier}; {notes}" if earlier else notes
    return texts


def _bounded(
    a: Mapping[str, Any], dropped: dict[str, str], convert: Any, bound: Any, *keys: str
) -> Any:
    """`convert` of the first of `keys` that is not None (`_first`); a value beyond `bound`
    is dropped, noted in `dropped`."""
    for key in keys:
        value = a.get(key)
        if value is not None:
            number = convert(value)
            if number is not None and abs(number) > bound:
                dropped[key] = note(key, value, bound)
                return None
            return number
    return None


def _fill_usage(r: SpanRecord, a: Mapping[str, Any], dropped: dict[str, str]) -> Category:
    provider = _str(
        _first(
            a,
            sc.GEN_AI_PROVIDER_NAME,
            sc.GEN_AI_SYSTEM_DEPRECATED,
            sc.OPENINFERENCE_PROVIDER,
            sc.OPENINFERENCE_SYSTEM,
        )
    )
    model = _str(_first(a, sc.GEN_AI_REQUEST_MODEL, sc.OPENINFERENCE_MODEL_NAME))
    inp = _tokens(
        a,
        dropped,
        sc.GEN_AI_USAGE_INPUT_TOKENS,
        sc.GEN_AI_USAGE_PROMPT_TOKENS_DEPRECATED,
        sc.OPENINFERENCE_PROMPT_TOKENS,
    )
    out = _tokens(
        a,
        dropped,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS,
        sc.GEN_AI_USAGE_COMPLETION_TOKENS_DEPRECATED,
        sc.OPENINFERENCE_COMPLETION_TOKENS,
    )
    if provider or model or inp is not None or out is not None:
        r.provider = _OLD_PROVIDERS.get(provider.lower(), provider.lower()) if provider else None
        r.request_model = model
        r.response_model = _str(a.get(sc.GEN_AI_RESPONSE_MODEL))
        r.operation = _str(a.get(sc.GEN_AI_OPERATION_NAME))
        r.service_tier = _str(
            _first(a, sc.OPENAI_RESPONSE_SERVICE_TIER, sc.OPENAI_REQUEST_SERVICE_TIER)
        )
        read = _tokens(
            a,
            dropped,
            sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
            sc.OPENLLMETRY_CACHE_READ_INPUT_TOKENS,
            sc.OPENINFERENCE_CACHE_READ_TOKENS,
        )
        write = _tokens(
            a,
            dropped,
            sc.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
            sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
            sc.OPENLLMETRY_CACHE_CREATION_INPUT_TOKENS,
            sc.OPENINFERENCE_CACHE_WRITE_TOKENS,
        )
        reasoning = _tokens(
            a,
            dropped,
            sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
            sc.OPENLLMETRY_REASONING_TOKENS,
            sc.OPENINFERENCE_REASONING_TOKENS,
        )
        # a total smaller than its own parts was sent exclusive (Anthropic's raw usage)
        parts = (read or 0) + (write or 0)
        if inp is not None and inp < parts:
            inp += parts
        if out is not None and reasoning is not None and out < reasoning:
            out += reasoning
        r.input_tokens, r.output_tokens = inp, out
        r.cache_read_tokens, r.cache_write_tokens = read, write
        r.cache_write_1h_tokens = _tokens(a, dropped, sc.CACHE_WRITE_1H_INPUT_TOKENS)
        r.reasoning_tokens = reasoning
        return "llm"
    db_system = _str(_first(a, sc.DB_SYSTEM_NAME, sc.DB_SYSTEM_DEPRECATED))
    if db_system:
        r.system = db_system
        r.operation = _str(_first(a, sc.DB_OPERATION_NAME, sc.DB_OPERATION_DEPRECATED))
        r.bytes_scanned = _units(a, dropped, sc.DB_BYTES_SCANNED)
        r.request_units = _bounded(
            a,
            dropped,
            _float,
            MAX_REQUEST_UNITS,
            sc.DB_REQUEST_UNITS,
            sc.AZURE_COSMOSDB_REQUEST_CHARGE,
        )
        r.rows = _units(a, dropped, sc.DB_RESPONSE_RETURNED_ROWS, sc.DB_ROWS_AFFECTED)
        return "db"
    storage = _str(a.get(sc.STORAGE_SYSTEM)) or ("s3" if a.get(sc.AWS_S3_BUCKET) else None)
    if storage:
        r.system = storage
        r.operation = _str(a.get(sc.STORAGE_OPERATION))
        r.bytes_read = _units(a, dropped, sc.STORAGE_BYTES_READ)
        r.bytes_written = _units(a, dropped, sc.STORAGE_BYTES_WRITTEN)
        r.object_count = _units(a, dropped, sc.STORAGE_OBJECT_COUNT)
        return "storage"
    messaging = _str(a.get(sc.MESSAGING_SYSTEM))
    if messaging:
        r.system = messaging
        r.operation = _str(
            _first(a, sc.MESSAGING_OPERATION_TYPE, sc.MESSAGING_OPERATION_DEPRECATED)
        )
        count = _units(a, dropped, sc.MESSAGING_BATCH_MESSAGE_COUNT)
        if count is None and r.operation in _MESSAGE_OPERATIONS:
            count = 1  # a single send or receive moves one message
        r.message_count = count
        r.bytes_written = _units(a, dropped, sc.MESSAGING_MESSAGE_BODY_SIZE)
        return "messaging"
    return "other"


def _tokens(a: Mapping[str, Any], dropped: dict[str, str], *keys: str) -> int | None:
    return _bounded(a, dropped, _int, MAX_TOKENS, *keys)  # type: ignore[no-any-return]


def _units(a: Mapping[str, Any], dropped: dict[str, str], *keys: str) -> int | None:
    return _bounded(a, dropped, _int, MAX_UNITS, *keys)  # type: ignore[no-any-return]


def _first(a: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        value = a.get(key)
        if value is not None:
            return value
    return None


def _str(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text or None


def _int(value: Any) -> int | None:
    """A count: non-negative whole numbers only (text from maps is accepted)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        value = value.strip()
        if not (value.isascii() and value.isdigit()):  # "²" is a digit to isdigit()
            return None
        value = int(value)
    return value if isinstance(value, int) and value >= 0 else None


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount >= 0 else None


def _as_text(value: Any) -> str:
    """Attribute values as the Collector's ClickHouse table keeps them: all text."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
