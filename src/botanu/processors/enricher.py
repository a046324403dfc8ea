"""`RunContextEnricher`: stamps the active run's identity on every span that starts inside
it, whatever instrumentation made the span. Never overwrites an attribute already set,
never raises, and costs two dictionary look-ups when no run is active.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import baggage as baggage_api
from opentelemetry import context as context_api
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from botanu import semconv
from botanu._internal.guard import report_internal_error
from botanu.models.run_context import RunContext
from botanu.sdk import _runtime

__all__ = ["RunContextEnricher"]

_RUN_KEY = _runtime.RUN_KEY


class RunContextEnricher(SpanProcessor):
    """A span processor that copies the run context onto spans as they start.

    The run comes from botanu's own scope in the context, or else from W3C baggage (a
    service that received a run without botanu's middleware). `enabled` lets `disable()`
    switch it off without removing it from a provider it does not own.
    """

    def __init__(self) -> None:
        self.enabled = True

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if not self.enabled:
            return
        try:
            scope: Any = context_api.get_value(_RUN_KEY, parent_context)
            attributes: dict[str, Any] | None = (
                scope.attributes if scope is not None else _from_baggage(parent_context)
            )
            if attributes is None:
                return
            existing = span.attributes
            if existing:
                attributes = {k: v for k, v in attributes.items() if k not in existing}
            span.set_attributes(attributes)
        except Exception:
            report_internal_error("RunContextEnricher.on_start")

    def on_end(self, span: ReadableSpan) -> None:
        return None

    def shutdown(self) -> None:
        self.enabled = False

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _from_baggage(parent_context: Context | None) -> dict[str, Any] | None:
    bag = baggage_api.get_all(parent_context)
    if not bag or semconv.RUN_ID not in bag:
        return None
    run = RunContext.from_baggage(bag)
    return _runtime.stamped_attributes(run) if run is not None else None
