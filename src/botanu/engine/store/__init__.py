"""Stores: one interface, a DuckDB file by default, ClickHouse at scale. `open_store`
picks one from a URL."""

from __future__ import annotations

import os
from pathlib import Path

from botanu.engine.store.base import QueryResult, Store, StoreError

__all__ = [
    "DEFAULT_STORE",
    "QueryResult",
    "Store",
    "StoreError",
    "is_clickhouse",
    "open_store",
    "store_path",
]

DEFAULT_STORE = ".botanu/botanu.duckdb"


_CLICKHOUSE_SCHEMES = ("clickhouse://", "clickhouse+http://", "clickhouse+https://", "chdb://")


def is_clickhouse(url: str | None) -> bool:
    """Whether `url` (default: `BOTANU_STORE`) names a ClickHouse store."""
    target = url or os.environ.get("BOTANU_STORE") or ""
    return target.startswith(_CLICKHOUSE_SCHEMES)


def store_path(url: str | None = None) -> str:
    """The DuckDB file (or ":memory:") a store URL names: a file path or `duckdb:///path`
    (default: `BOTANU_STORE`, else `.botanu/botanu.duckdb`). An unknown scheme is a
    `StoreError` naming the ones known."""
    target = url or os.environ.get("BOTANU_STORE") or DEFAULT_STORE
    scheme, sep, rest = target.partition("://")
    if not sep:
        return target
    if scheme == "duckdb":
        path = rest[1:] if rest.startswith("/") and rest[1:2] == "/" else rest
        return path or ":memory:"
    raise StoreError(
        f"unknown store URL {target!r}: use a file path, duckdb:///path/to/file.duckdb, "
        "clickhouse://user@host:8123/database or chdb:///path/to/folder"
    )


def open_store(url: str | None = None, *, read_only: bool = False) -> Store:
    """Open the store at `url`: a DuckDB file (see `store_path`), or a ClickHouse database
    for `clickhouse://user@host:8123/db` and `chdb:///folder` (see `ClickHouseStore`)."""
    target = url or os.environ.get("BOTANU_STORE")
    if is_clickhouse(target):
        from botanu.engine.store.clickhouse.store import ClickHouseStore

        return ClickHouseStore(str(target), read_only=read_only)
    path = store_path(url)
    if path != ":memory:" and read_only and not Path(path).exists():
        raise StoreError(f"no store at {path}: ingest spans first (botanu ingest or botanu demo)")
    from botanu.engine.store.duckdb.store import DuckDBStore

    return DuckDBStore(path, read_only=read_only)
