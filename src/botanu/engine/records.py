"""The row contract at the bottom of the engine: the two records it passes between its
stages (a span flattened into typed fields, what ingest produces and the store keeps, and
the cost line pricing makes of it) and how both lie in a store's row: the Arrow schema of
a batch, the cost line's columns, the attributes kept in a column only, money rounding.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal
from functools import cache
from typing import TYPE_CHECKING, Literal

from botanu import semconv as sc

if TYPE_CHECKING:
    import pyarrow as pa

Category = Literal["llm", "db", "storage", "messaging", "other"]
PriceSource = Literal[
    "reported", "not_billed", "user_rate_card", "genai-prices", "rate_card", "unpriced"
]

# the SpanRecord fields that count usage: tokens, then the units other work is billed by
TOKEN_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
)
UNIT_FIELDS = (
    "bytes_scanned",
    "rows",
    "bytes_read",
    "bytes_written",
    "object_count",
    "message_count",
)


@dataclass(slots=True)
class SpanRecord:
    """One span with the cost-relevant attributes promoted to typed fields.

    Token counts follow the OpenTelemetry convention: input includes cache reads and
    writes, output includes reasoning. `attributes` keeps every attribute as text.
    """

    trace_id: str
    span_id: str
    name: str
    start_ns: int
    end_ns: int
    parent_span_id: str | None = None
    kind: str = "internal"
    service_name: str | None = None
    status_code: str = "unset"
    # run identity
    run_id: str | None = None
    event_id: str | None = None
    workflow: str | None = None
    workflow_label: str | None = None
    customer_id: str | None = None
    tenant_id: str | None = None
    environment: str | None = None
    attempt: int | None = None
    parent_run_id: str | None = None
    root_run_id: str | None = None
    retry_of_run_id: str | None = None
    is_run_span: bool = False
    # outcome
    outcome_status: str | None = None
    outcome_value_type: str | None = None
    outcome_value_amount: float | None = None
    outcome_reason: str | None = None
    outcome_error_type: str | None = None
    outcome_source: str | None = None  # "sdk", "auto", or a late outcome's resolver
    # business context
    team: str | None = None
    cost_center: str | None = None
    region: str | None = None
    # what the span cost money for
    category: Category = "other"
    provider: str | None = None
    operation: str | None = None
    request_model: str | None = None
    response_model: str | None = None
    service_tier: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    cache_write_1h_tokens: int | None = None
    reasoning_tokens: int | None = None
    system: str | None = None  # db / storage / messaging system
    bytes_scanned: int | None = None
    request_units: float | None = None
    rows: int | None = None
    bytes_read: int | None = None
    bytes_written: int | None = None
    object_count: int | None = None
    message_count: int | None = None
    # a cost some instrumentation already computed (kept, flagged as reported)
    reported_cost: Decimal | None = None
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def model(self) -> str | None:
        """The model to price: the one that answered, else the one asked for."""
        return self.response_model or self.request_model


@dataclass(frozen=True, slots=True)
class CostLine:
    """The price of one span. `amount` is None when the span is unpriced (never 0)."""

    trace_id: str
    span_id: str
    category: Category
    amount: Decimal | None
    source: PriceSource
    currency: str = "USD"
    catalog_version: str | None = None
    matched_provider: str | None = None
    matched_model: str | None = None
    effective_date: date | None = None
    estimated: bool = True
    detail: str | None = None  # what was priced, or why it could not be


# the cost line of a span, as columns of its row: cost line field -> column
COST_COLUMNS = {
    "amount": "amount",
    "currency": "currency",
    "source": "price_source",
    "catalog_version": "catalog_version",
    "matched_provider": "matched_provider",
    "matched_model": "matched_model",
    "effective_date": "effective_date",
    "estimated": "estimated",
    "detail": "price_detail",
}
_COUNTS = frozenset((*TOKEN_FIELDS, *UNIT_FIELDS))

# Attributes on nearly every span that are kept in their column only (field -> key): an
# entry is left out when its text is the column's, and put back from the column on reading
# (`SpanBatch.record`, the `spans` view). Writing them twice cost ~15% of ingest.
PROMOTED_KEYS = {
    "run_id": sc.RUN_ID,
    "event_id": sc.EVENT_ID,
    "workflow": sc.WORKFLOW,
    "customer_id": sc.CUSTOMER_ID,
    "tenant_id": sc.TENANT_ID,
}
_MONEY_PLACES = Decimal("1e-18")
_MONEY_CONTEXT = Context(prec=60)


def stored_money(amount: Decimal | None) -> Decimal | None:
    """An amount as a DECIMAL(38, 18) column keeps it: beyond 18 places, rounded half-even."""
    if amount is None or amount.as_tuple().exponent >= -18:  # type: ignore[operator]
        return amount
    return amount.quantize(_MONEY_PLACES, rounding=ROUND_HALF_EVEN, context=_MONEY_CONTEXT)


@cache
def span_row_schema() -> pa.Schema:
    """The Arrow shape of a batch for `Store.write_batch`: every `SpanRecord` field (the
    attributes as key/value entries) followed by the span's cost line columns."""
    import pyarrow as pa

    money = pa.decimal128(38, 18)
    types = {
        "start_ns": pa.int64(),
        "end_ns": pa.int64(),
        "attempt": pa.int32(),
        "is_run_span": pa.bool_(),
        "outcome_value_amount": pa.float64(),
        "request_units": pa.float64(),
        "reported_cost": money,
        "attributes": pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())])),
        "amount": money,
        "effective_date": pa.date32(),
        "estimated": pa.bool_(),
    }
    names = [f.name for f in dataclasses.fields(SpanRecord)] + list(COST_COLUMNS.values())
    return pa.schema(
        [(n, types.get(n, pa.int64() if n in _COUNTS else pa.string())) for n in names]
    )
