"""Normalizing: a batch of raw spans straight into Arrow columns (`normalize` is this on
one span).

Spans whose attributes have the same keys in the same order (one instrumentation, one
kind of call) form a group, normalized a column at a time: a column of one clean type
goes to Arrow as it is, anything else through the readers of `fields` value by value. A
group whose spans differ in category is split by category first. Rows come out grouped
and `SpanBatch.order` says from where.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import count
from operator import attrgetter
from typing import Any

from botanu import semconv as sc
from botanu.engine.batch import SCALAR_FIELDS, SpanBatch, typed_array
from botanu.engine.ingest._group import Group, text_array
from botanu.engine.ingest._usage import categories, usage_fields
from botanu.engine.ingest.fields import read_text
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
    moved = list(range(total))  # where each row was before groups were split by category
    for keys, first_index in first.items():
        size = sizes[first_index]
        group = Group(keys, attributes[start : start + size], environment.slice(start, size))
        for rows, part, fields in _by_category(group):
            if rows is not None:  # the group's spans, regrouped by category
                order[start : start + size] = [order[start + row] for row in rows]
                moved[start : start + size] = [moved[start + row] for row in rows]
            entries.append(part.entries())
            for name, parts in chunks.items():
                found = fields.get(name)
                kind = schema.field(name).type
                if found is None:
                    found = pa.nulls(part.size, kind)
                elif found.type != kind:
                    found = found.cast(kind)
                parts.append(found)
        start += size
    if moved != list(range(total)):  # the span's own fields follow their regrouped rows
        taken = pa.array(moved, pa.int64())
        arrays = {name: array.take(taken) for name, array in arrays.items()}
    for name, parts in chunks.items():
        arrays[name] = pa.concat_arrays(parts)
    return SpanBatch(total, arrays, pa.concat_arrays(entries), order)


def _by_category(group: Group) -> list[tuple[list[int] | None, Group, Any]]:
    """The group and its fields when its spans share a category; else one group per
    category, with the group's rows in their new order (given once, on the first)."""
    fields = group.fields(usage_fields)
    if fields is not None:
        return [(None, group, fields)]
    names = categories(group)
    rows = sorted(range(group.size), key=lambda row: _CATEGORY_ORDER[names[row]])
    parts, at = [], 0
    for name in sorted(set(names), key=_CATEGORY_ORDER.__getitem__):
        count = names.count(name)
        parts.append(group.subset(rows[at : at + count]))
        at += count
    out = []
    for i, part in enumerate(parts):
        found = part.fields(usage_fields)
        assert found is not None  # one category
        out.append((rows if i == 0 else None, part, found))
    return out


_CATEGORY_ORDER = {"llm": 0, "db": 1, "storage": 2, "messaging": 3, "other": 4}


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
