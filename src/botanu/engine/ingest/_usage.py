"""`normalize._fill_usage` for a group of spans: the category and what the spans used,
as Arrow arrays. The first category that every span of the group has wins; a group whose
spans differ is left to `normalize` (None).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botanu import semconv as sc
from botanu.engine.ingest._group import each
from botanu.engine.ingest.normalize import _float

if TYPE_CHECKING:
    from botanu.engine.ingest._group import Group

__all__ = ["usage_fields"]

Array = Any
Fields = dict[str, Array | None]


def usage_fields(group: Group) -> Fields | None:
    provider = group.provider()
    model = group.text(sc.GEN_AI_REQUEST_MODEL, sc.OPENINFERENCE_MODEL_NAME)
    tokens_in = group.count(
        sc.GEN_AI_USAGE_INPUT_TOKENS,
        sc.GEN_AI_USAGE_PROMPT_TOKENS_DEPRECATED,
        sc.OPENINFERENCE_PROMPT_TOKENS,
    )
    tokens_out = group.count(
        sc.GEN_AI_USAGE_OUTPUT_TOKENS,
        sc.GEN_AI_USAGE_COMPLETION_TOKENS_DEPRECATED,
        sc.OPENINFERENCE_COMPLETION_TOKENS,
    )
    found = _every(provider, model, tokens_in, tokens_out)
    if found:
        return _llm(group, provider, model, tokens_in, tokens_out)
    if found is None:
        return None
    systems: tuple[tuple[str, Callable[[], Array | None]], ...] = (
        ("db", lambda: group.text(sc.DB_SYSTEM_NAME, sc.DB_SYSTEM_DEPRECATED)),
        ("storage", group.storage_system),
        ("messaging", lambda: group.text(sc.MESSAGING_SYSTEM)),
    )
    for category, system in systems:
        name = system()
        found = _every(name)
        if found is None:
            return None
        if found:
            return {"category": _repeat(category, group.size), "system": name} | _FILL[category](
                group
            )
    return {"category": _repeat("other", group.size)}


def _llm(
    group: Group, provider: Array, model: Array, tokens_in: Array, tokens_out: Array
) -> Fields:
    import pyarrow.compute as pc

    read = group.count(
        sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
        sc.OPENLLMETRY_CACHE_READ_INPUT_TOKENS,
        sc.OPENINFERENCE_CACHE_READ_TOKENS,
    )
    write = group.count(
        sc.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
        sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
        sc.OPENLLMETRY_CACHE_CREATION_INPUT_TOKENS,
        sc.OPENINFERENCE_CACHE_WRITE_TOKENS,
    )
    reasoning = group.count(
        sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
        sc.OPENLLMETRY_REASONING_TOKENS,
        sc.OPENINFERENCE_REASONING_TOKENS,
    )
    # a total smaller than its own parts was sent exclusive (Anthropic's raw usage)
    if tokens_in is not None and (read is not None or write is not None):
        parts = [pc.fill_null(c, 0) for c in (read, write) if c is not None]
        total = parts[0] if len(parts) == 1 else pc.add_checked(parts[0], parts[1])
        tokens_in = _grown(tokens_in, total)
    if tokens_out is not None and reasoning is not None:
        tokens_out = _grown(tokens_out, reasoning)
    return {
        "category": _repeat("llm", group.size),
        "provider": provider,
        "request_model": model,
        "response_model": group.text(sc.GEN_AI_RESPONSE_MODEL),
        "operation": group.text(sc.GEN_AI_OPERATION_NAME),
        "service_tier": group.text(sc.OPENAI_RESPONSE_SERVICE_TIER, sc.OPENAI_REQUEST_SERVICE_TIER),
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "cache_read_tokens": read,
        "cache_write_tokens": write,
        "cache_write_1h_tokens": group.count(sc.CACHE_WRITE_1H_INPUT_TOKENS),
        "reasoning_tokens": reasoning,
    }


def _grown(total: Array, parts: Array) -> Array:
    """`total + parts` where the total is below its parts, else the total as it is."""
    import pyarrow.compute as pc

    below = pc.fill_null(pc.less(total, parts), False)
    return pc.if_else(below, pc.add_checked(total, parts), total)


def _db(group: Group) -> Fields:
    return {
        "operation": group.text(sc.DB_OPERATION_NAME, sc.DB_OPERATION_DEPRECATED),
        "bytes_scanned": group.count(sc.DB_BYTES_SCANNED),
        "request_units": group.first(
            each(_float, "float64"), sc.DB_REQUEST_UNITS, sc.AZURE_COSMOSDB_REQUEST_CHARGE
        ),
        "rows": group.count(sc.DB_RESPONSE_RETURNED_ROWS, sc.DB_ROWS_AFFECTED),
    }


def _storage(group: Group) -> Fields:
    return {
        "operation": group.text(sc.STORAGE_OPERATION),
        "bytes_read": group.count(sc.STORAGE_BYTES_READ),
        "bytes_written": group.count(sc.STORAGE_BYTES_WRITTEN),
        "object_count": group.count(sc.STORAGE_OBJECT_COUNT),
    }


def _messaging(group: Group) -> Fields:
    operation = group.text(sc.MESSAGING_OPERATION_TYPE, sc.MESSAGING_OPERATION_DEPRECATED)
    return {
        "operation": operation,
        "message_count": group.message_count(operation),
        "bytes_written": group.count(sc.MESSAGING_MESSAGE_BODY_SIZE),
    }


_FILL = {"db": _db, "storage": _storage, "messaging": _messaging}


def _every(*columns: Array | None) -> bool | None:
    """Whether every span has one of the values (True), none has (False), or it varies."""
    import pyarrow.compute as pc

    present = [c for c in columns if c is not None]
    if any(c.null_count == 0 for c in present):
        return True
    if all(c.null_count == len(c) for c in present):
        return False
    valid = pc.is_valid(present[0])
    for column in present[1:]:
        valid = pc.or_(valid, pc.is_valid(column))
    if valid.false_count == 0:
        return True
    return False if valid.true_count == 0 else None


def _repeat(value: str, size: int) -> Array:
    import pyarrow as pa

    return pa.repeat(pa.scalar(value, pa.string()), size)
