"""Spans as columns: one Arrow array per `SpanRecord` field, typed as the store keeps
them, and the attributes as key/value entries. Ingest builds them without a Python object
per span; bulk pricing reads them and the store takes them as they are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from botanu.engine.records import (
    COST_COLUMNS,
    PROMOTED_KEYS,
    CostLine,
    SpanRecord,
    span_row_schema,
    stored_money,
)

__all__ = [
    "SCALAR_FIELDS",
    "SpanBatch",
    "span_rows",
    "typed_array",
]

SCALAR_FIELDS = tuple(f.name for f in dataclasses.fields(SpanRecord) if f.name != "attributes")


def typed_array(name: str, values: list[Any]) -> Any:
    """Python values of span_rows column `name` as an Arrow array of its type."""
    import pyarrow as pa

    kind = span_row_schema().field(name).type
    if values.count(None) == len(values):
        return pa.nulls(len(values), kind)
    if pa.types.is_decimal(kind):  # NaN and infinities have no DECIMAL value
        values = [stored_money(v) if v is not None and v.is_finite() else None for v in values]
    return pa.array(values, kind)


@dataclasses.dataclass(slots=True)
class SpanBatch:
    """Spans as columns. `arrays` holds every scalar field; `attributes` each span's
    attributes as (key, value) text entries, less those kept in their column only
    (`PROMOTED_KEYS`); `order[i]` is where row i came from, when rows were regrouped on
    the way in."""

    count: int
    arrays: dict[str, Any]
    attributes: Any
    order: list[int] | None = None

    @classmethod
    def from_records(cls, records: Sequence[SpanRecord]) -> SpanBatch:
        rows = list(map(attrgetter(*SCALAR_FIELDS), records))
        columns = list(map(list, zip(*rows, strict=True))) if rows else [[] for _ in SCALAR_FIELDS]
        arrays = {
            name: typed_array(name, col) for name, col in zip(SCALAR_FIELDS, columns, strict=True)
        }
        return cls(len(records), arrays, attribute_entries(records))

    def array(self, name: str) -> Any:
        return self.arrays[name]

    def record(self, row: int) -> SpanRecord:
        """Row `row` as a record (for the few spans priced one by one, and for tests)."""
        fields = {name: self.arrays[name][row].as_py() for name in SCALAR_FIELDS}
        entries = self.attributes[row].as_py() or []
        attributes = {entry["key"]: entry["value"] for entry in entries}
        for name, key in PROMOTED_KEYS.items():
            if fields[name] is not None and key not in attributes:
                attributes[key] = fields[name]
        return SpanRecord(**fields, attributes=attributes)

    def to_arrow(self, costs: Any = None) -> Any:
        """The span_rows batch: every span column, then the cost columns of `costs` (an
        Arrow table with the span_rows cost column names; none given: no cost lines)."""
        import pyarrow as pa

        schema = span_row_schema()
        arrays = [self.arrays[name] for name in SCALAR_FIELDS]
        arrays.append(self.attributes)
        for column in COST_COLUMNS.values():
            if costs is None:
                arrays.append(pa.nulls(self.count, schema.field(column).type))
            else:
                arrays.append(costs.column(column))
        return pa.Table.from_arrays(arrays, schema=schema)


def attribute_entries(records: Sequence[SpanRecord]) -> Any:
    """The records' attributes (text values) as the span_rows `attributes` list array,
    less the entries their promoted columns hold."""
    import pyarrow as pa

    keys: list[str] = []
    values: list[str] = []
    offsets = [0]
    for record in records:
        attributes = record.attributes
        if any(getattr(record, name) is not None for name in PROMOTED_KEYS):
            attributes = attributes.copy()
            for name, key in PROMOTED_KEYS.items():
                value = getattr(record, name)
                if value is not None and attributes.get(key) == value:
                    del attributes[key]
        keys.extend(attributes)
        values.extend(attributes.values())
        offsets.append(len(keys))
    return entry_list(pa.array(offsets, pa.int32()), pa.array(keys, pa.string()), values)


def entry_list(offsets: Any, keys: Any, values: Any) -> Any:
    """A list-of-(key, value) array from offsets and flat keys and values."""
    import pyarrow as pa

    if not isinstance(values, pa.Array):
        values = pa.array(values, pa.string())
    entries = pa.StructArray.from_arrays([keys, values], names=["key", "value"])
    return pa.ListArray.from_arrays(offsets, entries)


def span_rows(spans: Sequence[SpanRecord], cost_lines: Sequence[CostLine]) -> Any:
    """Records and their cost lines as one Arrow table shaped as `span_row_schema()`
    (what `Store.write_batch` takes): typed fields, attribute entries, cost line."""
    import pyarrow as pa

    by_span = {(line.trace_id, line.span_id): line for line in cost_lines}
    matched = [by_span.get((span.trace_id, span.span_id)) for span in spans]
    schema = span_row_schema()
    costs = {}
    for field_name, column in COST_COLUMNS.items():
        values = [None if line is None else getattr(line, field_name) for line in matched]
        if field_name == "amount":
            values = [stored_money(amount) for amount in values]
        costs[column] = pa.array(values, schema.field(column).type)
    return SpanBatch.from_records(spans).to_arrow(pa.table(costs))
