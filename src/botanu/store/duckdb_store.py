"""The embedded store: one DuckDB file. Spans and cost lines go in as Arrow batches (the
fast path; `executemany` is ~1000x slower), inside one transaction per write, so a write
either lands whole or not at all. DuckDB allows one process per file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from botanu.engine.records import CostLine, SpanRecord
from botanu.store.base import QueryResult, StoreError

__all__ = ["DuckDBStore"]

_SPAN_FIELDS = [f.name for f in dataclasses.fields(SpanRecord)]
_COST_FIELDS = [f.name for f in dataclasses.fields(CostLine)]
_SPAN_COLUMNS = ", ".join(f'"{name}"' for name in _SPAN_FIELDS)


def _sql_files() -> list[tuple[str, str]]:
    """(name, text) of the numbered migration files, in order."""
    folder = resources.files("botanu.store") / "sql" / "duckdb"
    names = sorted(p.name for p in folder.iterdir() if p.name[:4].isdigit())
    return [(name, (folder / name).read_text(encoding="utf-8")) for name in names]


def _views_sql() -> str:
    folder = resources.files("botanu.store") / "sql" / "duckdb"
    return (folder / "views.sql").read_text(encoding="utf-8")


class DuckDBStore:
    """A botanu store in one DuckDB file (or in memory with `path=":memory:"`)."""

    dialect = "duckdb"

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        import duckdb

        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.Error as exc:
            raise StoreError(f"cannot open the store {self.path}: {exc}") from None
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
        _run(con, _views_sql())

    # --- writing --------------------------------------------------------------------------
    def write(self, spans: Sequence[SpanRecord], cost_lines: Sequence[CostLine] = ()) -> int:
        """Store spans (a span already stored is skipped) and their cost lines (replacing
        older lines of the same span), all or nothing. Returns how many spans were new."""
        import pyarrow as pa

        con = self._con
        _run(con, "BEGIN")
        try:
            inserted = 0
            if spans:
                batch = pa.Table.from_pydict(_columns(spans, _SPAN_FIELDS), schema=_span_schema())
                con.register("_botanu_spans", batch)
                before = self._count("spans")
                _run(
                    con,
                    f"INSERT OR IGNORE INTO spans ({_SPAN_COLUMNS}) "
                    f"SELECT {_SPAN_COLUMNS} FROM _botanu_spans",
                )
                inserted = self._count("spans") - before
                con.unregister("_botanu_spans")
            if cost_lines:
                lines = pa.Table.from_pydict(
                    _columns(cost_lines, _COST_FIELDS), schema=_cost_schema()
                )
                con.register("_botanu_costs", lines)
                _run(
                    con,
                    "INSERT OR REPLACE INTO cost_lines ("
                    + ", ".join(_COST_FIELDS)
                    + ") SELECT * FROM _botanu_costs",
                )
                con.unregister("_botanu_costs")
            _run(con, "COMMIT")
        except Exception as exc:
            _run(con, "ROLLBACK")
            raise StoreError(f"nothing was stored: {exc}") from exc
        return inserted

    def set_valuation(self, value_type: str, value_per_unit: Any, currency: str = "USD") -> None:
        """What one unit of `value_type` is worth (read by `runs.value_per_unit`)."""
        _run(
            self._con,
            "INSERT OR REPLACE INTO valuations VALUES (?, ?, ?)",
            [value_type, value_per_unit, currency],
        )

    def _count(self, table: str) -> int:
        rows = self._con.execute(f"SELECT count(*) FROM {table}").fetchall()
        return int(rows[0][0])

    # --- reading --------------------------------------------------------------------------
    def query(self, sql: str, parameters: Sequence[Any] | None = None) -> QueryResult:
        """Run one SQL statement; a bad statement raises `StoreError` with DuckDB's message."""
        import duckdb

        try:
            cursor = self._con.execute(sql, parameters or [])
            columns = [d[0] for d in cursor.description or ()]
            return QueryResult(columns, cursor.fetchall())
        except duckdb.Error as exc:
            raise StoreError(str(exc)) from None

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> DuckDBStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _run(con: Any, sql: str, parameters: Sequence[Any] | None = None) -> None:
    """Execute and drain a statement (DuckDB wants a result consumed before the next one)."""
    con.execute(sql, parameters or []).fetchall()


def _columns(items: Sequence[Any], names: list[str]) -> dict[str, list[Any]]:
    return {name: [getattr(item, name) for item in items] for name in names}


def _span_schema() -> Any:
    import pyarrow as pa

    types = {
        "start_ns": pa.int64(),
        "end_ns": pa.int64(),
        "attempt": pa.int32(),
        "is_run_span": pa.bool_(),
        "outcome_value_amount": pa.float64(),
        "request_units": pa.float64(),
        "reported_cost": pa.decimal128(38, 18),
        "attributes": pa.map_(pa.string(), pa.string()),
    }
    counts = {
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "cache_write_1h_tokens",
        "reasoning_tokens",
        "bytes_scanned",
        "rows",
        "bytes_read",
        "bytes_written",
        "object_count",
        "message_count",
    }
    return pa.schema(
        [
            (name, types.get(name, pa.int64() if name in counts else pa.string()))
            for name in _SPAN_FIELDS
        ]
    )


def _cost_schema() -> Any:
    import pyarrow as pa

    types = {
        "amount": pa.decimal128(38, 18),
        "effective_date": pa.date32(),
        "estimated": pa.bool_(),
    }
    return pa.schema([(name, types.get(name, pa.string())) for name in _COST_FIELDS])
