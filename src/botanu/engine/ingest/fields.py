"""What ingest reads from a span's attributes, declared once: each `SpanRecord` field with
the attributes it is read from (botanu's names and the other conventions in use, in order
of preference) and how a value is read. Normalizing (`normalize_batch`, and `normalize`,
its batch of one) and the SQL that normalizes inside ClickHouse (`in_database`) both
read this table and these readers.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from botanu import semconv as sc

__all__ = [
    "CATEGORY_FIELDS",
    "DB_SYSTEM_KEYS",
    "EXCLUSIVE_INPUT",
    "LLM_INPUT_KEYS",
    "LLM_MODEL_KEYS",
    "LLM_OUTPUT_KEYS",
    "LLM_PROVIDER_KEYS",
    "MESSAGE_OPERATIONS",
    "OLD_PROVIDERS",
    "READERS",
    "SPAN_FIELDS",
    "ExclusiveInput",
    "Field",
    "attribute_text",
    "read_count",
    "read_float",
    "read_money",
    "read_text",
]

# how a value is read: text (non-empty), a count (a whole number of 0 or more), a float,
# or money (a finite Decimal of 0 or more)
Read = Literal["text", "count", "float", "money"]


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # the SpanRecord field
    keys: tuple[str, ...]  # the attributes it is read from: the first one present wins
    read: Read = "text"


def _text(name: str, key: str) -> Field:
    return Field(name, (key,))


# fields of every span (the environment also falls back to the resource's)
SPAN_FIELDS: tuple[Field, ...] = (
    _text("run_id", sc.RUN_ID),
    _text("event_id", sc.EVENT_ID),
    _text("workflow", sc.WORKFLOW),
    _text("workflow_label", sc.WORKFLOW_LABEL),
    _text("customer_id", sc.CUSTOMER_ID),
    _text("tenant_id", sc.TENANT_ID),
    Field("attempt", (sc.ATTEMPT,), "count"),
    _text("parent_run_id", sc.PARENT_RUN_ID),
    _text("root_run_id", sc.ROOT_RUN_ID),
    _text("retry_of_run_id", sc.RETRY_OF_RUN_ID),
    _text("outcome_status", sc.OUTCOME_STATUS),
    _text("outcome_value_type", sc.OUTCOME_VALUE_TYPE),
    Field("outcome_value_amount", (sc.OUTCOME_VALUE_AMOUNT,), "float"),
    _text("outcome_reason", sc.OUTCOME_REASON),
    _text("outcome_error_type", sc.OUTCOME_ERROR_TYPE),
    _text("outcome_source", sc.OUTCOME_SOURCE),
    _text("team", sc.TEAM),
    _text("cost_center", sc.COST_CENTER),
    _text("region", sc.REGION),
    Field(
        "reported_cost",
        (
            sc.REPORTED_COST,
            sc.OPENINFERENCE_COST_TOTAL,
            sc.OPENLIT_COST,
            sc.LOGFIRE_COST,
            sc.LITELLM_COST,
            sc.LITELLM_V2_COST,
        ),
        "money",
    ),
)

# what makes a span an LLM call (any of them present), and its two token totals
LLM_PROVIDER_KEYS = (
    sc.GEN_AI_PROVIDER_NAME,
    sc.GEN_AI_SYSTEM_DEPRECATED,
    sc.OPENINFERENCE_PROVIDER,
    sc.OPENINFERENCE_SYSTEM,
)
LLM_MODEL_KEYS = (
    sc.GEN_AI_REQUEST_MODEL,
    sc.OPENINFERENCE_MODEL_NAME,
    sc.OPENINFERENCE_EMBEDDING_MODEL_NAME,  # its embedding spans name no llm.model_name
)
LLM_INPUT_KEYS = (
    sc.GEN_AI_USAGE_INPUT_TOKENS,
    sc.GEN_AI_USAGE_PROMPT_TOKENS_DEPRECATED,
    sc.OPENINFERENCE_PROMPT_TOKENS,
)
LLM_OUTPUT_KEYS = (
    sc.GEN_AI_USAGE_OUTPUT_TOKENS,
    sc.GEN_AI_USAGE_COMPLETION_TOKENS_DEPRECATED,
    sc.OPENINFERENCE_COMPLETION_TOKENS,
)
DB_SYSTEM_KEYS = (sc.DB_SYSTEM_NAME, sc.DB_SYSTEM_DEPRECATED)

# the fields of each category's spans, besides the system (storage and messaging ones add
# rules of their own: an S3 bucket means s3; a single send or receive moves one message)
CATEGORY_FIELDS: dict[str, tuple[Field, ...]] = {
    "llm": (
        _text("response_model", sc.GEN_AI_RESPONSE_MODEL),
        _text("operation", sc.GEN_AI_OPERATION_NAME),
        Field("service_tier", (sc.OPENAI_RESPONSE_SERVICE_TIER, sc.OPENAI_REQUEST_SERVICE_TIER)),
        Field(
            "cache_read_tokens",
            (
                sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
                sc.OPENLLMETRY_CACHE_READ_INPUT_TOKENS,
                sc.OPENINFERENCE_CACHE_READ_TOKENS,
                sc.PUBLISHED_CACHE_READ_TOKENS,
                sc.PUBLISHED_CACHED_TOKENS,
            ),
            "count",
        ),
        Field(
            "cache_write_tokens",
            (
                sc.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
                sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
                sc.OPENLLMETRY_CACHE_CREATION_INPUT_TOKENS,
                sc.OPENINFERENCE_CACHE_WRITE_TOKENS,
                sc.PUBLISHED_CACHE_WRITE_TOKENS,
            ),
            "count",
        ),
        Field(
            "reasoning_tokens",
            (
                sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
                sc.OPENLLMETRY_REASONING_TOKENS,
                sc.OPENINFERENCE_REASONING_TOKENS,
            ),
            "count",
        ),
        Field("cache_write_1h_tokens", (sc.CACHE_WRITE_1H_INPUT_TOKENS,), "count"),
    ),
    "db": (
        Field("operation", (sc.DB_OPERATION_NAME, sc.DB_OPERATION_DEPRECATED)),
        Field(
            "bytes_scanned", (sc.DB_BYTES_SCANNED, sc.PUBLISHED_WAREHOUSE_BYTES_SCANNED), "count"
        ),
        Field("request_units", (sc.DB_REQUEST_UNITS, sc.AZURE_COSMOSDB_REQUEST_CHARGE), "float"),
        Field(
            "rows",
            (
                sc.DB_RESPONSE_RETURNED_ROWS,
                sc.DB_ROWS_AFFECTED,
                sc.PUBLISHED_DATA_ROWS_RETURNED,
                sc.PUBLISHED_DATA_ROWS_AFFECTED,
            ),
            "count",
        ),
    ),
    "storage": (
        _text("operation", sc.STORAGE_OPERATION),
        Field("bytes_read", (sc.STORAGE_BYTES_READ, sc.PUBLISHED_DATA_BYTES_READ), "count"),
        Field(
            "bytes_written", (sc.STORAGE_BYTES_WRITTEN, sc.PUBLISHED_DATA_BYTES_WRITTEN), "count"
        ),
        Field("object_count", (sc.STORAGE_OBJECT_COUNT, sc.PUBLISHED_DATA_OBJECTS_COUNT), "count"),
    ),
    "messaging": (
        Field("operation", (sc.MESSAGING_OPERATION_TYPE, sc.MESSAGING_OPERATION_DEPRECATED)),
        Field(
            "message_count",
            (sc.MESSAGING_BATCH_MESSAGE_COUNT, sc.PUBLISHED_MESSAGING_MESSAGE_COUNT),
            "count",
        ),
        Field("bytes_written", (sc.MESSAGING_MESSAGE_BODY_SIZE,), "count"),
    ),
}


@dataclass(frozen=True, slots=True)
class ExclusiveInput:
    """An emitter whose input count leaves out the cache reads and writes for some
    providers (it passes their raw usage through), known by an attribute only it writes."""

    emitter: str
    marker: str
    providers: tuple[str, ...]


# Without a row here, an input count below its own cache parts is read as exclusive (and
# made their sum); a row makes it so for the emitter's spans of those providers always.
EXCLUSIVE_INPUT: tuple[ExclusiveInput, ...] = (
    # botanu-sdk-python (published, 2026-04): set_tokens writes the caller's numbers as
    # given; Anthropic's usage.input_tokens excludes cache_read and cache_creation
    ExclusiveInput("the published botanu SDK", sc.PUBLISHED_VENDOR, ("anthropic",)),
    # OpenLIT 1.45 (instrumentation/anthropic): Anthropic's raw input_tokens, its cache
    # counts beside it (0 included); its spans carry gen_ai.client.token.usage
    ExclusiveInput("OpenLIT", sc.OPENLIT_TOKEN_USAGE, ("anthropic",)),
)

# deprecated gen_ai.system values -> gen_ai.provider.name
OLD_PROVIDERS = {
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
# messaging operations that move one message when the span gives no batch size
MESSAGE_OPERATIONS = frozenset({"send", "receive", "process", "create", "publish"})


def read_text(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text or None


def read_count(value: Any) -> int | None:
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


def read_float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def read_money(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount >= 0 else None


READERS = {"text": read_text, "count": read_count, "float": read_float, "money": read_money}


def attribute_text(value: Any) -> str:
    """Attribute values as the Collector's ClickHouse table keeps them: all text."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
