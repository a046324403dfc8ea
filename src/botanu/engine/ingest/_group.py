"""One group of `normalize_batch`: spans with the same attribute keys, normalized a
column at a time into Arrow arrays from the declarations in `fields`. A column of one
clean type takes the vectorised path; any other goes through the readers of `fields`
value by value. A value beyond its field's bound is dropped and noted on its span.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import chain
from typing import Any

from botanu import semconv as sc
from botanu.engine.ingest.bounds import FIELD_BOUNDS, note
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
        """`attribute_text` of each value (the attributes column)."""
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
    return pa.array([_held(read_count(v)) for v in column.values], pa.int64())


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
        self.attributes = attributes
        # span (row) -> attribute -> why its value was dropped
        self.dropped: dict[int, dict[str, str]] = {}

    def subset(self, rows: Sequence[int]) -> Group:
        """The group's spans at `rows` (in that order), as a group of their own."""
        import pyarrow as pa

        env = self.resource_environment.take(pa.array(rows, pa.int64()))
        return Group(self.keys, [self.attributes[row] for row in rows], env)

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
        """A field of the table in `fields`, read from the group's columns: a value beyond the
        field's bound is dropped, and `dropped` notes it on its span."""
        import pyarrow as pa
        import pyarrow.compute as pc

        values = self.first(_READS[field.read], *field.keys)
        bound = FIELD_BOUNDS.get(field.name)
        if values is None or bound is None or values.null_count == len(values):
            return values
        extremes = pc.min_max(values)
        if extremes["max"].as_py() <= bound and extremes["min"].as_py() >= -bound:
            return values
        beyond = pc.fill_null(pc.greater(pc.abs(values), pa.scalar(bound, values.type)), False)
        for row in pc.indices_nonzero(beyond).to_pylist():
            # the attribute the value came from: the first of the field's that is there
            key, value = next(
                (k, self.columns[k].values[row])
                for k in field.keys
                if k in self.columns and self.columns[k].values[row] is not None
            )
            self.dropped.setdefault(row, {})[key] = note(key, value, bound)
        return pc.if_else(beyond, pa.scalar(None, values.type), values)

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
        entries = entry_list(offsets, names, pc.take(texts, source))
        return self._noted(entries) if self.dropped else entries

    def _noted(self, entries: Array) -> Array:
        """`entries` less the values `dropped` took out of their spans, and the note of
        each (joined to a note the span already had) under `botanu.ingest.note`."""
        import pyarrow as pa

        from botanu.engine.batch import entry_list

        rows = entries.to_pylist()
        for row, dropped in self.dropped.items():
            texts = {e["key"]: e["value"] for e in rows[row] if e["key"] not in dropped}
            notes = "; ".join(dropped.values())
            earlier = texts.get(sc.INGEST_NOTE)
            texts[sc.INGEST_NOTE] = f"{earlier}; {notes}" if earlier else notes
            rows[row] = [{"key": k, "value": v} for k, v in texts.items()]
        offsets = [0]
        for row_entries in rows:
            offsets.append(offsets[-1] + len(row_entries))
        flat = [e for row_entries in rows for e in row_entries]
        return entry_list(
            pa.array(offsets, pa.int32()),
            pa.array([e["key"] for e in flat], pa.string()),
            [e["value"] for e in flat],
        )

    def fields(self, usage: Callable[[Group], Fields | None]) -> Fields | None:
        """Every field read from attributes, `usage` giving the category and what the
        spans used; None when the spans differ in category (`split` them first)."""
        self.dropped = {}
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


# what an Arrow column holds of a number beyond it: still beyond every bound, so dropped
_HELD = 2**62


def _held(value: Any) -> Any:
    """A number as its column can hold it (one beyond 2^62 is beyond every bound)."""
    if value is not None and abs(value) > _HELD:
        return type(value)(_HELD if value > 0 else -_HELD)
    return value


def _reported(column: _Column) -> Array:
    import pyarrow as pa

    from botanu.engine.records import stored_money

    values = [stored_money(_held(read_money(v))) for v in column.values]
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
