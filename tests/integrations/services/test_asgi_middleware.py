"""BotanuMiddleware on a real Starlette app: a run per request, or the caller's run
continued from W3C baggage; hostile headers never break the request."""

from __future__ import annotations

import asyncio

import httpx
from opentelemetry import propagate, trace
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route

from botanu import BotanuMiddleware, emit_outcome, get_current_run_context, run_botanu, semconv

tracer = trace.get_tracer("tests")


async def show_order(request):
    run = get_current_run_context()
    with tracer.start_as_current_span("load order"):
        pass
    return JSONResponse({"run_id": run.run_id if run else None})


async def crash(request):
    raise RuntimeError("handler bug")


async def refuse(request):
    emit_outcome("failed", reason="out_of_stock")
    return PlainTextResponse("no", status_code=409)


async def unavailable(request):
    return PlainTextResponse("later", status_code=503)


app = Starlette(
    routes=[
        Route("/orders/{order_id}", show_order),
        Route("/crash", crash),
        Route("/refuse", refuse),
        Route("/busy", unavailable),
        Mount("/api/v1", routes=[Route("/items/{item_id}", show_order)]),
    ]
)
app.add_middleware(BotanuMiddleware)


def call(path, headers=None):
    async def go():
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path, headers=headers or {})

    return asyncio.run(go())


def attrs(span):
    return dict(span.attributes or {})


def test_a_request_without_a_run_opens_one_named_by_route(spans):
    response = call("/orders/42", {"x-request-id": "req-1", "x-customer-id": "acme"})
    assert response.status_code == 200
    run = spans.run_span("GET /orders/{order_id}")
    a = attrs(run)
    assert run.kind is trace.SpanKind.SERVER
    assert response.json()["run_id"] == a[semconv.RUN_ID]
    assert a[semconv.EVENT_ID] == "req-1"
    assert a[semconv.CUSTOMER_ID] == "acme"
    assert a[semconv.OUTCOME_STATUS] == "success"
    (child,) = spans.named("load order")
    assert attrs(child)[semconv.RUN_ID] == a[semconv.RUN_ID]


def test_an_inbound_run_is_continued_with_its_run_id_and_trace(spans):
    with run_botanu("checkout", event_id="order-9", customer_id="acme") as caller:
        headers: dict[str, str] = {}
        propagate.inject(headers)
        caller_trace = trace.get_current_span().get_span_context().trace_id
    spans.clear()
    response = call("/orders/9", headers)
    assert response.json()["run_id"] == caller.run_id
    assert spans.run_spans() == []  # the caller owns the run span
    (server,) = spans.named("GET /orders/{order_id}")
    (child,) = spans.named("load order")
    for span in (server, child):
        assert attrs(span)[semconv.RUN_ID] == caller.run_id
        assert attrs(span)[semconv.EVENT_ID] == "order-9"
        assert attrs(span)[semconv.CUSTOMER_ID] == "acme"
        assert span.context.trace_id == caller_trace


def test_an_explicit_outcome_in_a_continued_run_is_recorded(spans):
    with run_botanu("checkout", event_id="order-9", customer_id="acme"):
        headers: dict[str, str] = {}
        propagate.inject(headers)
    spans.clear()
    assert call("/refuse", headers).status_code == 409
    (server,) = spans.named("GET /refuse")
    assert attrs(server)[semconv.OUTCOME_STATUS] == "failed"
    assert attrs(server)[semconv.OUTCOME_REASON] == "out_of_stock"


def test_a_crashing_handler_fails_the_run_and_the_error_reaches_the_server(spans):
    response = call("/crash")
    assert response.status_code == 500
    a = attrs(spans.run_span("GET /crash"))
    assert a[semconv.OUTCOME_STATUS] == "failed"
    assert a[semconv.OUTCOME_ERROR_TYPE] == "RuntimeError"


def test_hostile_baggage_and_headers_never_break_the_request(spans):
    hostile = {
        "baggage": "botanu.run_id=" + "x" * 9000 + ",botanu.workflow=%ZZ,=,;;;",
        "x-request-id": "\u00e9vil".encode("latin-1") + b"\x01",
        "traceparent": "garbage",
    }
    response = call("/orders/1", hostile)
    assert response.status_code == 200
    run = spans.run_span("GET /orders/{order_id}")
    a = attrs(run)
    assert a[semconv.EVENT_ID] == a[semconv.RUN_ID]  # the bad request id was dropped
    assert len(a[semconv.RUN_ID]) == 36


def test_many_baggage_entries_are_tolerated(spans):
    entries = ",".join(f"k{i}=v{i}" for i in range(300))
    with run_botanu("checkout", event_id="order-9", customer_id="acme") as caller:
        headers: dict[str, str] = {}
        propagate.inject(headers)
    spans.clear()
    headers["baggage"] = entries + "," + headers["baggage"]
    response = call("/orders/3", headers)
    assert response.status_code == 200
    # OpenTelemetry keeps the first 180 entries: ours came last, so a new run is opened
    assert response.json()["run_id"] != caller.run_id


def test_non_http_scopes_pass_through():
    seen = []

    async def inner(scope, receive, send):
        seen.append(scope["type"])

    middleware = BotanuMiddleware(inner)
    asyncio.run(middleware({"type": "lifespan"}, None, None))
    assert seen == ["lifespan"]


def test_routes_under_a_mount_are_named_by_their_full_template(spans):
    assert call("/api/v1/items/77").status_code == 200
    spans.run_span("GET /api/v1/items/{item_id}")


def test_unmatched_paths_share_one_workflow_name(spans):
    assert call("/wp-admin/setup-config.php").status_code == 404
    assert call("/users/123456/avatar").status_code == 404
    assert len(spans.named("botanu.run/GET (unmatched)")) == 2


def test_a_5xx_answer_fails_the_run_without_a_made_up_exception(spans):
    assert call("/busy").status_code == 503
    run = spans.run_span("GET /busy")
    a = attrs(run)
    assert a[semconv.OUTCOME_STATUS] == "failed"
    assert (a[semconv.OUTCOME_REASON], a[semconv.OUTCOME_ERROR_TYPE]) == ("HTTP 503", "http_5xx")
    assert a[semconv.HTTP_RESPONSE_STATUS_CODE] == 503
    assert [e.name for e in run.events] == [semconv.OUTCOME_EVENT]
    assert run.status.status_code is trace.StatusCode.ERROR
