"""`BotanuWSGIMiddleware`: one run per HTTP request for WSGI apps (Flask, any WSGI app),
with the same rules as the ASGI `BotanuMiddleware`. Pure WSGI: imports no framework.

The run lasts until the server closes the response, so work done while the body is
streamed belongs to it; between chunks the server thread's context is left untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from botanu.integrations._trust import TRUST_SECRET_HEADER, Trust
from botanu.integrations._web import UNMATCHED_ROUTE, RequestRun, RequestRuns, http_method
from botanu.sdk._guard import report_internal_error

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from opentelemetry.context import Context

__all__ = ["BotanuWSGIMiddleware"]

RouteResolver = Callable[["WSGIEnvironment"], "str | None"]


class BotanuWSGIMiddleware:
    """WSGI middleware: `app.wsgi_app = BotanuWSGIMiddleware(app.wsgi_app)` for Flask.

    A request from a trusted source carrying a run in W3C baggage continues it; any
    other request opens a run named `"<METHOD> <route>"`. Flask routes are found through
    the app's own URL map (`/orders/<int:order_id>`); for another framework pass `route=`,
    a callable that returns the route template of a WSGI environ (or None when nothing
    matches). `workflow`, the `*_header` and the `trust*` arguments work as in
    `BotanuMiddleware`; the caller's address is the environ's `REMOTE_ADDR`.
    """

    def __init__(
        self,
        app: WSGIApplication,
        *,
        workflow: str | None = None,
        route: RouteResolver | None = None,
        event_id_header: str = "x-request-id",
        customer_id_header: str = "x-customer-id",
        tenant_id_header: str = "x-tenant-id",
        trusted_sources: str | Sequence[str] | None = None,
        trust_secret: str | None = None,
        trust_secret_header: str = TRUST_SECRET_HEADER,
    ) -> None:
        self.app = app
        self.workflow = workflow
        self._route = route if route is not None else _flask_routes(app)
        trust = Trust(trusted_sources, trust_secret, trust_secret_header)
        self._runs = RequestRuns(
            workflow, event_id_header, customer_id_header, tenant_id_header, trust
        )

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = self._open(environ)
        if request is None:
            return self.app(environ, start_response)
        status = _Status(start_response)
        try:
            body = self.app(environ, status.start_response)
        except BaseException as exc:
            self._runs.close(request, exc, status.code or 500)
            raise
        try:
            saved = request.pause()  # the server iterates the body with its own context
        except Exception:
            report_internal_error("BotanuWSGIMiddleware pause")
            self._runs.close(request, None, status.code)
            return body
        return _RunBody(body, request, saved, status, self._runs)

    def _open(self, environ: WSGIEnvironment) -> RequestRun | None:
        try:
            headers = _headers(environ)
        except Exception:
            report_internal_error("BotanuWSGIMiddleware headers")
            return None
        client = environ.get("REMOTE_ADDR")
        return self._runs.open(
            headers,
            client if isinstance(client, str) else None,
            http_method(environ.get("REQUEST_METHOD")),
            lambda: self._route_of(environ),
        )

    def _route_of(self, environ: WSGIEnvironment) -> str:
        if self._route is None:
            return UNMATCHED_ROUTE
        try:
            found = self._route(environ)
        except Exception:  # a router that cannot match this request
            found = None
        return found if isinstance(found, str) and found else UNMATCHED_ROUTE


class _Status:
    """Wraps `start_response` to learn the response status code."""

    __slots__ = ("_start_response", "code")

    def __init__(self, start_response: StartResponse) -> None:
        self._start_response = start_response
        self.code = 0

    def start_response(
        self,
        status: str,
        headers: list[tuple[str, str]],
        exc_info: OptExcInfo | None = None,
    ) -> Callable[[bytes], object]:
        head = status[:3]
        self.code = int(head) if head.isdigit() else 0
        if exc_info is None:
            return self._start_response(status, headers)
        return self._start_response(status, headers, exc_info)


class _RunBody:
    """The app's response body, iterated inside the request's run; the run ends on
    `close()`, which PEP 3333 servers call once the response is sent."""

    __slots__ = ("_body", "_done", "_iterator", "_request", "_runs", "_saved", "_status")

    def __init__(
        self,
        body: Iterable[bytes],
        request: RequestRun,
        saved: Context,
        status: _Status,
        runs: RequestRuns,
    ) -> None:
        self._body = body
        self._iterator: Iterator[bytes] | None = None
        self._request = request
        self._saved = saved
        self._status = status
        self._runs = runs
        self._done = False

    def __iter__(self) -> _RunBody:
        return self

    def __next__(self) -> bytes:
        if self._done:  # the run already ended (an error while iterating)
            if self._iterator is None:
                self._iterator = iter(self._body)
            return next(self._iterator)
        self._resume()
        try:
            if self._iterator is None:
                self._iterator = iter(self._body)
            chunk = next(self._iterator)
        except StopIteration:
            self._pause()
            raise
        except BaseException as exc:
            self._finish(exc)
            raise
        self._pause()
        return chunk

    def close(self) -> None:
        if self._done:
            _close_body(self._body)
            return
        self._resume()
        try:
            _close_body(self._body)
        except BaseException as exc:
            self._finish(exc)
            raise
        self._finish(None)

    def _finish(self, exc: BaseException | None) -> None:
        self._done = True
        self._runs.close(self._request, exc, self._status.code or (500 if exc else 0))

    def _resume(self) -> None:
        try:
            self._request.resume(self._saved)
        except Exception:
            report_internal_error("BotanuWSGIMiddleware resume")

    def _pause(self) -> None:
        try:
            self._saved = self._request.pause()
        except Exception:
            report_internal_error("BotanuWSGIMiddleware pause")


def _close_body(body: Iterable[bytes]) -> None:
    close = getattr(body, "close", None)
    if callable(close):
        close()


def _headers(environ: WSGIEnvironment) -> dict[str, str]:
    """Request headers by lower-case name (`HTTP_X_REQUEST_ID` -> `x-request-id`)."""
    out: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_") and isinstance(value, str):
            out[key[5:].replace("_", "-").lower()] = value
    return out


def _flask_routes(app: Any) -> RouteResolver | None:
    """Route templates from a Flask app's URL map (`app` or its bound `app.wsgi_app`),
    matched the way Flask itself matches; None for other apps."""
    owner = getattr(app, "__self__", app)
    create_adapter = getattr(owner, "create_url_adapter", None)
    request_class = getattr(owner, "request_class", None)
    if not callable(create_adapter) or request_class is None:
        return None

    def route(environ: WSGIEnvironment) -> str | None:
        # a throwaway request that neither registers itself in the environ nor reads the body
        adapter = create_adapter(request_class(environ, populate_request=False, shallow=True))
        if adapter is None:
            return None
        rule, _ = adapter.match(return_rule=True)  # NotFound, MethodNotAllowed: unmatched
        text = getattr(rule, "rule", None)
        return text if isinstance(text, str) else None

    return route
