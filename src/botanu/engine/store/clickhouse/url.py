"""ClickHouse store URLs, parsed by botanu itself: the port decides nothing silently, TLS
is explicit, and every message names the store without its password."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from botanu.engine.store.base import StoreError

__all__ = ["ClickHouseURL", "parse_clickhouse_url"]

_FORMS = (
    "clickhouse://user[:password]@host[:port]/database[?secure=true&table=otel_traces] "
    "or chdb:///path/to/dir[?database=otel&table=otel_traces]"
)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_OPTIONS = {"secure", "table", "database"}


@dataclass(frozen=True)
class ClickHouseURL:
    """Where the exporter's traces table is. `path` is set for the embedded engine
    (chDB); host and port for a server, spoken to over HTTP(S)."""

    database: str
    table: str = "otel_traces"
    host: str = ""
    port: int = 8123
    username: str = "default"
    password: str = ""
    secure: bool = False
    path: str | None = None

    def display(self) -> str:
        """The URL as messages show it: never with the password."""
        if self.path is not None:
            return f"chdb://{self.path}?database={self.database}"
        scheme = "clickhouse+https" if self.secure else "clickhouse"
        return f"{scheme}://{self.username}@{self.host}:{self.port}/{self.database}"


def parse_clickhouse_url(url: str) -> ClickHouseURL:
    """`clickhouse://user:pass@host:8123/db` (HTTP; port 8443 or `?secure=true`: HTTPS)
    or `chdb:///dir?database=otel` (the in-process engine). Raises StoreError."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise StoreError(f"bad ClickHouse store URL: {exc}; use {_FORMS}") from None
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise StoreError(
            f"bad ClickHouse store URL: unknown option {', '.join(unknown)}; use {_FORMS}"
        )
    table = options.get("table", "otel_traces")
    if parts.scheme == "chdb":
        path = unquote(parts.netloc + parts.path)
        database = options.get("database", "otel")
        if not path:
            raise StoreError(f"bad ClickHouse store URL {url!r}: no folder; use {_FORMS}")
        _check_names(database, table)
        return ClickHouseURL(database=database, table=table, path=path)
    if parts.scheme not in {"clickhouse", "clickhouse+http", "clickhouse+https"}:
        raise StoreError(f"bad ClickHouse store URL: scheme {parts.scheme!r}; use {_FORMS}")
    database = unquote(parts.path.strip("/")) or options.get("database", "")
    if not parts.hostname or not database:
        raise StoreError(
            "bad ClickHouse store URL: it needs a host and the database the Collector "
            f"writes to; use {_FORMS}"
        )
    _check_names(database, table)
    secure = (
        parts.scheme == "clickhouse+https"
        or options.get("secure", "").lower() in {"1", "true", "yes"}
        or port in {443, 8443}
    )
    return ClickHouseURL(
        database=database,
        table=table,
        host=parts.hostname,
        port=port or (8443 if secure else 8123),
        username=unquote(parts.username or "default"),
        password=unquote(parts.password or ""),
        secure=secure,
    )


def _check_names(database: str, table: str) -> None:
    for what, name in (("database", database), ("table", table)):
        if not _IDENTIFIER.match(name):
            raise StoreError(
                f"bad ClickHouse store URL: {what} {name!r} must be letters, digits and _"
            )
