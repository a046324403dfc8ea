"""Carry a run through a queue: the producer puts the run context in the message's
headers (`traceparent` + W3C `baggage`), the consumer continues the run from them.

Works with any broker whose messages have headers; imports no broker library.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from types import TracebackType
from typing import Any, TypeVar

from opentelemetry import baggage as baggage_api
from opentelemetry import context as context_api
from opentelemetry import propagate, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.trace import SpanKind, Status, StatusCode

from botanu import semconv
from botanu.sdk import _runtime
from botanu.sdk._guard import report_internal_error
from botanu.sdk._sync_async import SyncAndAsync
from botanu.sdk.decorators import run_botanu
from botanu.sdk.run_context import RunContext

__all__ = ["continue_run", "extract_run_context", "inject_run_headers", "run_headers"]

H = TypeVar("H", bound=MutableMapping[str, str])
# a message's headers: a mapping, or (name, value) pairs as Kafka clients give them;
# values may be bytes
Headers = Mapping[str, Any] | Iterable[tuple[str, Any]]

_BAGGAGE_HEADER = "baggage"
_MAX_HEADERS = 256  # a message with more headers is read up to here: ours come from us
_w3c_baggage = W3CBaggagePropagator()


def inject_run_headers(headers: H) -> H:
    """Write the current trace and run into `headers` (in place) and return it.

    Uses the application's OpenTelemetry propagators, plus W3C baggage when a run is
    active and they do not carry baggage, so the run always travels. Outside any run and
    span nothing is written.
    """
    try:
        propagate.inject(headers)
        if _BAGGAGE_HEADER not in headers and _runtime.current_scope() is not None:
            _w3c_baggage.inject(headers)
    except Exception:
        report_internal_error("inject_run_headers")
    return headers


def run_headers() -> dict[str, str]:
    """The current trace and run as a new dict of message headers."""
    return inject_run_headers({})


def extract_run_context(headers: Headers | None) -> RunContext | None:
    """The run a message carries, or None (published outside a run, or unreadable).

    Reads the W3C `baggage` header, else flat `botanu.*` keys (a message built from
    `RunContext.to_baggage_dict()`). Values are untrusted and validated; never raises.
    """
    try:
        return _read(_carrier(headers))[1]
    except Exception:
        report_internal_error("extract_run_context")
        return None


class continue_run(SyncAndAsync):
    """`with continue_run(message.headers) as run:` handle one message inside its run.

    When the message carries a run, it becomes the active run: spans started inside
    carry its identity, under a CONSUMER span `process <destination>` (or under the
    CONSUMER span a messaging instrumentation already opened for the message), and
    `emit_outcome` records there. The processing span continues the producer's trace,
    or the current span's when one is open. Like any run continued from elsewhere, no
    automatic outcome is recorded: the run's owner has it. The manager yields the
    `RunContext`.

    A message published outside a run yields None and changes nothing, unless
    `workflow` is given: then a new run of that workflow is opened for the message (with
    `event_id`, `customer_id`, `tenant_id`) and ends with the usual automatic outcome.
    User exceptions pass through unchanged. One object handles one message.
    """

    def __init__(
        self,
        headers: Headers | None,
        *,
        destination: str | None = None,
        message_id: str | None = None,
        workflow: str | None = None,
        event_id: str | None = None,
        customer_id: str | None = None,
        tenant_id: str | None = None,
    ) -> None:
        self._headers = headers
        self._destination = destination
        self._message_id = message_id
        self._workflow = workflow
        self._ids = (event_id, customer_id, tenant_id)
        self._token: object = None
        self._scope: _runtime.RunScope | None = None
        self._span: trace.Span | None = None
        self._new_run: run_botanu | None = None

    def __enter__(self) -> RunContext | None:
        try:
            inbound, run = _read(_carrier(self._headers))
        except Exception:
            report_internal_error("continue_run")
            return None
        if run is None:
            return self._open_new(inbound)
        try:
            self._continue(inbound, run)
        except Exception:
            report_internal_error("continue_run")
            self._release()
        return run

    def _continue(self, inbound: context_api.Context, run: RunContext) -> None:
        stamped = _runtime.stamped_attributes(run)
        current = trace.get_current_span()
        scope = _runtime.RunScope(run, None, stamped, auto_success=False, owner=self)
        recording = current.is_recording()
        if recording and getattr(current, "kind", None) is SpanKind.CONSUMER:
            # a messaging instrumentation already opened this message's span: share it
            scope.outcome_span = current
            self._scope = scope
            _runtime.activate(scope, None)
            return
        if not recording:  # the processing span continues the producer's trace
            self._token = context_api.attach(inbound)
        attributes: dict[str, Any] = {
            semconv.MESSAGING_OPERATION_TYPE: semconv.MESSAGING_OPERATION_PROCESS,
            **stamped,
        }
        name = semconv.MESSAGING_OPERATION_PROCESS
        if self._destination:
            attributes[semconv.MESSAGING_DESTINATION_NAME] = self._destination
            name = f"{name} {self._destination}"
        if self._message_id:
            attributes[semconv.MESSAGING_MESSAGE_ID] = self._message_id
        span = _runtime.state.tracer.start_span(
            name, kind=SpanKind.CONSUMER, attributes=attributes, record_exception=False
        )
        self._span = span
        scope.outcome_span = span
        self._scope = scope
        _runtime.activate(scope, span)

    def _open_new(self, inbound: context_api.Context) -> RunContext | None:
        if self._workflow is None:
            return None
        try:
            # the new run continues the producer's trace when the message has one
            if not trace.get_current_span().is_recording():
                self._token = context_api.attach(inbound)
            event_id, customer_id, tenant_id = self._ids
            self._new_run = run_botanu(
                self._workflow, event_id=event_id, customer_id=customer_id, tenant_id=tenant_id
            )
        except Exception:
            report_internal_error("continue_run")
            self._release()
            return None
        return self._new_run.__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._new_run is not None:
            try:
                self._new_run.__exit__(exc_type, exc, tb)
            finally:
                self._new_run = None
                self._release()
            return
        try:
            span = self._span
            if exc is not None and span is not None and self._is_failure(exc):
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
        except Exception:
            report_internal_error("continue_run end")
        self._release()

    def _is_failure(self, exc: BaseException) -> bool:
        """Whether an exception leaving the block fails the message's handling."""
        return True

    def _release(self) -> None:
        """Detach what was attached, end the span; never raises."""
        try:
            scope, self._scope = self._scope, None
            if scope is not None and _runtime.current_scope() is scope:
                _runtime.deactivate(scope)
            span, self._span = self._span, None
            if span is not None:
                span.end()
        except Exception:
            report_internal_error("continue_run end")
        finally:
            token, self._token = self._token, None
            if token is not None:
                context_api.detach(token)  # type: ignore[arg-type]


def _carrier(headers: Headers | None) -> dict[str, str]:
    """Headers as text by lower-case name; bytes decoded, other values skipped."""
    if not headers:
        return {}
    items: Iterable[Any] = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for count, item in enumerate(items):
        if count >= _MAX_HEADERS:
            break
        if not isinstance(item, tuple) or len(item) != 2:
            continue
        key, value = item
        if isinstance(value, (bytes, bytearray)):
            try:
                value = bytes(value).decode("utf-8")
            except UnicodeDecodeError:
                continue
        if isinstance(key, str) and isinstance(value, str):
            out[key.lower()] = value
    return out


def _read(carrier: dict[str, str]) -> tuple[context_api.Context, RunContext | None]:
    """The extracted context and the run it carries."""
    inbound = propagate.extract(carrier)
    run = RunContext.from_baggage(baggage_api.get_all(inbound))
    if run is None and _BAGGAGE_HEADER in carrier:  # propagators without W3C baggage
        inbound = _w3c_baggage.extract(carrier, context=inbound)
        run = RunContext.from_baggage(baggage_api.get_all(inbound))
    if run is None:  # flat botanu.* keys, as the seeds' producer pattern writes them
        run = RunContext.from_baggage(carrier)
    return inbound, run
