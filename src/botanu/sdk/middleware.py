"""`BotanuMiddleware`: one run per HTTP request for ASGI apps (FastAPI, Starlette).

A request carrying a run in W3C baggage continues that run (same run id, trace parent
from `traceparent`); any other request opens a new run named after its route. Pure ASGI:
it imports no web framework. `RequestRuns` is the part shared with the WSGI middleware.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from opentelemetry import baggage as baggage_api
from opentelemetry import context as context_api
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from botanu import semconv
from botanu._internal.fast_attributes import write_attributes
from botanu._internal.guard import report_internal_error
from botanu.models.run_context import RunContext, clean_value
from botanu.sdk import _runtime
from botanu.sdk.decorators import start_run
from botanu.sdk.span_helpers import finish_run

__all__ = ["BotanuMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UNMATCHED_ROUTE = "(unmatched)"


class RequestRun:
    """The run of one request while it is served: its scope and the context it attached."""

    __slots__ = ("scope", "token")

    def __init__(self, scope: _runtime.RunScope, token: object) -> None:
        self.scope = scope
        self.token: object = token  # the inbound context attached under the run

    def pause(self) -> context_api.Context:
        """Detach the request's context (WSGI: between response chunks); returns it."""
        saved = _runtime.fast_current_context()
        _runtime.deactivate(self.scope)
        token, self.token = self.token, None
        if token is not None:
            context_api.detach(token)  # type: ignore[arg-type]
        return saved

    def resume(self, saved: context_api.Context) -> None:
        self.token = context_api.attach(saved)


class RequestRuns:
    """Opens and closes request runs; what the ASGI and the WSGI middleware share.

    A server instrumentation that runs outside the middleware (FastAPI's own telemetry,
    OpenTelemetry's ASGI or WSGI middleware) has already read the caller's context and
    opened the request's SERVER span. That span is adopted: a continued run uses it
    instead of opening a second SERVER span, and a new run stamps its identity on it and
    opens its run span inside it.
    """

    __slots__ = ("customer_header", "event_header", "tenant_header", "workflow")

    def __init__(
        self,
        workflow: str | None,
        event_id_header: str,
        customer_id_header: str,
        tenant_id_header: str,
    ) -> None:
        self.workflow = workflow
        self.event_header = event_id_header.lower()
        self.customer_header = customer_id_header.lower()
        self.tenant_header = tenant_id_header.lower()

    def open(
        self, headers: Mapping[str, str], method: str, route: Callable[[], str]
    ) -> RequestRun | None:
        """Attach the request's run; None (logged once) if botanu itself fails."""
        token = None
        try:
            current = _runtime.fast_current_context()
            if _runtime.current_scope(current) is not None:
                return None  # already inside a run (a second botanu middleware): keep it
            server = trace.get_current_span(current)
            adopt = server.is_recording() and getattr(server, "kind", None) is SpanKind.SERVER
            inbound = current if adopt else propagate.extract(headers)
            token = context_api.attach(inbound)
            run = RunContext.from_baggage(baggage_api.get_all(inbound))
            if run is not None:  # continue the caller's run: its owner decides the outcome
                if adopt:
                    scope = _runtime.RunScope(
                        run, None, _runtime.stamped_attributes(run), auto_success=False
                    )
                    scope.outcome_span = server
                    _runtime.activate(scope, None)
                    return RequestRun(scope, token)
                span = _runtime.state.tracer.start_span(
                    f"{method} {route()}", kind=SpanKind.SERVER, record_exception=False
                )
                scope = _runtime.RunScope(
                    run, span, _runtime.stamped_attributes(run), auto_success=False
                )
                _runtime.activate(scope, span)
                return RequestRun(scope, token)
            new_run = RunContext.create(
                self.workflow or f"{method} {route()}",
                event_id=clean_value(headers.get(self.event_header)),
                customer_id=clean_value(headers.get(self.customer_header)),
                tenant_id=clean_value(headers.get(self.tenant_header)),
                environment=_runtime.state.environment,
            )
            scope = start_run(
                new_run,
                _runtime.run_span_name(new_run.workflow),
                kind=SpanKind.INTERNAL if adopt else SpanKind.SERVER,
            )
            if adopt:
                write_attributes(server, scope.attributes, overwrite=False)
            return RequestRun(scope, token)
        except Exception:
            if token is not None:
                context_api.detach(token)
            report_internal_error("botanu middleware request start")
            return None

    def close(self, request: RequestRun, exc: BaseException | None, status_code: int) -> None:
        """End the request's run: outcome rules for a run it opened, then detach."""
        scope = request.scope
        try:
            if scope.span is not None and status_code:
                scope.span.set_attribute(semconv.HTTP_RESPONSE_STATUS_CODE, status_code)
            server_error = (
                (f"HTTP {status_code}", "http_5xx") if exc is None and status_code >= 500 else None
            )
            if scope.auto_success:  # a run this request opened: full outcome rules
                finish_run(scope, exc, failure=server_error)
            else:  # a continued run: its owner decides the outcome
                if (exc is not None or server_error) and scope.span is not None:
                    scope.span.set_status(Status(StatusCode.ERROR, f"HTTP {status_code}"))
                _runtime.deactivate(scope)
                if scope.span is not None:
                    scope.span.end()
        except Exception:
            report_internal_error("botanu middleware request end")
        finally:
            token, request.token = request.token, None
            if token is not None:
                context_api.detach(token)  # type: ignore[arg-type]


def http_method(value: object) -> str:
    """The request method when it looks like one, else "HTTP" (names stay bounded)."""
    if isinstance(value, str) and value.isalpha() and value.isupper() and len(value) <= 16:
        return value
    return "HTTP"


class BotanuMiddleware:
    """ASGI middleware: `app.add_middleware(BotanuMiddleware)`.

    `workflow` fixes the workflow name of new runs (default: `"<METHOD> <route>"`);
    the event and customer of a new run come from the `event_id_header` and
    `customer_id_header` request headers when present (validated like baggage).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        workflow: str | None = None,
        event_id_header: str = "x-request-id",
        customer_id_header: str = "x-customer-id",
        tenant_id_header: str = "x-tenant-id",
    ) -> None:
        self.app = app
        self.workflow = workflow
        self._runs = RequestRuns(workflow, event_id_header, customer_id_header, tenant_id_header)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        request = self._open(scope)
        if request is None:
            await self.app(scope, receive, send)
            return
        status_code = 0

        async def send_and_watch(message: Message) -> None:
            nonlocal status_code
            if message.get("type") == "http.response.start":
                status = message.get("status")
                status_code = status if isinstance(status, int) else 0
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        except BaseException as exc:
            self._runs.close(request, exc, status_code or 500)
            raise
        self._runs.close(request, None, status_code)

    def _open(self, scope: Scope) -> RequestRun | None:
        try:
            headers = _headers(scope)
        except Exception:
            report_internal_error("BotanuMiddleware headers")
            return None
        return self._runs.open(headers, http_method(scope.get("method")), lambda: _route(scope))


def _headers(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in scope.get("headers") or ():
        name = bytes(key).decode("latin-1").lower()
        text = bytes(value).decode("latin-1")
        out[name] = out[name] + "," + text if name in out else text
    return out


def _route(scope: Scope) -> str:
    """The route template (`/orders/{order_id}`, also under a `Mount`) when the app can
    tell. Never the raw path: scanners and ids would make workflow names unbounded."""
    app = scope.get("app")
    routes = getattr(getattr(app, "router", None), "routes", None) or getattr(app, "routes", None)
    try:
        found = _match(routes or (), scope, "")
    except Exception:  # an app whose routes cannot be matched here
        found = None
    return found if found is not None else UNMATCHED_ROUTE


def _match(routes: Any, scope: Scope, prefix: str) -> str | None:
    for route in routes:
        match, child = route.matches(scope)
        if getattr(match, "name", "") != "FULL":
            continue
        inner = getattr(route, "routes", None)
        if inner:  # a Mount: carry on inside it with the scope it hands down
            mount_path = getattr(route, "path", "")
            return _match(inner, {**scope, **child}, prefix + str(mount_path))
        path = getattr(route, "path_format", None) or getattr(route, "path", None)
        return prefix + path if isinstance(path, str) else None
    return None
