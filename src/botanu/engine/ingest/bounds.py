"""What a span may carry: values beyond what any provider bills or any clock reads are
dropped from the span (with a note in its `botanu.ingest.note` attribute), a span whose
times no clock reads is set aside alone. Nothing a span says can overflow a sum.
"""

from __future__ import annotations

from decimal import Decimal

from botanu.engine.records import TOKEN_FIELDS, UNIT_FIELDS

__all__ = [
    "FIELD_BOUNDS",
    "MAX_ATTEMPT",
    "MAX_OUTCOME_VALUE",
    "MAX_REQUEST_UNITS",
    "MAX_SPAN_COST",
    "MAX_TOKENS",
    "MAX_UNITS",
    "TIME_MAX_NS",
    "TIME_MIN_NS",
    "note",
    "out_of_time",
]

# tokens of one span: 1,000x the largest context window on sale (~10^7 tokens)
MAX_TOKENS = 10**10
# bytes, rows, objects or messages of one span: a petabyte scanned by one query
MAX_UNITS = 10**15
# database request units of one call (Cosmos DB charges ~1 to 10^5 per request)
MAX_REQUEST_UNITS = 1e12
# dollars reported for, or priced on, one span: no single call bills a million
MAX_SPAN_COST = Decimal(10**6)
# attempts of one run (the column is a 32-bit INTEGER)
MAX_ATTEMPT = 10**6
# one outcome's value, either sign: sums of them stay finite and exact to the cent
MAX_OUTCOME_VALUE = 1e15
# span times: from 2000 (before any OpenTelemetry) to 2200 (int64 nanoseconds end in 2262)
TIME_MIN_NS = 946_684_800 * 10**9
TIME_MAX_NS = 7_258_118_400 * 10**9
# an end this long before its start is no clock skew
MAX_BACKWARDS_NS = 86_400 * 10**9

# SpanRecord field -> its bound (the columnar path checks its arrays against these)
FIELD_BOUNDS: dict[str, int | float | Decimal] = {
    "attempt": MAX_ATTEMPT,
    "outcome_value_amount": MAX_OUTCOME_VALUE,
    "reported_cost": MAX_SPAN_COST,
    "request_units": MAX_REQUEST_UNITS,
    **dict.fromkeys(TOKEN_FIELDS, MAX_TOKENS),
    **dict.fromkeys(UNIT_FIELDS, MAX_UNITS),
}


def note(key: str, value: object, bound: object) -> str:
    """The note for a value dropped from a span."""
    shown = str(value)
    shown = shown if len(shown) <= 40 else shown[:40] + "..."
    return f"{key}={shown} dropped: beyond {bound}"


def out_of_time(start_ns: object, end_ns: object) -> str | None:
    """Why a span's times cannot be kept, or None when they can."""
    times = []
    for what, ns in (("start", start_ns), ("end", end_ns)):
        if not isinstance(ns, int) or not TIME_MIN_NS <= ns <= TIME_MAX_NS:
            return f"its {what} time {str(ns)[:40]} ns is not between the years 2000 and 2200"
        times.append(ns)
    start, end = times
    if end < start - MAX_BACKWARDS_NS:
        return f"it ends {(start - end) // 10**9} s before it starts"
    return None
