"""What the ASGI and the WSGI middleware share: opening and closing the run of one request.

A request from a trusted source carrying a run in W3C baggage continues that run (same
run id, trace parent from `traceparent`); any other request opens a new run named after
its route. Framework-free: the middlewares hand in headers, caller address and route.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from opentelemetry import baggage as baggage_api
from opentelemetry import context as context_api
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from botanu import semconv
from botanu.integrations._trust import Trust, bounded_baggage
from botanu.sdk import _runtime
from botanu.sdk._guard import report_internal_error
from botanu.sdk._otel_internals import replace_attributes, write_attributes
from botanu.sdk.decorators import start_run
from botanu.sdk.run_context import RunContext, clean_id
from botanu.sdk.span_helpers import finish_run

__all__ = ["UNMATCHED_ROUTE", "RequestRun", "RequestRuns", "http_method"]

UNMATCHED_ROUTE = "(unmatched)"

logger = logging.getLogger("botanu")

_RUN_BAGGAGE_PREFIX = semconv.RUN_ID.split(".", 1)[0] + "."  # "botanu."


def _without_run_baggage(ctx: context_api.Context) -> context_api.Context:
    """`ctx` with botanu's keys taken out of its baggage (an untrusted caller's run)."""
    for key in baggage_api.get_all(ctx):
        if key.startswith(_RUN_BAGGAGE_PREFIX):
            ctx = baggage_api.remove_baggage(key, ctx)
    return ctx


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

    __slots__ = ("customer_header", "event_header", "tenant_header", "trust", "workflow")

    def __init__(
        self,
        workflow: str | None,
        event_id_header: str,
        customer_id_header: str,
        tenant_id_header: str,
        trust: Trust,
    ) -> None:
        self.workflow = workflow
        self.event_header = event_id_header.lower()
        self.customer_header = customer_id_header.lower()
        self.tenant_header = tenant_id_header.lower()
        self.trust = trust

    def open(
        self,
        headers: Mapping[str, str],
        client: str | None,
        method: str,
        route: Callable[[], str],
    ) -> RequestRun | None:
        """Attach the request's run; None (logged once) if botanu itself fails.

        `client` is the caller's address: run identity from an untrusted one is ignored.
        """
        token = None
        try:
            current = _runtime.fast_current_context()
            if _runtime.current_scope(current) is not None:
                return None  # already inside a run (a second botanu middleware): keep it
            server = trace.get_current_span(current)
            adopt = server.is_recording() and getattr(server, "kind", None) is SpanKind.SERVER
            inbound = current if adopt else propagate.extract(bounded_baggage(headers))
            trusted = not self._names_a_run(inbound, headers) or self.trust.allows(client, headers)
            if not trusted:
                logger.debug(
                    "botanu: run identity from %s is not trusted; the request opens its own run",
                    client or "an unknown address",
                )
                inbound = _without_run_baggage(inbound)
            token = context_api.attach(inbound)
            run = RunContext.from_baggage(baggage_api.get_all(inbound)) if trusted else None
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
            named = headers if trusted else {}
            new_run = RunContext.create(
                self.workflow or f"{method} {route()}",
                event_id=clean_id(named.get(self.event_header)),
                customer_id=clean_id(named.get(self.customer_header)),
                tenant_id=clean_id(named.get(self.tenant_header)),
                environment=_runtime.state.environment,
            )
            scope = start_run(
                new_run,
                _runtime.run_span_name(new_run.workflow),
                kind=SpanKind.INTERNAL if adopt else SpanKind.SERVER,
            )
            if adopt and trusted:
                write_attributes(server, scope.attributes, overwrite=False)
            elif adopt:  # the caller's run was stamped on it from baggage: replace it
                replace_attributes(server, scope.attributes, dropping=_RUN_BAGGAGE_PREFIX)
            return RequestRun(scope, token)
        except Exception:
            if token is not None:
                context_api.detach(token)
            report_internal_error("botanu middleware request start")
            return None

    def _names_a_run(self, inbound: context_api.Context, headers: Mapping[str, str]) -> bool:
        """Whether the request carries run identity: botanu baggage or an identity header."""
        named = (self.event_header, self.customer_header, self.tenant_header)
        if any(name in headers for name in named):
            return True
        return any(key.startswith(_RUN_BAGGAGE_PREFIX) for key in baggage_api.get_all(inbound))

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
