"""The embedded store: one DuckDB file. Spans and cost lines go in as Arrow batches (the
fast path; `executemany` is ~1000x slower), inside one transaction per write, so a write
either lands whole or not at all. DuckDB allows one process per file. Amounts are kept
as DECIMAL(38, 18): one with more places is rounded half-even to 18 on the way in.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Sequence
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from botanu._cores import usable_cores
from botanu.engine.batch import span_rows
from botanu.engine.prepare import default_pricer, price_records
from botanu.engine.records import (
    COST_COLUMNS,
    PROMOTED_KEYS,
    CostLine,
    SpanRecord,
    span_row_schema,
    stored_money,
)
from botanu.engine.resolutions import resolutions
from botanu.engine.store._rollup import merge_sql, rollup_sql
from botanu.engine.store.base import (
    QueryInterrupted,
    QueryResult,
    StoreError,
    checked_valuation,
)
from botanu.engine.store.reads import ViewReads

__all__ = ["DuckDBStore"]

_COST_FIELDS = [f.name for f in dataclasses.fields(CostLine)]


def _sql_files() -> list[tuple[str, str]]:
    """(name, text) of the numbered migration files, in order."""
    folder = resources.files(__package__) / "sql"
    names = sorted(p.name for p in folder.iterdir() if p.name[:4].isdigit())
    return [(name, (folder / name).read_text(encoding="utf-8")) for name in names]


@cache
def _sql(name: str) -> str:
    return (resources.files(__package__) / "sql" / name).read_text(encoding="utf-8")


def _views_sql() -> str:
    rollup = "\n".join(
        line for line in _sql("outcome_rollup.sql").splitlines() if not line.startswith("--")
    )
    text = _sql("views.sql").replace("__ATTRIBUTES__", _attributes_sql())
    for key in ("workflow", "customer_id", "tenant_id"):
        text = text.replace(f"__ROLLUP__ {key}", rollup.replace("__KEY__", key))
    return text


def _attributes_sql() -> str:
    """span_rows' attribute entries as a MAP, with the promoted ones put back from their
    columns (an entry still stored, because its text differed, wins)."""
    promoted = ", ".join(
        f"{{'key': '{key}', 'value': {name}}}" for name, key in PROMOTED_KEYS.items()
    )
    return (
        f"map_from_entries(list_concat(attributes, list_filter([{promoted}], lambda e: "
        "e.value IS NOT NULL AND NOT list_contains(list_transform(attributes, lambda a: a.key), "
        "e.key))))"
    )


def _merge_rollup(con: Any, source: str) -> None:
    """Merge the rollup of the spans in `source` into run_rollup (inside a transaction)."""
    _run(con, f"CREATE OR REPLACE TEMP TABLE _botanu_rollup AS {rollup_sql(source)}")
    for statement in merge_sql("_botanu_rollup"):
        _run(con, statement)
    _run(con, "DROP TABLE _botanu_rollup")


class DuckDBStore(ViewReads):
    """A botanu store in one DuckDB file (or in memory with `path=":memory:"`)."""

    dialect = "duckdb"

    def __init__(
        self, path: str | Path, *, read_only: bool = False, threads: int | None = None
    ) -> None:
        """`threads`: DuckDB's threads (default: the cores this process may use)."""
        import duckdb

        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.Error as exc:
            raise StoreError(f"cannot open the store {self.path}: {exc}") from None
        # DuckDB sizes its pool by the machine's cores, not the ones this process may use:
        # more threads than cores only take turns (a write then costs ~2x)
        self._con.execute(f"SET threads = {max(1, threads or usable_cores())}")
        if not read_only:
            self._migrate()

    # --- schema ---------------------------------------------------------------------------
    def _migrate(self) -> None:
        con = self._con
        _run(
            con,
            "CREATE TABLE IF NOT EXISTS botanu_migrations "
            "(name VARCHAR PRIMARY KEY, applied_at TIMESTAMP DEFAULT current_timestamp)",
        )
        done = {row[0] for row in con.execute("SELECT name FROM botanu_migrations").fetchall()}
        applied = False
        for name, sql in _sql_files():
            if name in done:
                continue
            _run(con, "BEGIN")
            try:
                _run(con, sql)
                _run(con, "INSERT INTO botanu_migrations (name) VALUES (?)", [name])
                _run(con, "COMMIT")
            except Exception:
                _run(con, "ROLLBACK")
                raise
            applied = True
        if applied:  # rollups of spans a migration moved
            self.rebuild_rollups()
        _run(con, _views_sql())

    # --- writing --------------------------------------------------------------------------
    def write(self, spans: Sequence[SpanRecord], cost_lines: Sequence[CostLine] = ()) -> int:
        """Store new spans with their cost lines, all or nothing, and bring the run rollups
        up to date. A span already stored (or twice in `spans`) is skipped with its line;
        `update_costs` replaces lines. Returns how many spans were new."""
        if not spans:
            return 0
        try:
            batch = span_rows(spans, cost_lines)
        except (ValueError, TypeError) as exc:  # a value the columns cannot hold
            raise StoreError(f"nothing was stored: {exc}") from exc
        low = min(span.start_ns for span in spans)
        high = max(span.start_ns for span in spans)
        return self._insert(batch, low, high)

    def write_batch(self, batch: Any) -> int:
        """`write` for spans already in columns: an Arrow table shaped as
        `span_row_schema()` (each span with its cost line), stored all or nothing."""
        if batch.num_rows == 0:
            return 0
        import pyarrow.compute as pc

        bounds = pc.min_max(batch.column("start_ns")).as_py()
        return self._insert(batch, int(bounds["min"]), int(bounds["max"]))

    def _insert(self, batch: Any, low: int, high: int) -> int:
        """Insert the new rows of `batch` (start times within [low, high]) and merge their
        run rollups, in one transaction; returns how many rows were new."""
        con = self._con
        _run(con, "BEGIN")
        try:
            con.register("_botanu_batch", batch)
            duplicates = con.execute(_sql("write_duplicates.sql"), [low, high]).fetchall()
            source, inserted = "_botanu_batch", int(batch.num_rows)
            if duplicates[0][0]:
                _run(con, _sql("write_dedupe.sql"), [low, high])
                source, inserted = "_botanu_new", self._count("_botanu_new")
            _run(con, _sql("write_insert.sql").replace("__SOURCE__", source))
            _merge_rollup(con, source)
            _insert_resolutions(con, batch)
            if source == "_botanu_new":
                _run(con, "DROP TABLE _botanu_new")
            _run(con, "COMMIT")
        except Exception as exc:
            _rollback(con)
            raise StoreError(f"nothing was stored: {exc}") from exc
        finally:
            con.unregister("_botanu_batch")
        return inserted

    def update_costs(self, cost_lines: Sequence[CostLine]) -> int:
        """Replace the cost lines of stored spans (a reprice), all or nothing, and rebuild
        the rollups of their runs. Returns how many spans got a new line."""
        if not cost_lines:
            return 0
        import pyarrow as pa

        con = self._con
        columns = _columns(cost_lines, _COST_FIELDS)
        columns["amount"] = [stored_money(amount) for amount in columns["amount"]]
        lines = pa.Table.from_pydict(columns, schema=_cost_schema())
        _run(con, "BEGIN")
        try:
            con.register("_botanu_costs", lines)
            _run(
                con,
                "CREATE OR REPLACE TEMP TABLE _botanu_affected AS "
                "SELECT DISTINCT s.run_id FROM span_rows s SEMI JOIN _botanu_costs c "
                "ON s.trace_id = c.trace_id AND s.span_id = c.span_id",
            )
            updated = con.execute(
                "UPDATE span_rows SET amount = c.amount, currency = c.currency, "
                "price_source = c.source, catalog_version = c.catalog_version, "
                "matched_provider = c.matched_provider, matched_model = c.matched_model, "
                "effective_date = c.effective_date, estimated = c.estimated, "
                "price_detail = c.detail, priced_at = current_timestamp "
                "FROM _botanu_costs c "
                "WHERE span_rows.trace_id = c.trace_id AND span_rows.span_id = c.span_id"
            ).fetchall()
            con.unregister("_botanu_costs")
            self._rebuild_rollups("SELECT run_id FROM _botanu_affected WHERE run_id IS NOT NULL")
            _run(con, "DROP TABLE _botanu_affected")
            _run(con, "COMMIT")
        except Exception as exc:
            _run(con, "ROLLBACK")
            raise StoreError(f"no cost line was replaced: {exc}") from exc
        return int(updated[0][0]) if updated else 0

    def rebuild_rollups(self) -> None:
        """Recompute every run's rollup from its spans (after rows were loaded by SQL)."""
        _run(self._con, "BEGIN")
        try:
            self._rebuild_rollups(None)
            _run(self._con, "COMMIT")
        except Exception as exc:
            _run(self._con, "ROLLBACK")
            raise StoreError(f"the run rollups were not rebuilt: {exc}") from exc

    def _rebuild_rollups(self, runs_sql: str | None) -> None:
        if runs_sql is None:
            _run(self._con, "DELETE FROM run_rollup")
            source = "span_rows"
        else:
            _run(self._con, f"DELETE FROM run_rollup WHERE run_id IN ({runs_sql})")
            source = f"(SELECT * FROM span_rows WHERE run_id IN ({runs_sql})) AS run_spans"
        _run(self._con, f"INSERT INTO run_rollup BY NAME {rollup_sql(source)}")

    def set_valuation(self, value_type: str, value_per_unit: Any, currency: str = "USD") -> None:
        """What one unit of `value_type` is worth (read by `runs.value_per_unit`)."""
        _run(
            self._con,
            "INSERT OR REPLACE INTO valuations VALUES (?, ?, ?)",
            list(checked_valuation(value_type, value_per_unit, currency)),
        )

    def unset_valuation(self, value_type: str) -> bool:
        """Forget what `value_type` is worth; whether it was set."""
        rows = self._con.execute(
            "DELETE FROM valuations WHERE value_type = ?", [value_type]
        ).fetchall()
        return bool(rows and rows[0][0])

    def valuations(self) -> list[tuple[str, Decimal, str]]:
        """Every valuation: (value type, value per unit, currency), by value type."""
        rows = self._con.execute(
            "SELECT value_type, value_per_unit, currency FROM valuations ORDER BY value_type"
        ).fetchall()
        return [(str(t), Decimal(v), str(c)) for t, v, c in rows]

    def _count(self, table: str) -> int:
        rows = self._con.execute(f"SELECT count(*) FROM {table}").fetchall()
        return int(rows[0][0])

    # --- reading --------------------------------------------------------------------------
    def reprice(self, since_ns: int, until_ns: int, batch_size: int = 50_000) -> int:
        """Price the spans that started in [since, until) again with today's prices
        (after a catalog update or a new rate card); returns how many were priced. Each
        batch replaces its lines in one transaction."""
        pricer = default_pricer()
        columns = ", ".join(f'"{f.name}"' for f in dataclasses.fields(SpanRecord))
        repriced, offset = 0, 0
        while True:
            batch = self.query(
                f"SELECT {columns} FROM spans WHERE start_ns >= ? AND start_ns < ? "
                "ORDER BY trace_id, span_id LIMIT ? OFFSET ?",
                [since_ns, until_ns, batch_size, offset],
            )
            if not batch.rows:
                return repriced
            records = [_record(row) for row in batch.as_dicts()]
            lines = price_records(records, pricer)
            self.update_costs(lines)
            repriced += len(lines)
            offset += batch_size

    def price_new(self, since_ns: int, until_ns: int, **_: Any) -> None:
        """Nothing: spans are priced as they are stored."""
        return

    def query(self, sql: str, parameters: Sequence[Any] | None = None) -> QueryResult:
        """Run one SQL statement; a bad statement raises `StoreError` with DuckDB's message."""
        import duckdb

        try:
            cursor = self._con.execute(sql, parameters or [])
            columns = [d[0] for d in cursor.description or ()]
            return QueryResult(columns, cursor.fetchall())
        except duckdb.Error as exc:
            raise StoreError(str(exc)) from None

    def query_capped(
        self, sql: str, parameters: Sequence[Any] | None, max_rows: int
    ) -> tuple[QueryResult, bool]:
        """`query` keeping the first `max_rows` rows, and whether there were more (the rest
        is never made). Raises `QueryInterrupted` after `interrupt()`."""
        import duckdb

        try:
            cursor = self._con.execute(sql, parameters or [])
            columns = [d[0] for d in cursor.description or ()]
            rows = cursor.fetchmany(max_rows + 1)
            if len(rows) > max_rows:
                _run(self._con, "SELECT 1")  # drops the rest of the answer
        except duckdb.InterruptException:
            raise QueryInterrupted("the statement was interrupted") from None
        except duckdb.Error as exc:
            raise StoreError(str(exc)) from None
        return QueryResult(columns, rows[:max_rows]), len(rows) > max_rows

    def interrupt(self) -> None:
        """End the statement running on this handle (called from another thread)."""
        self._con.interrupt()

    def reader(self) -> DuckDBStore:
        """Another handle on the same open database, for reading from another thread
        while this one writes (a DuckDB connection serves one thread at a time)."""
        other = object.__new__(DuckDBStore)
        other.path = self.path
        other._con = self._con.cursor()
        return other

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> DuckDBStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _insert_resolutions(con: Any, batch: Any) -> None:
    """Keep the batch's late outcomes (one already stored, as a span sent twice, is not
    added again)."""
    found = resolutions(batch)
    if found is None:
        return
    con.register("_botanu_resolutions", found)
    try:
        _run(
            con,
            "INSERT OR IGNORE INTO outcome_resolutions BY NAME SELECT * FROM _botanu_resolutions",
        )
    finally:
        con.unregister("_botanu_resolutions")


def _rollback(con: Any) -> None:
    """Roll back after a failed statement. A failed COMMIT has already ended the
    transaction, so the ROLLBACK's own error would only hide the first one."""
    import duckdb

    with contextlib.suppress(duckdb.Error):
        _run(con, "ROLLBACK")


def _run(con: Any, sql: str, parameters: Sequence[Any] | None = None) -> None:
    """Execute and drain a statement (DuckDB wants a result consumed before the next one)."""
    con.execute(sql, parameters or []).fetchall()


def _columns(items: Sequence[Any], names: list[str]) -> dict[str, list[Any]]:
    return {name: [getattr(item, name) for item in items] for name in names}


def _cost_schema() -> Any:
    """Cost lines as Arrow, typed like their columns in span_rows (ids and text: string)."""
    import pyarrow as pa

    rows = span_row_schema()
    return pa.schema(
        [
            (name, rows.field(COST_COLUMNS[name]).type if name in COST_COLUMNS else pa.string())
            for name in _COST_FIELDS
        ]
    )


def _record(row: dict[str, object]) -> SpanRecord:
    row["attributes"] = dict(row.get("attributes") or {})  # type: ignore[call-overload]
    return SpanRecord(**row)  # type: ignore[arg-type]
