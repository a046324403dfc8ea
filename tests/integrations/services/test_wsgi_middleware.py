"""BotanuWSGIMiddleware on real Flask and plain WSGI apps, called the way a WSGI server
calls them: the run lasts until the response is closed, exceptions pass through, and a
server instrumentation's SERVER span outside the middleware is adopted."""

from __future__ import annotations

import pytest
from flask import Flask, Response, jsonify
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware
from werkzeug.test import Client, EnvironBuilder

from botanu import (
    BotanuWSGIMiddleware,
    emit_outcome,
    get_current_run_context,
    run_botanu,
    semconv,
)
from botanu.sdk import _runtime

tracer = trace.get_tracer("tests.wsgi")


def attrs(span):
    return dict(span.attributes or {})


def make_app() -> Flask:
    app = Flask("wsgi_tests")

    @app.get("/orders/<int:order_id>")
    def show(order_id: int):
        with tracer.start_as_current_span("load order"):
            pass
        run = get_current_run_context()
        return jsonify(run_id=run.run_id if run else None)

    @app.get("/stream")
    def stream():
        def chunks():
            for i in range(3):
                with tracer.start_as_current_span(f"chunk {i}"):
                    yield f"{i}\n"

        return Response(chunks())

    @app.get("/refuse")
    def refuse():
        emit_outcome("failed", reason="out_of_stock")
        return "no", 409

    @app.get("/crash")
    def crash():
        raise LookupError("handler bug")

    app.wsgi_app = BotanuWSGIMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    return app


def get(app, path, **kwargs):
    """A request the way a server makes it: the whole body read, then closed."""
    return Client(app).get(path, buffered=True, **kwargs)


def start_response(status, headers, exc_info=None):
    return lambda data: None


def test_a_new_run_is_named_by_the_flask_route_and_holds_the_handler_spans(spans):
    response = get(make_app(), "/orders/42", headers={"x-request-id": "r-1", "x-tenant-id": "t-1"})
    assert response.status_code == 200
    run = spans.run_span("GET /orders/<int:order_id>")
    a = attrs(run)
    assert run.kind is trace.SpanKind.SERVER
    assert response.json["run_id"] == a[semconv.RUN_ID]
    assert (a[semconv.EVENT_ID], a[semconv.TENANT_ID]) == ("r-1", "t-1")
    assert a[semconv.OUTCOME_STATUS] == "success"
    (child,) = spans.named("load order")
    assert attrs(child)[semconv.RUN_ID] == a[semconv.RUN_ID]
    assert child.parent.span_id == run.context.span_id


def test_the_run_lasts_while_the_body_streams_and_ends_on_close(spans):
    app = make_app()
    environ = EnvironBuilder(path="/stream").get_environ()
    body = app(environ, start_response)
    # between chunks the server's own context is untouched
    assert _runtime.current_scope() is None
    chunks = []
    for chunk in body:
        assert _runtime.current_scope() is None
        chunks.append(chunk)
    assert b"".join(chunks) == b"0\n1\n2\n"
    assert spans.run_spans() == []  # not ended before close()
    body.close()
    run = spans.run_span("GET /stream")
    assert attrs(run)[semconv.OUTCOME_STATUS] == "success"
    streamed = [s for s in spans.spans if s.name.startswith("chunk ")]
    assert len(streamed) == 3
    assert {attrs(s)[semconv.RUN_ID] for s in streamed} == {attrs(run)[semconv.RUN_ID]}


def test_an_exception_passes_through_unchanged_and_fails_the_run(spans):
    err = KeyError("bug")

    def broken(environ, start_response):
        raise err

    app = BotanuWSGIMiddleware(broken, workflow="ingest")
    with pytest.raises(KeyError) as info:
        app(EnvironBuilder(path="/x").get_environ(), start_response)
    assert info.value is err
    a = attrs(spans.run_span("ingest"))
    assert a[semconv.OUTCOME_STATUS] == "failed"
    assert a[semconv.OUTCOME_ERROR_TYPE] == "KeyError"


def test_a_flask_exception_that_propagates_fails_the_run_with_its_class(spans):
    app = make_app()
    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(LookupError, match="handler bug"):
        get(app, "/crash")
    a = attrs(spans.run_span("GET /crash"))
    assert (a[semconv.OUTCOME_STATUS], a[semconv.OUTCOME_ERROR_TYPE]) == ("failed", "LookupError")


def test_an_error_while_streaming_fails_the_run(spans):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])

        def body():
            yield b"first"
            raise TimeoutError("upstream")

        return body()

    body = BotanuWSGIMiddleware(app, workflow="export")(
        EnvironBuilder(path="/").get_environ(), start_response
    )
    iterator = iter(body)
    assert next(iterator) == b"first"
    with pytest.raises(TimeoutError):
        next(iterator)
    body.close()
    a = attrs(spans.run_span("export"))
    assert a[semconv.OUTCOME_STATUS] == "timeout"


def test_other_wsgi_apps_name_runs_through_a_route_resolver(spans):
    def app(environ, start_response):
        start_response("200 OK", [])
        return [b"ok"]

    def route(environ):
        return "/items/{id}" if environ["PATH_INFO"].startswith("/items/") else None

    wrapped = BotanuWSGIMiddleware(app, route=route)
    get(wrapped, "/items/1")
    Client(wrapped).post("/other", buffered=True)
    spans.run_span("GET /items/{id}")
    spans.run_span("POST (unmatched)")
    get(BotanuWSGIMiddleware(app), "/anything")
    spans.run_span("GET (unmatched)")  # no router known: never the raw path


def test_an_inbound_run_is_continued_with_its_explicit_outcome(spans):
    with run_botanu("checkout", event_id="order-9", customer_id="acme") as caller:
        headers: dict[str, str] = {}
        propagate.inject(headers)
    spans.clear()
    response = get(make_app(), "/refuse", headers=headers)
    assert response.status_code == 409
    assert spans.run_spans() == []
    (server,) = spans.named("GET /refuse")
    a = attrs(server)
    assert server.kind is trace.SpanKind.SERVER
    assert a[semconv.RUN_ID] == caller.run_id
    assert (a[semconv.OUTCOME_STATUS], a[semconv.OUTCOME_REASON]) == ("failed", "out_of_stock")


def test_hostile_headers_never_break_the_request(spans):
    response = get(
        make_app(),
        "/orders/1",
        headers={
            "baggage": "botanu.run_id=" + "x" * 9000 + ",botanu.workflow=%ZZ,=,;;;",
            "traceparent": "garbage",
            "x-request-id": "a\x01b",
            "x-customer-id": "c" * 300,
        },
    )
    assert response.status_code == 200
    a = attrs(spans.run_span("GET /orders/<int:order_id>"))
    assert a[semconv.EVENT_ID] == a[semconv.RUN_ID]
    assert semconv.CUSTOMER_ID not in a


def test_a_server_span_opened_outside_is_adopted(spans):
    """OpenTelemetry's WSGI middleware outside botanu's: a new run stamps its identity on
    that SERVER span; a continued run opens no second SERVER span."""
    app = make_app()
    app.wsgi_app = OpenTelemetryMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    get(app, "/orders/5")
    run = spans.run_span("GET /orders/<int:order_id>")
    (server,) = [s for s in spans.spans if s.kind is trace.SpanKind.SERVER]
    assert run.kind is trace.SpanKind.INTERNAL
    assert run.parent.span_id == server.context.span_id
    assert attrs(server)[semconv.RUN_ID] == attrs(run)[semconv.RUN_ID]

    with run_botanu("checkout", event_id="order-9") as caller:
        headers: dict[str, str] = {}
        propagate.inject(headers)
    spans.clear()
    get(app, "/refuse", headers=headers)
    (server,) = [s for s in spans.spans if s.kind is trace.SpanKind.SERVER]
    assert spans.run_spans() == []
    assert attrs(server)[semconv.RUN_ID] == caller.run_id
    assert attrs(server)[semconv.OUTCOME_STATUS] == "failed"  # the explicit outcome


def test_flask_instrumentation_inside_the_run_joins_it(spans):
    app = make_app()
    FlaskInstrumentor().instrument_app(app)
    try:
        get(app, "/orders/3")
    finally:
        FlaskInstrumentor().uninstrument_app(app)
    run = spans.run_span("GET /orders/<int:order_id>")
    run_id = attrs(run)[semconv.RUN_ID]
    assert all(attrs(s)[semconv.RUN_ID] == run_id for s in spans.spans)
    assert len(spans.spans) >= 3  # the run, Flask's request span, the handler's span


def test_a_second_botanu_middleware_keeps_the_run_of_the_first(spans):
    app = make_app()
    app.wsgi_app = BotanuWSGIMiddleware(app.wsgi_app, workflow="outer")  # type: ignore[method-assign]
    response = get(app, "/orders/8")
    run = spans.run_span("outer")
    assert response.json["run_id"] == attrs(run)[semconv.RUN_ID]
    assert len(spans.run_spans()) == 1
