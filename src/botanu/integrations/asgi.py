"""`BotanuMiddleware`: one run per HTTP request for ASGI apps (FastAPI, Starlette).

A request from a trusted source carrying a run in W3C baggage continues that run (same
run id, trace parent from `traceparent`); any other request opens a new run named after
its route. Pure ASGI: it imports no web framework. The run rules are shared with the
WSGI middleware (`_web`), and so is what to trust of a caller (`_trust`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from botanu.integrations._trust import TRUST_SECRET_HEADER, Trust
from botanu.integrations._web import UNMATCHED_ROUTE, RequestRun, RequestRuns, http_method
from botanu.sdk._guard import report_internal_error

__all__ = ["BotanuMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BotanuMiddleware:
    """ASGI middleware: `app.add_middleware(BotanuMiddleware)`.

    `workflow` fixes the workflow name of new runs (default: `"<METHOD> <route>"`);
    the event, customer and tenant of a new run come from the `*_header` request headers
    when present (validated like baggage). Baggage and those headers count only from
    `trusted_sources` (networks; default loopback and private ones, or `"*"`, or `[]`)
    or with `trust_secret` in the `x-botanu-trust` header; see `Trust`.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        workflow: str | None = None,
        event_id_header: str = "x-request-id",
        customer_id_header: str = "x-customer-id",
        tenant_id_header: str = "x-tenant-id",
        trusted_sources: str | Sequence[str] | None = None,
        trust_secret: str | None = None,
        trust_secret_header: str = TRUST_SECRET_HEADER,
    ) -> None:
        self.app = app
        self.workflow = workflow
        trust = Trust(trusted_sources, trust_secret, trust_secret_header)
        self._runs = RequestRuns(
            workflow, event_id_header, customer_id_header, tenant_id_header, trust
        )

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
        return self._runs.open(
            headers, _client(scope), http_method(scope.get("method")), lambda: _route(scope)
        )


def _headers(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in scope.get("headers") or ():
        name = bytes(key).decode("latin-1").lower()
        text = bytes(value).decode("latin-1")
        out[name] = out[name] + "," + text if name in out else text
    return out


def _client(scope: Scope) -> str | None:
    client = scope.get("client")
    host = client[0] if isinstance(client, (tuple, list)) and client else None
    return host if isinstance(host, str) else None


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
