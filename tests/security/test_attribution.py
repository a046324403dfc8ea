"""Run identity from outside is taken only from sources the operator trusts.

A real Starlette app (through `httpx.ASGITransport`, the client address set on the
transport) and a real Flask app (the address in the WSGI environ) behind botanu's
middleware: an untrusted caller can neither continue another customer's run nor name a
customer, and malformed ids are refused even from a trusted source.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from flask import Flask, jsonify
from opentelemetry import propagate, trace
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from werkzeug.test import Client

from botanu import (
    BotanuMiddleware,
    BotanuWSGIMiddleware,
    get_current_run_context,
    run_botanu,
    semconv,
)

tracer = trace.get_tracer("tests.security.attribution")

UNTRUSTED = "203.0.113.7"  # TEST-NET-3: a public address
LOOPBACK = "127.0.0.1"
PRIVATE = "10.1.2.3"
VICTIM = "botanu.run_id=victim-run,botanu.workflow=checkout,botanu.customer_id=victim"
FULL_VICTIM = VICTIM + ",botanu.tenant_id=victim-tenant,botanu.attempt=9999"
SECRET = "s3cret-between-services"


def described(run) -> dict[str, object]:
    names = ("run_id", "event_id", "customer_id", "tenant_id", "attempt", "deadline")
    return {name: getattr(run, name) for name in names}


async def show_run(request):
    run = get_current_run_context()
    with tracer.start_as_current_span("work"):
        pass
    return JSONResponse(described(run))


def asgi_app(**options) -> Starlette:
    app = Starlette(routes=[Route("/orders/{order_id}", show_run)])
    app.add_middleware(BotanuMiddleware, **options)
    return app


def asgi_get(app, client_host, headers):
    async def go():
        transport = httpx.ASGITransport(app=app, client=(client_host, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/orders/1", headers=headers)

    return asyncio.run(go()).json()


def wsgi_app(**options) -> Flask:
    app = Flask("attribution")

    @app.get("/orders/<int:order_id>")
    def show(order_id: int):
        run = get_current_run_context()
        with tracer.start_as_current_span("work"):
            pass
        return jsonify(described(run))

    app.wsgi_app = BotanuWSGIMiddleware(app.wsgi_app, **options)  # type: ignore[method-assign]
    return app


def wsgi_get(app, client_host, headers):
    response = Client(app).get(
        "/orders/1", headers=headers, environ_base={"REMOTE_ADDR": client_host}, buffered=True
    )
    return response.json


SERVERS = {"asgi": (asgi_app, asgi_get), "wsgi": (wsgi_app, wsgi_get)}


@pytest.fixture(params=sorted(SERVERS))
def server(request):
    make, get = SERVERS[request.param]
    return lambda client_host, headers, **options: get(make(**options), client_host, headers)


def victim_headers() -> dict[str, str]:
    return {"baggage": VICTIM, "x-customer-id": "victim", "x-tenant-id": "victim-tenant"}


def no_span_carries(spans, value: str) -> None:
    for span in spans.spans:
        assert value not in dict(span.attributes or {}).values(), span.name


def test_an_untrusted_caller_cannot_continue_a_run_or_name_the_customer(spans, server):
    answer = server(UNTRUSTED, {**victim_headers(), "baggage": FULL_VICTIM})
    assert answer["run_id"] != "victim-run"
    assert answer["customer_id"] is None
    assert answer["tenant_id"] is None
    assert answer["attempt"] == 1
    no_span_carries(spans, "victim")
    no_span_carries(spans, "victim-run")


def test_the_identity_headers_are_ignored_from_untrusted_sources(spans, server):
    answer = server(UNTRUSTED, {"x-customer-id": "victim", "x-request-id": "victim-event"})
    assert answer["customer_id"] is None
    assert answer["event_id"] == answer["run_id"]
    (run,) = spans.run_spans()
    assert semconv.CUSTOMER_ID not in dict(run.attributes or {})


def test_a_path_as_run_id_is_refused_even_from_loopback(spans, server):
    baggage = "botanu.run_id=../../etc/passwd,botanu.workflow=checkout,botanu.customer_id=acme"
    answer = server(LOOPBACK, {"baggage": baggage})
    assert answer["run_id"] != "../../etc/passwd"
    assert len(answer["run_id"]) == 36  # a run of its own


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ("botanu.customer_id=..%2F..%2Fetc", "customer_id"),
        ("botanu.customer_id=%3Cscript%3E", "customer_id"),
        ("botanu.customer_id=" + "a" * 200, "customer_id"),
        ("botanu.tenant_id=a%2F..%2Fb", "tenant_id"),
        ("botanu.event_id=a%2F..%2Fb", "event_id"),
    ],
)
def test_malformed_ids_from_a_trusted_source_are_dropped(spans, server, entry, field):
    baggage = f"botanu.run_id=caller-run,botanu.workflow=checkout,{entry}"
    answer = server(LOOPBACK, {"baggage": baggage})
    assert answer["run_id"] == "caller-run"
    # a dropped event id falls back to the run id, the others to nothing
    assert answer[field] == ("caller-run" if field == "event_id" else None)


def test_attempt_and_deadline_are_bounded_even_from_a_trusted_source(spans, server):
    baggage = "botanu.run_id=caller-run,botanu.workflow=w,botanu.attempt=9999,botanu.deadline=1"
    answer = server(LOOPBACK, {"baggage": baggage})
    assert answer["run_id"] == "caller-run"
    assert (answer["attempt"], answer["deadline"]) == (1, None)


def test_a_trusted_caller_still_continues_its_run(spans, server):
    with run_botanu("checkout", event_id="order-9", customer_id="acme") as caller:
        headers: dict[str, str] = {}
        propagate.inject(headers)
    spans.clear()
    for host in (LOOPBACK, PRIVATE, "::1"):
        answer = server(host, headers)
        assert (answer["run_id"], answer["customer_id"]) == (caller.run_id, "acme")
    assert spans.run_spans() == []


def test_identity_headers_from_a_trusted_source_name_the_customer(spans, server):
    answer = server(PRIVATE, {"x-customer-id": "acme", "x-tenant-id": "t-1"})
    assert (answer["customer_id"], answer["tenant_id"]) == ("acme", "t-1")


def test_configured_networks_replace_the_default(spans, server):
    options = {"trusted_sources": ["198.51.100.0/24"]}
    assert server("198.51.100.9", {"baggage": VICTIM}, **options)["run_id"] == "victim-run"
    assert server(PRIVATE, {"baggage": VICTIM}, **options)["run_id"] != "victim-run"
    assert server(LOOPBACK, {"baggage": VICTIM}, **options)["run_id"] != "victim-run"


def test_trusting_everyone_or_no_one(spans, server):
    assert server(UNTRUSTED, {"baggage": VICTIM}, trusted_sources="*")["run_id"] == "victim-run"
    assert server(LOOPBACK, {"baggage": VICTIM}, trusted_sources=[])["run_id"] != "victim-run"


def test_the_shared_secret_is_trusted_from_any_address(spans, server):
    options = {"trust_secret": SECRET}
    good = {"baggage": VICTIM, "x-botanu-trust": SECRET}
    answer = server(UNTRUSTED, good, **options)
    assert (answer["run_id"], answer["customer_id"]) == ("victim-run", "victim")
    bad = {"baggage": VICTIM, "x-botanu-trust": SECRET[:-1] + "X"}
    assert server(UNTRUSTED, bad, **options)["run_id"] != "victim-run"
    # with a secret and no networks given, an address alone is not enough
    assert server(LOOPBACK, {"baggage": VICTIM}, **options)["run_id"] != "victim-run"


def test_settings_come_from_the_environment(spans, server, monkeypatch):
    monkeypatch.setenv("BOTANU_TRUST_SECRET", SECRET)
    headers = {"baggage": VICTIM, "x-botanu-trust": SECRET}
    assert server(UNTRUSTED, headers)["run_id"] == "victim-run"
    assert server(UNTRUSTED, {"baggage": VICTIM})["run_id"] != "victim-run"
    monkeypatch.delenv("BOTANU_TRUST_SECRET")
    monkeypatch.setenv("BOTANU_TRUSTED_SOURCES", "203.0.113.0/24")
    assert server(UNTRUSTED, {"baggage": VICTIM})["run_id"] == "victim-run"


def test_a_refused_identity_is_logged_at_debug_without_its_values(spans, server, caplog):
    caplog.set_level(logging.DEBUG, logger="botanu")
    server(UNTRUSTED, victim_headers())
    refused = [r.getMessage() for r in caplog.records if r.name == "botanu"]
    assert any(UNTRUSTED in message for message in refused)
    assert not any("victim" in message for message in refused)
    assert all(r.levelno <= logging.DEBUG for r in caplog.records if r.name == "botanu")


def test_bad_trust_settings_are_clear_errors():
    from botanu.exceptions import BotanuConfigError

    with pytest.raises(BotanuConfigError, match="not-a-network"):
        BotanuWSGIMiddleware(lambda environ, start: [], trusted_sources=["not-a-network"])


def test_an_untrusted_run_is_replaced_on_an_adopted_server_span(spans):
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    inner = Starlette(routes=[Route("/orders/{order_id}", show_run)])
    inner.add_middleware(BotanuMiddleware)
    answer = asgi_get(OpenTelemetryMiddleware(inner), UNTRUSTED, {"baggage": VICTIM})
    assert answer["run_id"] != "victim-run"
    (server,) = [s for s in spans.spans if s.kind is trace.SpanKind.SERVER]
    assert dict(server.attributes or {})[semconv.RUN_ID] == answer["run_id"]
    no_span_carries(spans, "victim")
    no_span_carries(spans, "victim-run")


@pytest.mark.parametrize(
    ("host", "continued"),
    [("::ffff:10.0.0.1", True), ("::ffff:203.0.113.7", False), ("not-an-address", False)],
)
def test_mapped_and_odd_addresses(spans, server, host, continued):
    assert (server(host, {"baggage": VICTIM})["run_id"] == "victim-run") is continued


def test_a_request_without_an_address_counts_as_local(spans):
    """A Unix socket or an in-process client gives no address: trusted like loopback."""
    app = wsgi_app()
    answer = Client(app).get("/orders/1", headers={"baggage": VICTIM}, buffered=True).json
    assert answer["run_id"] == "victim-run"
    app = wsgi_app(trusted_sources=["10.0.0.0/8"])
    answer = Client(app).get("/orders/1", headers={"baggage": VICTIM}, buffered=True).json
    assert answer["run_id"] != "victim-run"
