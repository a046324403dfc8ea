"""The store as a running `botanu serve` shows it: read statements over HTTP.

DuckDB lets one process hold a store file; while `botanu serve` holds it, the CLI's read
commands send their statements to the server (`POST /api/query`) and get the same values
back (decimals, timestamps and dates are tagged in the answer).
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from botanu.engine.store.base import QueryResult, StoreError, checked_valuation
from botanu.engine.store.reads import ViewReads

__all__ = ["RemoteStore"]

log = logging.getLogger("botanu")

_DECODE: dict[str, Callable[[str], Any]] = {
    "decimal": Decimal,
    "timestamp": datetime.fromisoformat,
    "date": date.fromisoformat,
}


_OWNED = "botanu serve owns this store: send spans to it over OTLP, or stop it to write directly"


class RemoteStore(ViewReads):
    """Read-only store behind a `botanu serve` at `url`."""

    dialect = "duckdb"

    def __init__(self, url: str, token: str | None = None, timeout_s: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.path = self.url
        self._token = token if token is not None else os.environ.get("BOTANU_SERVE_TOKEN")
        self._timeout_s = timeout_s

    def query(self, sql: str, parameters: Sequence[Any] | None = None) -> QueryResult:
        body = {"sql": sql, "parameters": list(parameters or [])}
        document = self._call("POST", "/api/query", body)
        if document.get("truncated"):
            log.warning(
                "botanu serve sent the first %d rows only (its row cap): narrow the query",
                len(document["rows"]),
            )
        decoders = [_DECODE.get(kind or "") for kind in document["kinds"]]
        rows = [
            tuple(
                value if value is None or decode is None else decode(value)
                for value, decode in zip(row, decoders, strict=True)
            )
            for row in document["rows"]
        ]
        return QueryResult(list(document["columns"]), rows)

    def write(self, spans: Any, cost_lines: Any = ()) -> int:
        raise StoreError(_OWNED)

    def write_batch(self, batch: Any) -> int:
        raise StoreError(_OWNED)

    def update_costs(self, cost_lines: Any) -> int:
        raise StoreError(_OWNED)

    def set_valuation(self, value_type: str, value_per_unit: Any, currency: str = "USD") -> None:
        """Through the server: valuations are the one thing it lets a reader write."""
        value_type, amount, currency = checked_valuation(value_type, value_per_unit, currency)
        body = {"value_per_unit": str(amount), "currency": currency}
        self._call("PUT", f"/api/valuations/{urllib.parse.quote(value_type, safe='')}", body)

    def unset_valuation(self, value_type: str) -> bool:
        path = f"/api/valuations/{urllib.parse.quote(value_type, safe='')}"
        return bool(self._call("DELETE", path)["removed"])

    def valuations(self) -> list[tuple[str, Decimal, str]]:
        rows = self.query(
            "SELECT value_type, value_per_unit, currency FROM valuations ORDER BY value_type"
        ).rows
        return [(str(t), Decimal(v), str(c)) for t, v, c in rows]

    def reprice(self, since_ns: int, until_ns: int) -> int:
        raise StoreError(f"botanu serve ({self.url}) owns this store: stop it to reprice")

    def price_new(self, since_ns: int, until_ns: int, **_: Any) -> None:
        return None  # the server prices spans as it stores them

    def send_spans(self, payload: bytes) -> None:
        """OTLP protobuf spans to the server's receiver, as an exporter sends them (the
        server stores them shortly after it acknowledges)."""
        self._send("POST", "/v1/traces", payload, "application/x-protobuf")

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        """The server's JSON answer to a request (raises StoreError with its message)."""
        data = None if body is None else json.dumps(body, default=str).encode()
        answer = self._send(method, path, data, "application/json")
        try:
            return json.loads(answer)
        except ValueError as exc:
            raise StoreError(f"botanu serve at {self.url} did not answer JSON: {exc}") from None

    def _send(self, method: str, path: str, data: bytes | None, content_type: str) -> bytes:
        headers = {"Content-Type": content_type} if data is not None else {}
        request = urllib.request.Request(
            f"{self.url}{path}", data=data, headers={**headers, **self._auth()}, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            raise StoreError(_message(exc)) from None
        except (urllib.error.URLError, OSError) as exc:
            raise StoreError(f"botanu serve at {self.url} did not answer: {exc}") from None

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    def close(self) -> None:
        pass

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _message(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.load(error)["error"])
    except (ValueError, KeyError, TypeError):
        return f"botanu serve answered HTTP {error.code}"
