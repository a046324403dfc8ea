"""What `botanu serve` lets a reader do: read the store, nothing else, within bounds.

Everything that answers over HTTP (`POST /api/query`, the dashboard, the CLI reading
through the server) goes through `ServedReads`. The database is locked down once, for
every connection of the process: no file, URL or extension access and no configuration
change (the writer needs none of them). Each statement must be one SELECT whose table
functions are on a short list of pure generators, and runs under a time limit, a row cap
and a limit on how many run at once.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from botanu.engine.store import QueryResult
from botanu.engine.store.duckdb.store import DuckDBStore
from botanu.engine.store.reads import ViewReads
from botanu.exceptions import QueryBusy, QueryInterrupted, QueryRefused

__all__ = ["QueryBusy", "QueryRefused", "ServedReads", "lock_down"]

log = logging.getLogger("botanu.serve")

# table functions that compute rows and touch nothing: every other one (read_*, glob,
# query, checkpoint, duckdb_settings, ...) either reaches the machine or tells about it
_PURE_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def lock_down(store: DuckDBStore, *, memory_limit_mb: int) -> None:
    """No file, URL or extension access and a memory limit for the whole database, then
    the configuration locked, so no statement can undo it."""
    for setting in (
        f"SET memory_limit = '{int(memory_limit_mb)}MB'",
        "SET enable_external_access = false",
        "SET autoinstall_known_extensions = false",
        "SET autoload_known_extensions = false",
        "SET allow_community_extensions = false",
        "SET lock_configuration = true",
    ):
        store.query(setting)


class ServedReads(ViewReads):
    """Read-only, bounded statements on `store` from any thread (each thread gets its own
    cursor). `query` serves the dashboard; `run` serves any statement (`/api/query`) and
    also says whether rows were cut. Each has its own slots, so statements sent to
    `/api/query` never keep the dashboard's pages from answering."""

    dialect = "duckdb"  # the SQL it reads, as `Store.dialect` says

    def __init__(
        self,
        store: DuckDBStore,
        *,
        timeout_s: float = 30.0,
        max_rows: int = 100_000,
        max_running: int = 4,
        max_pages: int = 2,
        wait_s: float = 1.0,
    ) -> None:
        self._store = store
        self.timeout_s = timeout_s
        self.max_rows = max_rows
        self._wait_s = wait_s
        self._slots = threading.BoundedSemaphore(max_running)
        self._page_slots = threading.BoundedSemaphore(max_pages)
        self._local = threading.local()
        self._running: set[DuckDBStore] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._parser: Any = None

    def query(self, sql: str, parameters: Sequence[Any] | None = None) -> QueryResult:
        result, _ = self._bounded(self._page_slots, sql, parameters)
        return result

    def valuations(self) -> list[tuple[str, Decimal, str]]:
        """Every valuation: (value type, value per unit, currency), by value type."""
        rows = self.query(
            "SELECT value_type, value_per_unit, currency FROM valuations ORDER BY value_type"
        ).rows
        return [(str(t), Decimal(v), str(c)) for t, v, c in rows]

    def run(self, sql: str, parameters: Sequence[Any] | None = None) -> tuple[QueryResult, bool]:
        """The first `max_rows` rows of `sql` and whether there were more (raises
        QueryRefused, QueryBusy, StoreError)."""
        return self._bounded(self._slots, sql, parameters)

    def _bounded(
        self, slots: threading.BoundedSemaphore, sql: str, parameters: Sequence[Any] | None
    ) -> tuple[QueryResult, bool]:
        problem = self.problem(sql)
        if problem:
            raise QueryRefused(problem)
        if not slots.acquire(timeout=self._wait_s):
            raise QueryBusy(f"{self._running_count()} queries are running; retry shortly")
        try:
            with self._watched() as reader:
                return self._fetch(reader, sql, parameters)
        finally:
            slots.release()

    def problem(self, sql: str) -> str | None:
        """Why `sql` is not served (None: it is one SELECT of the store and pure functions)."""
        import duckdb

        try:
            statements = duckdb.extract_statements(sql)
        except duckdb.Error as exc:
            return str(exc)
        if len(statements) != 1:
            return "send exactly one statement"
        if statements[0].type != duckdb.StatementType.SELECT:
            return "only reading statements (SELECT) are served while botanu serve owns the store"
        return self._outside_the_store(sql)

    def _outside_the_store(self, sql: str) -> str | None:
        """What of `sql`'s tables reaches beyond the store (None: nothing)."""
        tree = self._syntax_tree(sql)
        if tree is None or tree.get("error"):
            return "this statement cannot be checked, so it is not served"
        for node in _nodes(tree):
            kind = node.get("type")
            if kind == "TABLE_FUNCTION":
                name = str(node["function"].get("function_name", "")).lower()
                if name not in _PURE_TABLE_FUNCTIONS:
                    return f"{name}() is not served: queries read the store's tables and views"
            elif kind == "BASE_TABLE" and not _store_table(node):
                return f"{node.get('table_name')!r} is not a table of the store"
        return None

    def interrupt_all(self) -> None:
        """End every running query and refuse new ones (the server is stopping)."""
        with self._lock:
            self._closed = True
            running = list(self._running)
        for reader in running:
            reader.interrupt()

    # --- internals --------------------------------------------------------------------
    def _syntax_tree(self, sql: str) -> dict[str, Any] | None:
        """DuckDB's own parse of `sql` as JSON, from a connection that holds no data."""
        import duckdb

        with self._lock:
            if self._parser is None:
                self._parser = duckdb.connect(":memory:")
            try:
                row = self._parser.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()
            except duckdb.Error:
                return None
        return json.loads(row[0]) if row else None

    @contextmanager
    def _watched(self) -> Iterator[DuckDBStore]:
        """This thread's handle on the store, interrupted when the time limit passes."""
        reader: DuckDBStore | None = getattr(self._local, "reader", None)
        if reader is None:
            reader = self._local.reader = self._store.reader()
        timer = threading.Timer(self.timeout_s, reader.interrupt)
        timer.daemon = True
        with self._lock:
            if self._closed:
                raise QueryBusy("botanu serve is stopping")
            self._running.add(reader)
        timer.start()
        try:
            yield reader
        finally:
            timer.cancel()
            with self._lock:
                self._running.discard(reader)

    def _fetch(
        self, reader: DuckDBStore, sql: str, parameters: Sequence[Any] | None
    ) -> tuple[QueryResult, bool]:
        try:
            return reader.query_capped(sql, parameters, self.max_rows)
        except QueryInterrupted:
            self._local.reader = None  # a fresh handle next time
            raise QueryRefused(
                f"the query ran past the time limit of {self.timeout_s:g} s: narrow it"
            ) from None

    def _running_count(self) -> int:
        with self._lock:
            return len(self._running)


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every object of a parse tree, depth first."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _store_table(node: dict[str, Any]) -> bool:
    """A plain name in the store's own schema (a file path or another database is not)."""
    return (
        node.get("catalog_name", "") in ("",)
        and node.get("schema_name", "") in ("", "main")
        and bool(_PLAIN_NAME.match(str(node.get("table_name", ""))))
    )
