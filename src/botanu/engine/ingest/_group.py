"""One group of `normalize_batch`: spans with the same attribute keys, normalized a
column at a time into Arrow arrays, reading the same attributes in the same order as
`normalize`. A column of one clean type takes the vectorised path; any other goes
through `normalize`'s converters value by value, so the result is the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import chain
from typing import Any

from botanu import semconv as sc
from botanu.engine.ingest.bounds import FIELD_BOUNDS
from botanu.engine.ingest.fields import (
    LLM_PROVIDER_KEYS,
    MESSAGE_OPERATIONS,
    OLD_PROVIDERS,
    SPAN_FIELDS,
    Field,
    attribute_text,
    read_count,
    read_float,
    read_money,
    read_text,
)

__all__ = ["Group", "each", "text_array"]

Array = Any  # a pyarrow array (pyarrow ships no type information)
Fields = dict[str, Array | None]
_arange_cache: list[Array] = []


def text_array(values: list[str | None]) -> Array:
    import pyarrow as pa

    return pa.array(values, pa.string())


class _Column:
    """One attribute's values across a group; `array` is set when they all are text, all
    whole numbers or all booleans (Arrow refuses any mix, so its inference decides)."""

    __slots__ = ("array", "has_none", "kind", "values")

    def __init__(self, values: list[Any]) -> None:
        import pyarrow as pa

        self.values = values
        self.kind: type | None = None
        self.array: Array = None
        try:
            array = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            array = None
        kind = None if array is None else _KINDS.get(str(array.type))
        if kind is not None and array.null_count == 0:
            self.kind, self.array, self.has_none = kind, array, False
        else:
            self.has_none = None in values

    def is_text(self) -> bool:
        """All values are non-empty text (so `read_text` and `attribute_text` agree)."""
        import pyarrow.compute as pc

        return self.kind is str and not pc.equal(self.array, "").true_count

    def text(self) -> Array:
        """`normalize._as_text` of each value (the attributes column)."""
        import pyarrow as pa

        if self.kind is str:
            return self.array
        if self.kind is not None:  # Arrow writes ints and bools as Python does (True: "true")
            return self.array.cast(pa.string())
        return text_array([attribute_text(v) for v in self.values])


_KINDS: dict[str, type] = {"string": str, "int64": int, "bool": bool}


def _as_str(column: _Column) -> Array:
    """`read_text` of each value."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if column.kind is str:
        empty = pc.equal(column.array, "")
        if empty.true_count:
            return pc.if_else(empty, pa.scalar(None, pa.string()), column.array)
        return column.array
    if column.kind is int:
        return column.array.cast(pa.string())
    return text_array([read_text(v) for v in column.values])


def _as_count(column: _Column) -> Array:
    """`read_count` of each value: whole numbers of 0 or more."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if column.kind is int:
        if pc.min(column.array).as_py() < 0:
            return pc.if_else(pc.less(column.array, 0), pa.scalar(None, pa.int64()), column.array)
        return column.array
    return pa.array([read_count(v) for v in column.values], pa.int64())


def each(convert: Callable[[Any], Any], kind: str) -> Callable[[_Column], Array]:
    def apply(column: _Column) -> Array:
        import pyarrow as pa

        return pa.array([convert(v) for v in column.values], getattr(pa, kind)())

    return apply


class Group:
    """Spans with the same attribute keys, in the same order."""

    def __init__(
        self, keys: tuple[str, ...], attributes: Sequence[dict[str, Any]], env: Array
    ) -> None:
        self.keys = keys
        self.size = len(attributes)
        # every value span after span, then each key's column by stride (faster than a
        # look-up per span and key)
        flat = list(chain.from_iterable(map(dict.values, attributes)))
        width = len(keys)
        self.columns = {key: _Column(flat[j::width]) for j, key in enumerate(keys)}
        self.resource_environment = env

    def first(self, convert: Callable[[_Column], Array], *keys: str) -> Array | None:
        """`convert` of the first of `keys` that is not None on each span (`_first`)."""
        present = [self.columns[k] for k in keys if k in self.columns]
        if not present:
            return None
        if not present[0].has_none or len(present) == 1:
            return convert(present[0])
        merged = present[0].values
        for column in present[1:]:
            merged = [a if a is not None else b for a, b in zip(merged, column.values, strict=True)]
        return convert(_Column(merged))

    def text(self, *keys: str) -> Array | None:
        return self.first(_as_str, *keys)

    def count(self, *keys: str) -> Array | None:
        return self.first(_as_count, *keys)

    def read(self, field: Field) -> Array | None:
        """A field of the table in `fields`, as `normalize` reads it."""
        return self.first(_READS[field.read], *field.keys)

    def entries(self) -> Array:
        """The attributes column: each span's (key, value) entries in the dict's order,
        less a promoted attribute whose every value is its column's text."""
        import pyarrow as pa
        import pyarrow.compute as pc

        from botanu.engine.batch import entry_list
        from botanu.engine.records import PROMOTED_KEYS

        promoted = set(PROMOTED_KEYS.values())
        keys = [k for k in self.keys if k not in promoted or not self.columns[k].is_text()]
        width, size = len(keys), self.size
        offsets = pc.multiply(_arange(size + 1), width).cast(pa.int32())
        if not width:
            return entry_list(offsets, pa.array([], pa.string()), [])
        # texts are column by column; span i's entries are at j * size + i
        position = _arange(size * width)
        row = pc.divide(position, width)
        column = pc.subtract(position, pc.multiply(row, width))
        source = pc.add(pc.multiply(column, size), row)
        texts = pa.concat_arrays([self.columns[k].text() for k in keys])
        names = pc.take(pa.array(keys, pa.string()), column)
        return entry_list(offsets, names, pc.take(texts, source))

    def fields(self, usage: Callable[[Group], Fields | None]) -> Fields | None:
        """Every field read from attributes, `usage` giving the category and what the
        spans used; None when the spans differ in category, or a value is beyond its
        bound (`normalize` drops it and says so, span by span)."""
        import pyarrow as pa

        try:
            fields = self._fields(usage)
        except (OverflowError, pa.ArrowInvalid):  # beyond any bound, surely
            return None
        if fields is None or _beyond_bounds(fields):
            return None
        return fields

    def _fields(self, usage: Callable[[Group], Fields | None]) -> Fields | None:
        fields: Fields = {f.name: self.read(f) for f in SPAN_FIELDS}
        own = self.text(sc.ENVIRONMENT)
        fields["environment"] = _coalesce(own, self.resource_environment)
        used = usage(self)
        if used is None:
            return None
        fields.update(used)
        return fields

    def message_count(self, count: Array | None, operation: Array | None) -> Array | None:
        """The batch size, one for a single send or receive that does not say."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if operation is None:
            return count
        single = pc.fill_null(pc.is_in(operation, pa.array(sorted(MESSAGE_OPERATIONS))), False)
        if count is None:
            count = pa.nulls(self.size, pa.int64())
        return pc.if_else(pc.and_(pc.is_null(count), single), pa.scalar(1, pa.int64()), count)

    def storage_system(self) -> Array | None:
        """The storage system, or s3 for a span that names an S3 bucket."""
        system = self.text(sc.STORAGE_SYSTEM)
        bucket = self.columns.get(sc.AWS_S3_BUCKET)
        if bucket is None:
            return system
        s3 = text_array(["s3" if value else None for value in bucket.values])
        return _coalesce(system, s3)

    def provider(self) -> Array | None:
        """The provider name, lower-cased, older spellings mapped to current ones."""
        import pyarrow as pa
        import pyarrow.compute as pc

        raw = self.text(*LLM_PROVIDER_KEYS)
        if raw is None:
            return None
        encoded = pc.dictionary_encode(raw)
        names = [p.lower() if p else p for p in encoded.dictionary.to_pylist()]
        spelled = pa.array([OLD_PROVIDERS.get(p, p) if p else p for p in names], pa.string())
        return pc.take(spelled, encoded.indices)


def _beyond_bounds(fields: dict[str, Array | None]) -> bool:
    """Whether any value of a bounded field is beyond its bound (a min/max a column)."""
    import pyarrow.compute as pc

    for name, bound in FIELD_BOUNDS.items():
        array = fields.get(name)
        if array is None or array.null_count == len(array):
            continue
        extremes = pc.min_max(array)
        if extremes["max"].as_py() > bound or extremes["min"].as_py() < -bound:
            return True
    return False


def _reported(column: _Column) -> Array:
    import pyarrow as pa

    from botanu.engine.records import stored_money

    values = [stored_money(read_money(v)) for v in column.values]
    return pa.array(values, pa.decimal128(38, 18))


# how a column of each kind of field is read (`fields.READERS`, a column at a time)
_READS: dict[str, Callable[[_Column], Array]] = {
    "text": _as_str,
    "count": _as_count,
    "float": each(read_float, "float64"),
    "money": _reported,
}


def _coalesce(first: Array | None, second: Array | None) -> Array | None:
    import pyarrow.compute as pc

    if first is None or second is None:
        return second if first is None else first
    if first.null_count == 0:
        return first
    return pc.coalesce(first, second)


def _arange(size: int) -> Array:
    """0, 1, ..., size - 1 as int64 (a slice of one kept array)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not _arange_cache or len(_arange_cache[0]) < size:
        ones = pa.repeat(pa.scalar(1, pa.int64()), max(size, 1 << 16) * 2)
        _arange_cache[:] = [pc.cumulative_sum(ones, start=-1)]
    return _arange_cache[0].slice(0, size)
