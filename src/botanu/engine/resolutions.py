"""Late outcomes: an event's outcome recorded after its runs (`botanu.resolve_outcome`,
`botanu outcome`), sent as a span of its own. Both stores keep them beside the spans, one
row per resolution span; the `events` view takes each event's latest one over its runs'
own outcomes, and `runs` keeps each run's own.
"""

from __future__ import annotations

from typing import Any

from botanu import semconv as sc

__all__ = ["RESOLUTION_COLUMNS", "resolutions"]

# resolution column -> the span_rows column it is read from
RESOLUTION_COLUMNS = {
    "trace_id": "trace_id",
    "span_id": "span_id",
    "event_id": "event_id",
    "status": "outcome_status",
    "value_type": "outcome_value_type",
    "value_amount": "outcome_value_amount",
    "reason": "outcome_reason",
    "source": "outcome_source",
    "resolved_ns": "end_ns",
}


def resolutions(rows: Any) -> Any:
    """The late outcomes among a batch of spans (Arrow, span_rows shape), as Arrow columns
    named by `RESOLUTION_COLUMNS`; None when there are none (nearly every batch). A
    resolution span without an event id or a known status resolves nothing and is only
    kept as a span."""
    import pyarrow as pa
    import pyarrow.compute as pc

    named = pc.equal(rows.column("name"), sc.OUTCOME_RESOLUTION_SPAN)
    if not pc.any(named).as_py():
        return None
    statuses = pa.array(sc.OUTCOME_STATUSES, pa.string())
    keep = pc.and_(
        pc.and_(named, pc.is_valid(rows.column("event_id"))),
        pc.is_in(rows.column("outcome_status"), statuses),
    )
    found = rows.filter(keep)
    if found.num_rows == 0:
        return None
    return found.select(list(RESOLUTION_COLUMNS.values())).rename_columns(list(RESOLUTION_COLUMNS))
