"""Two real services on 127.0.0.1: a run opened in one continues in the other.

Service A is FastAPI under uvicorn (`BotanuMiddleware`), service B is Flask under
werkzeug (`BotanuWSGIMiddleware`); A calls B with an instrumented httpx client that
injects `traceparent` and `baggage`. The reverse direction uses requests.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import requests
from fastapi import FastAPI
from flask import Flask, jsonify
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan

from botanu import (
    BotanuMiddleware,
    BotanuWSGIMiddleware,
    emit_outcome,
    get_current_run_context,
    semconv,
    track_db_operation,
)

from .conftest import serve_asgi, serve_wsgi, wait_until

tracer = trace.get_tracer("tests.services")


def seen_run() -> dict[str, str | None]:
    run = get_current_run_context()
    return {
        "run_id": run.run_id if run else None,
        "event_id": run.event_id if run else None,
        "customer_id": run.customer_id if run else None,
    }


# --- service B: Flask ---------------------------------------------------------------------
flask_b = Flask("service_b")
flask_b.wsgi_app = BotanuWSGIMiddleware(flask_b.wsgi_app)  # type: ignore[method-assign]


@flask_b.get("/stock/<sku>")
def stock(sku: str):
    with tracer.start_as_current_span("check stock"):
        with track_db_operation(system="postgresql", operation="SELECT") as db:
            db.set_result(rows_returned=1)
    return jsonify(seen_run())


@flask_b.post("/reserve/<sku>")
def reserve(sku: str):
    emit_outcome("partial", value_type="items_reserved", value_amount=1, reason="low_stock")
    return jsonify(seen_run())


@flask_b.get("/busy")
def busy():
    return "later", 503


@flask_b.get("/crash")
def crash():
    raise RuntimeError("handler bug")


# --- service A: FastAPI, calling B ------------------------------------------------------------
fastapi_a = FastAPI()
fastapi_a.add_middleware(BotanuMiddleware)
fastapi_a.state.b_url = ""


@fastapi_a.get("/orders/{order_id}")
async def order(order_id: str):
    async with httpx.AsyncClient(base_url=fastapi_a.state.b_url) as client:
        stocked = (await client.get("/stock/sku-1")).json()
        reserved = (await client.post("/reserve/sku-1")).json()
        busy = (await client.get("/busy")).status_code
    return {"a": seen_run(), "stock": stocked, "reserve": reserved, "busy": busy}


@pytest.fixture(scope="module")
def services() -> Iterator[tuple[str, str]]:
    with serve_wsgi(flask_b) as b_url, serve_asgi(fastapi_a) as a_url:
        fastapi_a.state.b_url = b_url
        yield a_url, b_url


def attrs(span: ReadableSpan) -> dict:
    return dict(span.attributes or {})


def subtree(spans, root: ReadableSpan) -> list[ReadableSpan]:
    """`root` and every span below it."""
    found = [root]
    ids = {root.context.span_id}
    grew = True
    while grew:
        grew = False
        for span in spans:
            parent = span.parent.span_id if span.parent else None
            if parent in ids and span.context.span_id not in ids:
                ids.add(span.context.span_id)
                found.append(span)
                grew = True
    return found


def one(spans, name: str) -> ReadableSpan:
    return wait_until(lambda: next((s for s in spans.spans if s.name == name), None), name)


def test_every_span_of_b_carries_the_run_a_opened(spans, services, instrumented_clients):
    a_url, _ = services
    answer = httpx.get(
        f"{a_url}/orders/o-7", headers={"x-request-id": "order-7", "x-customer-id": "acme"}
    ).json()
    run_span = one(spans, "botanu.run/GET /orders/{order_id}")
    run = attrs(run_span)
    assert run[semconv.EVENT_ID] == "order-7"
    assert run[semconv.CUSTOMER_ID] == "acme"
    assert answer["a"]["run_id"] == run[semconv.RUN_ID]
    # B saw A's run, not one of its own
    assert answer["stock"] == answer["a"]
    assert answer["reserve"] == answer["a"]

    b_server = one(spans, "GET /stock/<sku>")
    one(spans, "POST /reserve/<sku>")
    one(spans, "GET /busy")
    b_spans = subtree(spans.spans, b_server)
    assert {s.name for s in b_spans} >= {"GET /stock/<sku>", "check stock", "SELECT postgresql"}
    for span in b_spans:
        a = attrs(span)
        assert a[semconv.RUN_ID] == run[semconv.RUN_ID], span.name
        assert a[semconv.EVENT_ID] == "order-7", span.name
        assert a[semconv.CUSTOMER_ID] == "acme", span.name
        assert span.context.trace_id == run_span.context.trace_id
    assert b_server.kind is trace.SpanKind.SERVER
    # B continued the run: the only run span is A's
    assert [s.name for s in spans.run_spans()] == ["botanu.run/GET /orders/{order_id}"]


def test_b_keeps_the_outcome_rules_of_a_continued_run(spans, services, instrumented_clients):
    a_url, _ = services
    answer = httpx.get(f"{a_url}/orders/o-8").json()
    assert answer["busy"] == 503
    run = attrs(one(spans, "botanu.run/GET /orders/{order_id}"))
    # B's explicit outcome lands on B's server span; A's run keeps its own automatic one
    reserve = attrs(one(spans, "POST /reserve/<sku>"))
    assert reserve[semconv.OUTCOME_STATUS] == "partial"
    assert reserve[semconv.OUTCOME_VALUE_TYPE] == "items_reserved"
    assert reserve[semconv.RUN_ID] == run[semconv.RUN_ID]
    assert run[semconv.OUTCOME_STATUS] == "success"
    # a 5xx in B marks B's span, but the run's owner (A) decides the run's outcome
    busy = one(spans, "GET /busy")
    assert busy.status.status_code is trace.StatusCode.ERROR
    assert semconv.OUTCOME_STATUS not in attrs(busy)
    assert attrs(busy)[semconv.HTTP_RESPONSE_STATUS_CODE] == 503


def test_a_request_without_a_run_opens_one_named_by_route(spans, services, instrumented_clients):
    _, b_url = services
    response = requests.get(
        f"{b_url}/stock/sku-9", headers={"x-request-id": "req-9", "x-customer-id": "globex"}
    )
    assert response.status_code == 200
    run_span = one(spans, "botanu.run/GET /stock/<sku>")
    run = attrs(run_span)
    assert run_span.kind is trace.SpanKind.SERVER
    assert (run[semconv.EVENT_ID], run[semconv.CUSTOMER_ID]) == ("req-9", "globex")
    assert run[semconv.WORKFLOW] == "GET /stock/<sku>"
    assert response.json()["run_id"] == run[semconv.RUN_ID]
    assert run[semconv.OUTCOME_STATUS] == "success"
    assert run[semconv.HTTP_RESPONSE_STATUS_CODE] == 200
    for span in subtree(spans.spans, run_span):
        assert attrs(span)[semconv.RUN_ID] == run[semconv.RUN_ID]


def test_a_new_run_in_b_fails_on_5xx_and_on_a_crash(spans, services):
    _, b_url = services
    assert requests.get(f"{b_url}/busy").status_code == 503
    assert requests.get(f"{b_url}/crash").status_code == 500  # Flask turns it into a 500
    busy = attrs(one(spans, "botanu.run/GET /busy"))
    assert busy[semconv.OUTCOME_STATUS] == "failed"
    assert (busy[semconv.OUTCOME_REASON], busy[semconv.OUTCOME_ERROR_TYPE]) == (
        "HTTP 503",
        "http_5xx",
    )
    crashed = attrs(one(spans, "botanu.run/GET /crash"))
    assert crashed[semconv.OUTCOME_STATUS] == "failed"
    assert crashed[semconv.OUTCOME_REASON] == "HTTP 500"


def test_unknown_paths_share_one_workflow_name(spans, services):
    _, b_url = services
    assert requests.get(f"{b_url}/wp-admin/setup.php").status_code == 404
    assert requests.post(f"{b_url}/stock/sku-1").status_code == 405
    wait_until(lambda: len(spans.named("botanu.run/GET (unmatched)")) == 1, "the 404 run")
    wait_until(lambda: len(spans.named("botanu.run/POST (unmatched)")) == 1, "the 405 run")


# --- the reverse direction: Flask A calls FastAPI B ------------------------------------------
fastapi_b = FastAPI()
fastapi_b.add_middleware(BotanuMiddleware)


@fastapi_b.get("/price/{sku}")
async def price(sku: str):
    with tracer.start_as_current_span("look up price"):
        pass
    return seen_run()


flask_a = Flask("service_a")
flask_a.wsgi_app = BotanuWSGIMiddleware(flask_a.wsgi_app)  # type: ignore[method-assign]
flask_a.config["B_URL"] = ""


@flask_a.get("/checkout/<cart>")
def checkout(cart: str):
    priced = requests.get(f"{flask_a.config['B_URL']}/price/sku-1").json()
    return jsonify(a=seen_run(), b=priced)


def test_a_flask_run_continues_in_a_fastapi_service(spans, instrumented_clients):
    with serve_asgi(fastapi_b) as b_url, serve_wsgi(flask_a) as a_url:
        flask_a.config["B_URL"] = b_url
        answer = requests.get(
            f"{a_url}/checkout/c-1", headers={"x-request-id": "cart-1", "x-customer-id": "acme"}
        ).json()
        run_span = one(spans, "botanu.run/GET /checkout/<cart>")
        b_server = one(spans, "GET /price/{sku}")
        one(spans, "look up price")
    run = attrs(run_span)
    assert (
        answer["b"]
        == answer["a"]
        == {
            "run_id": run[semconv.RUN_ID],
            "event_id": "cart-1",
            "customer_id": "acme",
        }
    )
    # FastAPI's own SERVER span serves the continued run: botanu opens no second one
    servers = [s for s in spans.spans if s.kind is trace.SpanKind.SERVER]
    assert [s.name for s in servers].count("GET /price/{sku}") == 1
    for span in subtree(spans.spans, b_server):
        assert attrs(span)[semconv.RUN_ID] == run[semconv.RUN_ID], span.name
        assert attrs(span)[semconv.CUSTOMER_ID] == "acme", span.name
    assert spans.run_spans() == [run_span]
