"""The lifecycle every tracker shares: a CLIENT span that is current inside the `with`
block, ended on exit, with an exception that passes through recorded exactly once.
Setters never raise into the host; bad values are a `BotanuWarning` and left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from botanu import semconv
from botanu.sdk import _runtime
from botanu.sdk._guard import report_internal_error, warn_misuse
from botanu.sdk._otel_internals import write_attributes


class SpanTracker:
    """Base of the trackers: `with tracker_factory(...) as tracker:` opens the span."""

    __slots__ = ("_attributes", "_error_recorded", "_kind", "_name", "_pending", "_token", "span")
    _sees_nested_calls = False  # model-call trackers note the client spans opened inside

    def __init__(
        self, name: str, attributes: dict[str, Any], kind: SpanKind = SpanKind.CLIENT
    ) -> None:
        self._name = name
        self._kind = kind
        self._attributes = attributes
        self._token: object = None
        self._error_recorded = False
        self._pending: dict[str, Any] = {}  # setters' values, written once on exit
        self.span: Span = trace.INVALID_SPAN

    def __enter__(self) -> Any:
        try:
            self.span = _runtime.state.tracer.start_span(
                self._name,
                kind=self._kind,
                attributes=self._attributes,
                record_exception=False,
            )
            ctx = trace.set_span_in_context(self.span)
            if self._sees_nested_calls:
                ctx = context_api.set_value(_runtime.OPEN_LLM_CALL_KEY, self, ctx)
            self._token = context_api.attach(ctx)
        except Exception:
            report_internal_error(f"{type(self).__name__} start")
        return self

    def saw_nested_span(self, span: Span) -> None:
        """A CLIENT span started inside this tracker's block (model-call trackers only)."""

    def _before_end(self) -> None:
        """Last values to write before the span ends."""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            self.set_error(exc)
        try:
            self._before_end()
            if self._pending:
                write_attributes(self.span, self._pending, overwrite=True)
            token, self._token = self._token, None
            if token is not None:
                context_api.detach(token)  # type: ignore[arg-type]
            self.span.end()
        except Exception:
            report_internal_error(f"{type(self).__name__} end")

    def _set(self, attributes: Mapping[str, Any]) -> None:
        """Keep validated values for the span; they are written in one go on exit."""
        pending = self._pending
        for key, value in attributes.items():
            if value is not None:
                pending[key] = value

    def set_error(self, error: BaseException) -> None:
        """Record `error` on this span (error.type, status, exception event), once."""
        if self._error_recorded:
            return
        self._error_recorded = True
        try:
            self.span.set_attribute(semconv.ERROR_TYPE, type(error).__qualname__)
            self.span.record_exception(error)
            self.span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        except Exception:
            report_internal_error(f"{type(self).__name__}.set_error")


def count_or_none(name: str, value: object) -> int | None:
    """A non-negative whole count; anything else is a warning and is left out."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        warn_misuse(f"{name} must be a whole number, got {value!r}; it was left out.")
        return None
    if value < 0:
        warn_misuse(f"{name} must not be negative, got {value}; it was left out.")
        return None
    return value


def text_or_none(name: str, value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    warn_misuse(f"{name} must be a string, got {type(value).__name__}; it was left out.")
    return None
