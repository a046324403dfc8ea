"""Pricing in bulk, the one way spans are priced: a batch of spans into cost-line
columns (a single span is a batch of one). Spans are grouped by pricing key, one quote
per key (kept across batches), and the quotes' rates applied in one statement
(apply.sql), which also chooses a reported cost, a reported 0 not taken and a failed
call's not-billed line. Spans a quote cannot price exactly go to their source one by one
(`PriceSources.line_of`) and back through apply.sql as quotes of their own line. Prices in
another currency are applied in it, then converted row by row with `convert`, at the
rate the quote holds for its day.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from botanu.engine.batch import SpanBatch
from botanu.engine.pricing._apply import apply_sql
from botanu.engine.pricing._currency import convert
from botanu.engine.pricing._quotes import (
    DAY_NS,
    FIXED,
    UNIT_CODES,
    USAGE_ALWAYS,
    Key,
    Quote,
    QuoteBook,
)
from botanu.engine.pricing._rates import Line
from botanu.engine.pricing._sources import (
    QUANTITY_FIELDS,
    REPORTED_ZERO_NOTE,
    REQUEST_CATEGORIES,
    PriceSources,
    with_reported_zero_note,
)
from botanu.engine.records import (
    COST_COLUMNS,
    TOKEN_FIELDS,
    CostLine,
    SpanRecord,
    span_row_schema,
    stored_money,
)
from botanu.semconv import LLM_USAGE_ON_CHILD

__all__ = ["KEY_FIELDS", "BulkPricer", "bulk_pricer"]

KEY_FIELDS = (
    "category",
    "provider",
    "request_model",
    "response_model",
    "service_tier",
    "system",
    "operation",
)
_USAGE_FIELDS = (*TOKEN_FIELDS, *QUANTITY_FIELDS)
_RATES = ("in", "cr", "cw", "1h", "out")
# lines of quote j: PER_QUOTE * j + offset (see _QuoteTable)
_PER_QUOTE = 7
_BULK_ATTRIBUTE = "_botanu_bulk_pricer"
_BY_PRICER_LOCK = threading.Lock()
# bulk pricers with an open DuckDB connection, closed at exit (held weakly: a pricer and
# its bulk pricer go together when nothing else holds them)
_OPEN: weakref.WeakSet[BulkPricer] = weakref.WeakSet()


def bulk_pricer(pricer: PriceSources) -> BulkPricer:
    """The bulk pricer of `pricer` (one per pricer, kept on it, so its quotes outlive a
    batch and it goes when the pricer goes)."""
    with _BY_PRICER_LOCK:
        found = getattr(pricer, _BULK_ATTRIBUTE, None)
        if not isinstance(found, BulkPricer):
            found = BulkPricer(pricer)
            setattr(pricer, _BULK_ATTRIBUTE, found)
        return found


@atexit.register
def _close_all() -> None:
    # before the interpreter tears DuckDB's module down (else DuckDB's bindings report
    # a still-open connection as leaked at exit)
    for bulk in list(_OPEN):
        bulk.close()


class BulkPricer:
    """Prices batches with the quotes of one pricer's sources; thread-safe (one batch at a
    time)."""

    def __init__(self, pricer: PriceSources) -> None:
        self.pricer = pricer
        self.quotes = QuoteBook(pricer)
        self._lock = threading.Lock()
        self._con: Any = None
        self._relation: Any = None
        # spans priced so far, and how many of them were priced on their own (`line_of`)
        self.spans_priced = 0
        self.spans_one_by_one = 0
        self._sql = apply_sql("duckdb", "_price_rows")

    def price_records(self, records: Sequence[SpanRecord]) -> list[CostLine | None]:
        """The cost line of each record (None: nothing to price); amounts with more
        decimal places than the store keeps are given whole."""
        batch = SpanBatch.from_records(records)
        with self._lock:
            table, exact = self._price(batch)
        costs = table.to_pydict()
        lines: list[CostLine | None] = []
        for row, record in enumerate(records):
            source = costs["price_source"][row]
            if source is None:
                lines.append(None)
                continue
            fields = {name: costs[column][row] for name, column in COST_COLUMNS.items()}
            if row in exact:  # more places than the store keeps: a line gives them all
                fields["amount"] = exact[row]
            elif source == "reported":  # the span's own figure, as it gave it
                fields["amount"] = record.reported_cost
            lines.append(
                CostLine(
                    trace_id=record.trace_id,
                    span_id=record.span_id,
                    category=record.category,
                    **fields,
                )
            )
        return lines

    def quote_tables(self, keys: Sequence[Key]) -> tuple[Any, Any]:
        """The quotes of `keys` for a database to apply (apply.sql): one row of quote
        columns per key, in order (`q_python`: the quote's prices must be converted, so
        rows on its own lines go to the pricer), and every line they name (`line_id`)."""
        import pyarrow as pa

        with self._lock:
            table = _QuoteTable([self.quotes.quote(key) for key in keys])
        columns = table.quote_columns()
        columns["q_python"] = pa.array([q.rate is not None for q in table.quotes], pa.bool_())
        return pa.table(columns), table.line_rows()

    def price_batch(self, batch: SpanBatch) -> Any:
        """The cost columns of every span of `batch`, in its order (an Arrow table)."""
        with self._lock:
            return self._price(batch)[0]

    # --- the steps --------------------------------------------------------------------------
    def _price(self, batch: SpanBatch) -> tuple[Any, dict[int, Decimal]]:
        """The cost columns, and the exact amount of rows whose amount has more decimal
        places than the store keeps (a converted price, or one priced on its own)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        self.spans_priced += batch.count
        if not batch.count:
            return _no_costs(), {}
        quotes, per_row = self._match(batch)
        table = _QuoteTable(quotes)
        rows = {name: batch.array(name) for name in _USAGE_FIELDS}
        rows["reported_cost"] = _reported(batch)
        rows["zero"] = _reported_zero(batch, rows["reported_cost"])
        rows["failed"] = _failed_without_usage(batch)
        # each row gets its quote's columns (a take per column: no join, order kept)
        indices = per_row
        for name, column in table.quote_columns().items():
            rows[name] = pc.take(column, indices)
        result = self._run(pa.table(rows))
        line = result.column("line").combine_chunks()
        amount = result.column("amount").combine_chunks().cast(pa.decimal128(38, 18))
        detail = result.column("detail").combine_chunks().cast(pa.string())
        exact: dict[int, Decimal] = {}
        converted = table.converted(line)
        if converted is not None:  # before the reported-0 note, which follows the conversion's
            amount, detail = table.to_usd(line, amount, detail, converted, exact)
        zero = result.column("zero").combine_chunks()
        if zero.null_count < len(zero):  # details apply.sql made keep the reported 0
            noted = pc.binary_join_element_wise(detail, pa.scalar(REPORTED_ZERO_NOTE), "; ")
            detail = pc.if_else(pc.fill_null(zero, False), noted, detail)
        on_own = pc.fill_null(pc.equal(line, -1), False)
        if on_own.true_count:
            line = self._price_on_their_own(
                batch, table, per_row=per_row, rows=rows, line=line, mask=on_own, exact=exact
            )
        counted_inside = _usage_on_child(batch)
        if counted_inside is not None:  # priced on the client's own span inside it
            line = pc.if_else(counted_inside, pa.scalar(None, line.type), line)
            amount = pc.if_else(counted_inside, pa.scalar(None, amount.type), amount)
        return table.cost_columns(line, amount, detail), exact

    def _match(self, batch: SpanBatch) -> tuple[list[Quote], Any]:
        """The quotes of the batch's keys, and each row's index among them (an Arrow
        array): key columns dictionary-encoded and combined into one code per key."""
        import pyarrow as pa
        import pyarrow.compute as pc

        start = batch.array("start_ns")
        if batch.count and pc.min(start).as_py() < 0:  # Arrow divides toward zero
            days = pa.array([s // DAY_NS for s in start.to_pylist()], pa.int64())
        else:
            days = pc.divide(start, DAY_NS)
        columns = [batch.array(name) for name in KEY_FIELDS] + [days]
        code: Any = None
        width = 1  # how many codes `code` can hold
        for column in columns:
            encoded = pc.dictionary_encode(column, null_encoding="encode")
            size = max(len(encoded.dictionary), 1)
            part = encoded.indices.cast(pa.int64())
            if code is not None and width * size >= 1 << 62:  # keep the product in range
                code = pc.dictionary_encode(code).indices.cast(pa.int64())
                width = int(pc.max(code).as_py() or 0) + 1
            code = part if code is None else pc.add(pc.multiply(code, size), part)
            width *= size
        encoded = pc.dictionary_encode(code)
        first_rows = pc.index_in(encoded.dictionary, value_set=code)
        keys = zip(*(pc.take(c, first_rows).to_pylist() for c in columns), strict=True)
        book = self.quotes
        quotes = [book.quote(key) for key in keys]
        return quotes, encoded.indices.cast(pa.int32())

    def _run(self, rows: Any) -> Any:
        import duckdb

        if self._con is None:
            self._con = duckdb.connect(":memory:")
            self._con.execute("SET threads = 1")  # small statements: threads only add overhead
            _OPEN.add(self)
        self._con.register("_price_rows", rows)
        try:
            # parsing the statement costs more than running it on a small batch: the
            # relation is kept and reads whatever `_price_rows` is at the time
            if self._relation is None:
                self._relation = self._con.sql(self._sql)
            return self._relation.to_arrow_table()
        except duckdb.Error:
            self._relation = self._con.sql(self._sql)
            return self._relation.to_arrow_table()
        finally:
            self._con.unregister("_price_rows")

    def close(self) -> None:
        """Close its DuckDB connection (a next batch opens another)."""
        con, self._con, self._relation = self._con, None, None
        _OPEN.discard(self)
        if con is not None:
            con.close()

    def _price_on_their_own(
        self,
        batch: SpanBatch,
        table: _QuoteTable,
        *,
        per_row: Any,
        rows: dict[str, Any],
        line: Any,
        mask: Any,
        exact: dict[int, Decimal],
    ) -> Any:
        """The rows apply.sql left to their source (-1), each priced on its own by
        `PriceSources.line_of`, then through apply.sql again as a quote of that one line, so a
        reported 0 or a failed call wraps it as it wraps any quote's line. Their lines
        join the table; returns each row's line."""
        import pyarrow as pa
        import pyarrow.compute as pc

        at = pc.indices_nonzero(mask)
        self.spans_one_by_one += len(at)
        own: list[Quote] = []
        amounts: list[Decimal | None] = []
        for row, j in zip(at.to_pylist(), pc.take(per_row, at).to_pylist(), strict=True):
            priced = self.pricer.line_of(batch.record(row))
            amounts.append(None if priced is None else priced.amount)
            if priced is not None:  # as the store keeps it
                priced = replace(priced, amount=stored_money(priced.amount))
            quote = table.quotes[j]
            line_of = Line.of(priced, keep_amount=True)
            own.append(Quote(FIXED, USAGE_ALWAYS, line_of, None, quote.reported, quote.not_billed))
        again = _QuoteTable(own)
        usage = {name: pc.take(rows[name], at) for name in rows if not name.startswith("q_")}
        found = self._run(pa.table(usage | again.quote_columns())).column("line")
        for k, (row, at_line) in enumerate(zip(at.to_pylist(), found.to_pylist(), strict=True)):
            # on its own line, noted or not: the amount the source gave it
            if at_line in (_PER_QUOTE * k, _PER_QUOTE * k + 3) and amounts[k] is not None:
                exact[row] = amounts[k]  # type: ignore[assignment]
        offset = table.extend(again)
        found = pc.add(found.combine_chunks(), pa.scalar(offset, pa.int32()))
        return pc.replace_with_mask(line, mask, found.cast(line.type))


def _usage_on_child(batch: SpanBatch) -> Any:
    """Rows marked `botanu.llm.usage_on_child` (a boolean mask), or None when none is:
    `Pricer.price` gives them no line, their usage is priced on the span inside them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    entries = pc.list_flatten(batch.attributes)
    if not len(entries):
        return None
    marked = pc.and_(
        pc.equal(entries.field("key"), LLM_USAGE_ON_CHILD), pc.equal(entries.field("value"), "true")
    )
    if not marked.true_count:
        return None
    rows = pc.filter(pc.list_parent_indices(batch.attributes), marked)
    mask = [False] * batch.count
    for row in rows.to_pylist():
        mask[row] = True
    return pa.array(mask, pa.bool_())


def _no_costs() -> Any:
    import pyarrow as pa

    schema = span_row_schema()
    return pa.table({c: pa.array([], schema.field(c).type) for c in COST_COLUMNS.values()})


def _reported_zero(batch: SpanBatch, reported: Any) -> Any:
    """Rows whose reported cost is 0 while they carry usage (`_carries_usage`):
    true there, else false or null. Price them as if nothing were reported."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if reported.null_count == batch.count:
        return pa.nulls(batch.count, pa.bool_())
    zero = pc.equal(reported, pa.scalar(Decimal(0), reported.type))
    if not pc.any(zero).as_py():
        return pa.nulls(batch.count, pa.bool_())
    return pc.and_(pc.fill_null(zero, False), _carries_usage(batch))


def _failed_without_usage(batch: SpanBatch) -> Any:
    """Rows whose status is error and that carry no usage: true there, else false or null.
    They are not billed (`not_billed_line`) wherever the catalog would give a line."""
    import pyarrow as pa
    import pyarrow.compute as pc

    failed = pc.fill_null(pc.equal(batch.array("status_code"), "error"), False)
    if not pc.any(failed).as_py():
        return pa.nulls(batch.count, pa.bool_())
    return pc.and_(failed, pc.invert(_carries_usage(batch)))


def _carries_usage(batch: SpanBatch) -> Any:
    """Whether each row used something a price applies to (a boolean mask): a positive
    token count or quantity, or any storage or messaging call (a billable request)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    usage = pc.is_in(batch.array("category"), value_set=pa.array(REQUEST_CATEGORIES))
    for name in (*TOKEN_FIELDS, *QUANTITY_FIELDS):
        usage = pc.or_(usage, pc.fill_null(pc.greater(batch.array(name), 0), False))
    return pc.fill_null(usage, False)


def _reported(batch: SpanBatch) -> Any:
    """The reported costs the pricer would take (not negative), as stored."""
    import pyarrow as pa
    import pyarrow.compute as pc

    reported = batch.array("reported_cost")
    if reported.null_count == batch.count:
        return reported
    # NaN and infinities cannot reach a DECIMAL column; a negative cost is ignored
    return pc.if_else(pc.less(reported, 0), pa.scalar(None, reported.type), reported)


class _QuoteTable:
    """The quotes of one batch as Arrow columns: quote j owns lines 7j (its own), 7j+1
    (no usage), 7j+2 (a reported cost), 7j+3 and 7j+4: the first two for a span whose
    reported 0 was not taken (noted; the reported $0 where the quote has no line), and
    7j+5 and 7j+6: the first two for a failed call without usage (not billed, where the
    quote has a line). Lines priced one by one are appended."""

    def __init__(self, quotes: list[Quote]) -> None:
        self.quotes = quotes
        self.lines: list[Line | None] = []
        for quote in quotes:
            reported = quote.reported
            zero = None if reported is None else replace(reported, amount=Decimal(0))
            self.lines.extend(
                (
                    quote.line,
                    quote.absent,
                    reported,
                    _noted(quote.line) or zero,
                    _noted(quote.absent) or zero,
                    quote.not_billed if quote.line is not None else None,
                    quote.not_billed if quote.absent is not None else None,
                )
            )

    def converted(self, line: Any) -> Any:
        """Rows on a line whose prices are in another currency (apply.sql priced them in
        it), as a boolean mask; None when there are none."""
        import pyarrow as pa
        import pyarrow.compute as pc

        ids = [
            _PER_QUOTE * j + offset
            for j, quote in enumerate(self.quotes)
            if quote.rate is not None
            for offset in (0, 3)  # its own line, and that line for a reported 0 not taken
        ]
        if not ids:
            return None
        mask = pc.fill_null(pc.is_in(line, value_set=pa.array(ids, line.type)), False)
        return mask if mask.true_count else None

    def to_usd(
        self, line: Any, amount: Any, detail: Any, mask: Any, exact: dict[int, Decimal]
    ) -> tuple[Any, Any]:
        """The masked rows' amounts and details in USD, each through `convert`: the
        amount times the quote's rate (kept whole in `exact`, by row), the detail noted."""
        import pyarrow as pa
        import pyarrow.compute as pc

        rows = pc.indices_nonzero(mask)
        amounts, details = [], []
        for row, at, native, made in zip(
            rows.to_pylist(),
            pc.take(line, rows).to_pylist(),
            pc.take(amount, rows).to_pylist(),
            pc.take(detail, rows).to_pylist(),
            strict=True,
        ):
            quote = self.quotes[at // _PER_QUOTE]
            assert quote.line is not None  # a priced line, so apply.sql gave an amount
            assert native is not None
            usd, text = convert(native, made if made is not None else quote.line.detail, quote.rate)
            exact[row] = usd
            amounts.append(stored_money(usd))
            details.append(text)
        return (
            pc.replace_with_mask(amount, mask, pa.array(amounts, amount.type)),
            pc.replace_with_mask(detail, mask, pa.array(details, pa.string())),
        )

    def extend(self, other: _QuoteTable) -> int:
        """Append the lines of `other` (quotes priced apart); returns the offset of its
        line ids here."""
        offset = len(self.lines)
        self.lines.extend(other.lines)
        return offset

    def quote_columns(self) -> dict[str, Any]:
        """One Arrow array per apply.sql quote column, quote j at position j."""
        import pyarrow as pa

        money = pa.decimal128(38, 18)
        cols: dict[str, list[Any]] = {name: [] for name in _QUOTE_TYPES}
        for j, quote in enumerate(self.quotes):
            rates, units = quote.tokens, quote.units
            values: dict[str, Any] = {
                "q_id": _PER_QUOTE * j,
                "q_kind": quote.kind,
                "q_usage": quote.usage,
                "q_alt": _PER_QUOTE * j + 1 if quote.absent is not None else None,
                "q_rep": _PER_QUOTE * j + 2,
            }
            if rates is not None:
                values["q_tier"] = rates.tier_start
                values["q_max_tokens"] = rates.max_tokens
                for name, base, high in zip(_RATES, rates.base, rates.high, strict=True):
                    values[f"q_r_{name}"], values[f"q_h_{name}"] = base, high
                read, write, hour = rates.priced
                values |= {"q_f_cr": int(read), "q_f_cw": int(write), "q_g_1h": int(hour)}
                values["q_f_1h"] = int(hour and not write)
            if units is not None:
                values |= {
                    "q_unit": UNIT_CODES[units.unit],
                    "q_step": units.step,
                    "q_step_amount": Decimal(units.step_e18).scaleb(-18),
                    "q_max_qty": units.max_qty,
                    "q_minimum": units.minimum,
                    "q_min_amount": None
                    if units.min_e18 is None
                    else Decimal(units.min_e18).scaleb(-18),
                    "q_d_unit": units.d_unit,
                    "q_d_floor": units.d_floor,
                    "q_d_rest": units.d_rest,
                }
            for name, column in cols.items():
                column.append(values.get(name))
        types = {name: _arrow_type(kind, money) for name, kind in _QUOTE_TYPES.items()}
        return {name: pa.array(cols[name], types[name]) for name in cols}

    def line_rows(self) -> Any:
        """Every line as a row: its id and the cost columns it gives a span."""
        import pyarrow as pa

        kept = [(i, x) for i, x in enumerate(self.lines) if x is not None]
        return pa.table(
            {
                "line_id": pa.array([i for i, _ in kept], pa.int32()),
                "amount": pa.array([x.amount for _, x in kept], pa.decimal128(38, 18)),
                "price_source": pa.array([x.source for _, x in kept], pa.string()),
                "catalog_version": pa.array([x.catalog_version for _, x in kept], pa.string()),
                "matched_provider": pa.array([x.matched_provider for _, x in kept], pa.string()),
                "matched_model": pa.array([x.matched_model for _, x in kept], pa.string()),
                "effective_date": pa.array([x.effective_date for _, x in kept], pa.date32()),
                "estimated": pa.array([x.estimated for _, x in kept], pa.bool_()),
                "price_detail": pa.array([x.detail for _, x in kept], pa.string()),
            }
        )

    def cost_columns(self, line: Any, amount: Any, detail: Any) -> Any:
        """The span_rows cost columns: each row's line looked up, amounts and details from
        apply.sql where it made them, else the line's own. Text columns are dictionary
        arrays over the few lines, so no string is copied per span."""
        import pyarrow as pa
        import pyarrow.compute as pc

        kept = [(i, x) for i, x in enumerate(self.lines) if x is not None]
        index: list[int | None] = [None] * len(self.lines)
        for position, (i, _) in enumerate(kept):
            index[i] = position
        # a line a quote lacks ("no cost line") points nowhere: a null row
        rows = pc.take(pa.array(index, pa.int32()), line)

        def text(values: list[str | None]) -> Any:
            return pa.DictionaryArray.from_arrays(rows, pa.array(values, pa.string()))

        def taken(values: list[Any], kind: Any) -> Any:
            return pc.take(pa.array(values, kind), rows)

        fixed = taken([x.amount for _, x in kept], pa.decimal128(38, 18))
        out = {
            "amount": pc.coalesce(amount, fixed),
            "currency": text(["USD"] * len(kept)),
            "price_source": text([x.source for _, x in kept]),
            "catalog_version": text([x.catalog_version for _, x in kept]),
            "matched_provider": text([x.matched_provider for _, x in kept]),
            "matched_model": text([x.matched_model for _, x in kept]),
            "effective_date": taken([x.effective_date for _, x in kept], pa.date32()),
            "estimated": taken([x.estimated for _, x in kept], pa.bool_()),
            "price_detail": _details(rows, [x.detail for _, x in kept], detail),
        }
        return pa.table({column: out[column] for column in COST_COLUMNS.values()})


def _noted(line: Line | None) -> Line | None:
    return None if line is None else replace(line, detail=with_reported_zero_note(line.detail))


def _details(rows: Any, fixed: list[str | None], made: Any) -> Any:
    """The detail of each row: apply.sql's where it made one, else its line's."""
    import pyarrow as pa
    import pyarrow.compute as pc

    dictionary = pa.array(fixed, pa.string())
    mask = pc.is_valid(made)
    if pc.any(mask).as_py():
        # made details join the dictionary after the fixed ones, in row order
        extra = made.filter(mask)
        after = pc.add(pc.cumulative_sum(mask.cast(pa.int32())), len(fixed) - 1)
        rows = pc.if_else(mask, after.cast(pa.int32()), rows)
        dictionary = pa.concat_arrays([dictionary, extra])
    return pa.DictionaryArray.from_arrays(rows, dictionary)


_QUOTE_TYPES = {
    "q_id": "int32",
    "q_kind": "int8",
    "q_usage": "int8",
    "q_alt": "int32",
    "q_rep": "int32",
    "q_tier": "int64",
    "q_max_tokens": "int64",
    **{f"q_{kind}_{name}": "rate" for kind in ("r", "h") for name in _RATES},
    "q_f_cr": "int8",
    "q_f_cw": "int8",
    "q_f_1h": "int8",
    "q_g_1h": "int8",
    "q_unit": "int8",
    "q_step": "int64",
    "q_step_amount": "money",
    "q_max_qty": "int64",
    "q_minimum": "money",
    "q_min_amount": "money",
    "q_d_unit": "string",
    "q_d_floor": "string",
    "q_d_rest": "string",
}


def _arrow_type(kind: str, money: Any) -> Any:
    import pyarrow as pa

    if kind == "money":
        return money
    if kind == "rate":  # per token, below $1: 64-bit decimals multiply faster
        return pa.decimal128(18, 18)
    return getattr(pa, kind)()
