"""The columnar twin of `normalize`: a batch of raw spans straight into Arrow columns.

Spans whose attributes have the same keys in the same order (one instrumentation, one
kind of call) form a group, normalized a column at a time: a column of one clean type
goes to Arrow as it is, anything else through `normalize`'s own converters, and a group
whose spans differ in category is normalized span by span. Same result as `normalize`,
field by field; rows come out grouped and `SpanBatch.order` says from where.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import count
from operator import attrgetter
from typing import Any

from botanu import semconv as sc
from botanu.engine.batch import SCALAR_FIELDS, SpanBatch, attribute_entries, typed_array
from botanu.engine.ingest._group import Group, text_array
from botanu.engine.ingest._usage import usage_fields
from botanu.engine.ingest.fields import read_text
from botanu.engine.ingest.normalize import normalize
from botanu.engine.ingest.otlp import RawSpan
from botanu.engine.records import span_row_schema

__all__ = ["normalize_batch"]

# fields a raw span carries itself (as normalize copies them)
_OWN = (
    "trace_id",
    "span_id",
    "parent_span_id",
    "name",
    "kind",
    "start_ns",
    "end_ns",
    "status_code",
)
_attributes = attrgetter("attributes")


def normalize_batch(raws: Sequence[RawSpan]) -> SpanBatch:
    """Every span of `raws` as `normalize` makes it, as Arrow columns (rows grouped)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    total = len(raws)
    if not total:
        return SpanBatch.from_records([])
    attributes = list(map(_attributes, raws))
    signatures = list(map(tuple, attributes))
    first: dict[tuple[str, ...], int] = {}
    group_of = list(map(first.setdefault, signatures, count()))
    order = list(range(total))
    if len(first) > 1:  # stable: each group keeps its spans' order
        order.sort(key=group_of.__getitem__)
        raws = list(map(raws.__getitem__, order))
    columns = dict(zip(RawSpan._fields, zip(*raws, strict=True), strict=True))  # to fields
    attributes = columns["attributes"]
    arrays = {name: _own_array(name, list(columns[name])) for name in _OWN}
    service, environment = _resource_fields(columns["resource"])
    sizes = Counter(group_of)
    arrays["is_run_span"] = pc.starts_with(arrays["name"], sc.RUN_SPAN_PREFIX)
    arrays["service_name"] = service
    chunks: dict[str, list[Any]] = {name: [] for name in SCALAR_FIELDS if name not in arrays}
    entries: list[Any] = []
    schema = span_row_schema()
    start = 0
    for keys, first_index in first.items():
        size = sizes[first_index]
        group = Group(keys, attributes[start : start + size], environment.slice(start, size))
        fields = group.fields(usage_fields)
        if fields is None:  # spans of different categories: one by one
            records = [normalize(raw) for raw in raws[start : start + size]]
            fields = {
                name: typed_array(name, [getattr(r, name) for r in records]) for name in chunks
            }
            entries.append(attribute_entries(records))
        else:
            entries.append(group.entries())
        for name, parts in chunks.items():
            found = fields.get(name)
            kind = schema.field(name).type
            if found is None:
                found = pa.nulls(size, kind)
            elif found.type != kind:
                found = found.cast(kind)
            parts.append(found)
        start += size
    for name, parts in chunks.items():
        arrays[name] = pa.concat_arrays(parts)
    return SpanBatch(total, arrays, pa.concat_arrays(entries), order)


def _own_array(name: str, values: list[Any]) -> Any:
    """A field the raw span carries; kind and status are mostly one value per batch."""
    import pyarrow as pa

    if name in ("kind", "status_code") and len(set(values)) == 1 and values[0] is not None:
        return pa.repeat(pa.scalar(values[0], pa.string()), len(values))
    if name == "parent_span_id":  # the only one that may be missing
        return typed_array(name, values)
    return pa.array(values, span_row_schema().field(name).type)


def _resource_fields(resources: Sequence[dict[str, Any]]) -> tuple[Any, Any]:
    """service.name and deployment.environment.name of each span's resource (decoders
    share one resource dict per export, so most batches have a handful)."""
    import pyarrow as pa

    ids = list(map(id, resources))
    distinct = dict(zip(ids, resources, strict=True))
    named = {
        rid: (
            read_text(r.get(sc.RESOURCE_SERVICE_NAME)),
            read_text(r.get(sc.RESOURCE_DEPLOYMENT_ENVIRONMENT)),
        )
        for rid, r in distinct.items()
    }
    if len(named) == 1:
        service, environment = next(iter(named.values()))
        return (
            pa.repeat(pa.scalar(service, pa.string()), len(resources)),
            pa.repeat(pa.scalar(environment, pa.string()), len(resources)),
        )
    pairs = list(map(named.__getitem__, ids))
    return text_array([s for s, _ in pairs]), text_array([e for _, e in pairs])
