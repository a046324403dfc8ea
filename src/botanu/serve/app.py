"""The `botanu serve` HTTP app: OTLP/HTTP traces in, the store's answers out.

`POST /v1/traces` takes what the stock OpenTelemetry exporters send (protobuf or JSON,
gzip or not), decodes it whole (a malformed export is a 400 and nothing of it is kept),
journals it and answers `200` only once it is on disk. `POST /api/query` runs one
read-only statement for the CLI's read commands while this process owns the store.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import threading
import zlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from botanu.engine.ingest import OTLPDecodeError
from botanu.engine.store import StoreError
from botanu.engine.store.base import checked_valuation
from botanu.engine.store.duckdb.store import DuckDBStore
from botanu.serve.guard import only_addressed_to
from botanu.serve.pipeline import Pipeline
from botanu.serve.preparing import KIND_JSON, KIND_PROTOBUF, check_export
from botanu.serve.reading import QueryBusy, ServedReads

__all__ = ["create_app"]

_CONTENT_TYPES = {"application/x-protobuf": KIND_PROTOBUF, "application/json": KIND_JSON}
_RETRY_AFTER_S = "2"
_RECEIVING_BODIES = 8  # largest bodies received at once
_SMALL_BODY = 4096  # a valuation
_CLOSE_S = 5.0  # storing what is waiting at a stop (uvicorn's grace before it: 3 s)


def create_app(
    pipeline: Pipeline,
    *,
    token: str | None = None,
    max_body_bytes: int = 16 * 1024 * 1024,
    body_timeout_s: float = 30.0,
    dashboard: Callable[..., Any] | None = None,
    reads: ServedReads | None = None,
    allowed_hosts: Sequence[str] = (),
) -> Any:
    """The ASGI app around `pipeline` (started and closed with the app).
    `dashboard(store, store_problem=...)` is mounted at / with a store handle that reads
    from any thread and a function saying why the store cannot be written (None: it can).
    `reads`: how the store is read over HTTP (default: `ServedReads`, default bounds);
    `allowed_hosts`: names besides the loopback ones that requests may be addressed to."""
    receiver = _Receiver(
        pipeline, max_body_bytes, body_timeout_s, reads or ServedReads(pipeline.store)
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await run_in_threadpool(pipeline.start)
        try:
            yield
        finally:
            receiver.readers.interrupt_all()  # a long query must not hold the stop
            # what is journaled and not stored by then is stored at the next start
            await run_in_threadpool(pipeline.close, _CLOSE_S)

    routes: list[BaseRoute] = [
        Route("/v1/traces", receiver.traces, methods=["POST"]),
        Route("/api/query", receiver.query, methods=["POST"]),
        Route("/api/status", receiver.status, methods=["GET"]),
        Route("/api/valuations/{value_type}", receiver.valuation, methods=["PUT", "DELETE"]),
    ]
    if dashboard is not None:
        shown = dashboard(receiver.readers, store_problem=lambda: pipeline.stats.store_problem)
        routes.append(Mount("/", app=shown))
    app = Starlette(routes=routes, lifespan=lifespan)
    guarded = _require_token(app, token) if token else app
    return only_addressed_to(guarded, allowed_hosts)


class _Receiver:
    def __init__(
        self, pipeline: Pipeline, max_body_bytes: int, body_timeout_s: float, reads: ServedReads
    ) -> None:
        self.pipeline = pipeline
        self.max_body_bytes = max_body_bytes
        self.body_timeout_s = body_timeout_s
        self.readers = reads
        # bodies being received and checked at once, in bytes: many clients sending
        # large exports at the same moment are refused before they are read, not after
        self.max_receiving_bytes = _RECEIVING_BODIES * max_body_bytes
        self._receiving = 0
        self._valuations: DuckDBStore | None = None  # a handle of its own, made once
        self._valuations_lock = threading.Lock()

    async def traces(self, request: Request) -> Response:
        kind = _CONTENT_TYPES.get(_media_type(request))
        if kind is None:
            return _error(415, "send application/x-protobuf or application/json", KIND_JSON)
        claim = self._claim(request)
        if self._receiving + claim > self.max_receiving_bytes:
            return _error(503, "busy receiving other exports; retry later", kind, retry=True)
        self._receiving += claim  # one event loop: no lock needed
        try:
            return await self._take(request, kind)
        finally:
            self._receiving -= claim

    def _claim(self, request: Request) -> int:
        """The most memory receiving this body can take: its length, or the limit if it
        does not say or is packed."""
        declared = request.headers.get("content-length", "")
        packed = request.headers.get("content-encoding", "identity").strip().lower()
        if declared.isdigit() and packed in ("identity", ""):
            return min(int(declared), self.max_body_bytes)
        return self.max_body_bytes

    async def _take(self, request: Request, kind: int) -> Response:
        checked = await self._checked(request, kind)
        if isinstance(checked, Response):
            return checked
        payload, count = checked
        if not count:
            return _ok(kind)
        if not self.pipeline.reserve(count, len(payload)):
            problem = self.pipeline.stats.store_problem
            message = (
                f"the store cannot be written ({problem}); retry later"
                if problem
                else "busy storing earlier exports; retry later"
            )
            return _error(503, message, kind, retry=True)
        loop = asyncio.get_running_loop()
        journaled: asyncio.Future[None] = loop.create_future()

        def done(error: BaseException | None) -> None:
            loop.call_soon_threadsafe(_settle, journaled, error)

        self.pipeline.submit(kind, payload, count, done)
        try:
            await journaled
        except Exception:
            return _error(503, "the export could not be written to disk", kind, retry=True)
        return _ok(kind)

    async def _checked(self, request: Request, kind: int) -> tuple[bytes, int] | Response:
        """The export's bytes and span count, checked (else the answer to send)."""
        payload = await self._body(request, kind)
        if isinstance(payload, Response):
            return payload
        try:
            return payload, await run_in_threadpool(check_export, kind, payload)
        except OTLPDecodeError as exc:
            return _error(400, f"rejected, nothing kept: {exc}", kind)

    async def _body(self, request: Request, kind: int) -> bytes | Response:
        """The export's bytes, unpacked, within the size limit (else the answer to send)."""
        limit = self.max_body_bytes
        too_big = _error(413, f"an export may be at most {limit} bytes", kind)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return too_big
        try:
            body = await asyncio.wait_for(self._read(request), self.body_timeout_s)
        except asyncio.TimeoutError:
            return _error(408, f"the body did not come within {self.body_timeout_s:g} s", kind)
        if body is None:
            return too_big
        encoding = request.headers.get("content-encoding", "identity").strip().lower()
        return _unpacked(bytes(body), encoding, limit, kind)

    async def _read(self, request: Request) -> bytearray | None:
        """The raw body (None: past the size limit)."""
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > self.max_body_bytes:
                return None
        return body

    async def query(self, request: Request) -> Response:
        asked = await self._statement(request)
        if isinstance(asked, Response):
            return asked
        statement, parameters = asked
        try:
            result, truncated = await run_in_threadpool(self.readers.run, statement, parameters)
        except QueryBusy as exc:
            return JSONResponse({"error": str(exc)}, 503, {"Retry-After": _RETRY_AFTER_S})
        except StoreError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        answer = _encode_result(result.columns, result.rows)
        answer["truncated"] = truncated
        return JSONResponse(answer)

    async def _statement(self, request: Request) -> tuple[str, list[Any]] | Response:
        """The statement and parameters a query request sends (else the answer to send)."""
        if _media_type(request) != "application/json":
            return JSONResponse({"error": "send the query as application/json"}, 415)
        try:
            body = await asyncio.wait_for(self._read(request), self.body_timeout_s)
        except asyncio.TimeoutError:
            return JSONResponse({"error": "the query did not come in time"}, 408)
        if body is None:
            return JSONResponse({"error": "the query is too large"}, 413)
        try:
            document = json.loads(body)
            statement, parameters = document["sql"], document.get("parameters") or []
            if not isinstance(statement, str) or not isinstance(parameters, list):
                raise TypeError
        except (ValueError, KeyError, TypeError, RecursionError):
            return JSONResponse({"error": 'send {"sql": "...", "parameters": [...]}'}, 400)
        return statement, parameters

    async def valuation(self, request: Request) -> Response:
        """`PUT` what one unit of a value type is worth (`{"value_per_unit": "12.50",
        "currency": "USD"}`), or `DELETE` it: the one write a reader may make, so
        `botanu value` works while the server owns the store."""
        value_type = request.path_params["value_type"]
        if request.method == "DELETE":
            removed = await run_in_threadpool(self._with_valuations, "unset", value_type)
            return JSONResponse({"removed": removed})
        sent = await self._valuation_sent(request)
        if isinstance(sent, Response):
            return sent
        try:
            checked = checked_valuation(value_type, *sent)
            await run_in_threadpool(self._with_valuations, "set", *checked)
        except StoreError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse(
            {"value_type": checked[0], "value_per_unit": str(checked[1]), "currency": checked[2]}
        )

    async def _valuation_sent(self, request: Request) -> tuple[Any, Any] | Response:
        """The amount and currency a valuation request sends (else the answer to send)."""
        if _media_type(request) != "application/json":
            return JSONResponse({"error": "send the valuation as application/json"}, 415)
        declared = request.headers.get("content-length", "")
        if not declared.isdigit() or int(declared) > _SMALL_BODY:
            return JSONResponse({"error": "a valuation is a small JSON object"}, 413)
        try:
            body = await asyncio.wait_for(request.body(), self.body_timeout_s)
            document = json.loads(body[:_SMALL_BODY])
            return document["value_per_unit"], document.get("currency", "USD")
        except asyncio.TimeoutError:
            return JSONResponse({"error": "the valuation did not come in time"}, 408)
        except (ValueError, KeyError, TypeError, RecursionError):
            example = '{"value_per_unit": "12.50", "currency": "USD"}'
            return JSONResponse({"error": f"send {example}"}, 400)

    def _with_valuations(self, action: str, *arguments: Any) -> Any:
        with self._valuations_lock:
            if self._valuations is None:
                self._valuations = self.pipeline.store.reader()
            if action == "set":
                return self._valuations.set_valuation(*arguments)
            return self._valuations.unset_valuation(*arguments)

    async def status(self, request: Request) -> Response:
        stats = self.pipeline.stats
        return JSONResponse(
            {
                "accepted_spans": stats.accepted_spans,
                "stored_spans": stats.stored_spans,
                "writes": stats.writes,
                "refused_exports": stats.refused,
                "write_errors": len(stats.errors),
                "store_writable": stats.store_problem is None,
                "store_problem": stats.store_problem,
                "failed_writes": stats.failed_writes,
            }
        )


def _require_token(app: Starlette, token: str) -> Any:
    expected = f"Bearer {token}".encode()

    async def guarded(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or ())
            if not hmac.compare_digest(headers.get(b"authorization", b""), expected):
                response = JSONResponse({"error": "missing or wrong bearer token"}, 401)
                await response(scope, receive, send)
                return
        await app(scope, receive, send)

    return guarded


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


def _unpacked(body: bytes, encoding: str, limit: int, kind: int) -> bytes | Response:
    """The body without its content encoding (else the answer to send)."""
    if encoding in ("identity", ""):
        return body
    if encoding != "gzip":
        return _error(415, f"content-encoding {encoding!r} is not supported (use gzip)", kind)
    try:
        return _gunzip(body, limit)
    except ValueError as exc:
        return _error(413 if "at most" in str(exc) else 400, str(exc), kind)


def _gunzip(data: bytes, limit: int) -> bytes:
    """Every member of a gzip body (a concatenation is one stream, as gzip -d reads it),
    at most `limit` bytes unpacked in all."""
    out = bytearray()
    while True:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out += inflater.decompress(data, limit + 1 - len(out))
        except zlib.error as exc:
            raise ValueError(f"not valid gzip: {exc}") from None
        if len(out) > limit or inflater.unconsumed_tail:
            raise ValueError(f"an export may be at most {limit} bytes unpacked")
        if not inflater.eof:
            raise ValueError("not valid gzip: the stream is cut short")
        data = inflater.unused_data
        if not data:
            return bytes(out)


def _ok(kind: int) -> Response:
    """An empty ExportTraceServiceResponse: all spans accepted."""
    if kind == KIND_PROTOBUF:
        return Response(b"", media_type="application/x-protobuf")
    return Response(b"{}", media_type="application/json")


def _error(status: int, message: str, kind: int, *, retry: bool = False) -> Response:
    """An OTLP error answer: a google.rpc.Status, in the request's encoding."""
    headers = {"Retry-After": _RETRY_AFTER_S} if retry else None
    code = {400: 3, 401: 16, 408: 4, 413: 8, 415: 3, 503: 14}.get(status, 2)
    if kind == KIND_PROTOBUF:
        try:
            from google.rpc.status_pb2 import Status  # type: ignore[import-untyped]
        except ImportError:  # the OTLP exporters bring it; text is the fallback
            return Response(message, status, headers, media_type="text/plain")
        body = Status(code=code, message=message).SerializeToString()
        return Response(body, status, headers, media_type="application/x-protobuf")
    return JSONResponse({"code": code, "message": message}, status, headers)


def _encode_result(columns: list[str], rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    """Rows as JSON, with the kind of each column JSON has no type for (decimal, timestamp,
    date) so the CLI gets the same values back."""
    kinds: list[str | None] = [None] * len(columns)
    for row in rows:
        for i, value in enumerate(row):
            if kinds[i] is None and value is not None:
                kinds[i] = (
                    "decimal"
                    if isinstance(value, Decimal)
                    else "timestamp"
                    if isinstance(value, datetime)
                    else "date"
                    if isinstance(value, date)
                    else "json"
                )
    encoded = [[_plain(value) for value in row] for row in rows]
    return {"columns": columns, "kinds": kinds, "rows": encoded}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
