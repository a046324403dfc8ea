"""BotanuMiddleware adopts the SERVER span that a server instrumentation outside it opened
(FastAPI's own telemetry, OpenTelemetry's ASGI middleware): a new run stamps its identity
on that span and opens its run span inside it; a continued run opens no second one."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from botanu import BotanuMiddleware, emit_outcome, run_botanu, semconv


def attrs(span):
    return dict(span.attributes or {})


def fastapi_app(**options) -> FastAPI:
    app = FastAPI(**options)
    app.add_middleware(BotanuMiddleware)

    @app.get("/orders/{order_id}")
    async def show(order_id: str):
        return {"order": order_id}

    @app.get("/refuse")
    async def refuse():
        emit_outcome("failed", reason="out_of_stock")
        return PlainTextResponse("no", status_code=409)

    return app


def call(app, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path, headers=headers or {})

    return asyncio.run(go())


def servers(spans):
    return [s for s in spans.spans if s.kind is trace.SpanKind.SERVER]


def caller_headers(spans) -> tuple[str, dict[str, str]]:
    with run_botanu("checkout", event_id="order-9", customer_id="acme") as caller:
        headers: dict[str, str] = {}
        propagate.inject(headers)
    spans.clear()
    return caller.run_id, headers


def test_fastapis_server_span_joins_a_new_run(spans):
    call(fastapi_app(), "/orders/7", {"x-request-id": "req-7"})
    run = spans.run_span("GET /orders/{order_id}")
    (server,) = servers(spans)
    assert run.kind is trace.SpanKind.INTERNAL
    assert run.parent.span_id == server.context.span_id
    assert attrs(server)[semconv.RUN_ID] == attrs(run)[semconv.RUN_ID]
    assert attrs(server)[semconv.EVENT_ID] == "req-7"
    # every span of the request is in the run, FastAPI's own operation spans included
    assert {attrs(s).get(semconv.RUN_ID) for s in spans.spans} == {attrs(run)[semconv.RUN_ID]}


def test_a_continued_run_uses_fastapis_server_span(spans):
    run_id, headers = caller_headers(spans)
    call(fastapi_app(), "/refuse", headers)
    (server,) = servers(spans)
    assert spans.run_spans() == []
    assert attrs(server)[semconv.RUN_ID] == run_id
    assert attrs(server)[semconv.OUTCOME_STATUS] == "failed"  # the explicit outcome


def test_without_fastapi_tracing_botanu_opens_the_server_span(spans):
    call(fastapi_app(telemetry={"tracing": False}), "/orders/7")
    run = spans.run_span("GET /orders/{order_id}")
    assert servers(spans) == [run]


def test_opentelemetrys_asgi_middleware_span_is_adopted_too(spans):
    async def hello(request):
        return PlainTextResponse("hi")

    inner = Starlette(routes=[Route("/hello", hello)])
    inner.add_middleware(BotanuMiddleware)
    app = OpenTelemetryMiddleware(inner)
    call(app, "/hello")
    run = spans.run_span("GET /hello")
    (server,) = servers(spans)
    assert attrs(server)[semconv.RUN_ID] == attrs(run)[semconv.RUN_ID]

    run_id, headers = caller_headers(spans)
    call(app, "/hello", headers)
    (server,) = servers(spans)
    assert spans.run_spans() == []
    assert attrs(server)[semconv.RUN_ID] == run_id
