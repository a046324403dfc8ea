"""`BotanuMiddleware`: one run per HTTP request for ASGI apps (FastAPI, Starlette).

A request carrying a run in W3C baggage continues that run (same run id, trace parent
from `traceparent`); any other request opens a new run named after its route. Pure ASGI:
it imports no web framework.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from opentelemetry import baggage as baggage_api
from opentelemetry import context as context_api
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Status, StatusCode

from botanu import semconv
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
        self._event_header = event_id_header.lower().encode("latin-1")
        self._customer_header = customer_id_header.lower().encode("latin-1")
        self._tenant_header = tenant_id_header.lower().encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        opened = self._open(scope)
        if opened is None:
            await self.app(scope, receive, send)
            return
        run_scope, parent_token = opened
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
            self._close(run_scope, parent_token, exc, status_code or 500)
            raise
        self._close(run_scope, parent_token, None, status_code)

    def _open(self, scope: Scope) -> tuple[_runtime.RunScope, object] | None:
        parent_token = None
        try:
            headers = _headers(scope)
            carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in headers.items()}
            inbound = propagate.extract(carrier)
            parent_token = context_api.attach(inbound)
            run = RunContext.from_baggage(baggage_api.get_all(inbound))
            method = _method(scope)
            route = _route(scope)
            if run is not None:  # continue the caller's run under a server span
                span = _runtime.state.tracer.start_span(
                    f"{method} {route}", kind=SpanKind.SERVER, record_exception=False
                )
                run_scope = _runtime.RunScope(
                    run, span, _runtime.stamped_attributes(run), auto_success=False
                )
                _runtime.activate(run_scope, span)
                return run_scope, parent_token
            new_run = RunContext.create(
                self.workflow or f"{method} {route}",
                event_id=clean_value(headers.get(self._event_header, b"").decode("latin-1")),
                customer_id=clean_value(headers.get(self._customer_header, b"").decode("latin-1")),
                tenant_id=clean_value(headers.get(self._tenant_header, b"").decode("latin-1")),
                environment=_runtime.state.environment,
            )
            run_scope = start_run(
                new_run, _runtime.run_span_name(new_run.workflow), kind=SpanKind.SERVER
            )
            return run_scope, parent_token
        except Exception:
            if parent_token is not None:
                context_api.detach(parent_token)
            report_internal_error("BotanuMiddleware request start")
            return None

    def _close(
        self,
        run_scope: _runtime.RunScope,
        parent_token: object,
        exc: BaseException | None,
        status_code: int,
    ) -> None:
        try:
            if run_scope.span is not None and status_code:
                run_scope.span.set_attribute(semconv.HTTP_RESPONSE_STATUS_CODE, status_code)
            server_error = (
                (f"HTTP {status_code}", "http_5xx") if exc is None and status_code >= 500 else None
            )
            if run_scope.auto_success:  # a run this request opened: full outcome rules
                finish_run(run_scope, exc, failure=server_error)
            else:  # a continued run: its owner decides the outcome
                if (exc is not None or server_error) and run_scope.span is not None:
                    run_scope.span.set_status(Status(StatusCode.ERROR, f"HTTP {status_code}"))
                _runtime.deactivate(run_scope)
                if run_scope.span is not None:
                    run_scope.span.end()
        except Exception:
            report_internal_error("BotanuMiddleware request end")
        finally:
            context_api.detach(parent_token)  # type: ignore[arg-type]


def _headers(scope: Scope) -> dict[bytes, bytes]:
    out: dict[bytes, bytes] = {}
    for key, value in scope.get("headers") or ():
        name = bytes(key).lower()
        out[name] = out[name] + b"," + bytes(value) if name in out else bytes(value)
    return out


UNMATCHED_ROUTE = "(unmatched)"


def _method(scope: Scope) -> str:
    method = scope.get("method")
    if isinstance(method, str) and method.isalpha() and method.isupper() and len(method) <= 16:
        return method
    return "HTTP"


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
