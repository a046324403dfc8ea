"""`RunContextEnricher`: stamps the active run's identity on every span that starts inside
it, whatever instrumentation made the span. Never overwrites an attribute already set,
never raises, and costs two dictionary look-ups when no run is active.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import SpanKind

from botanu import semconv
from botanu.sdk import _runtime
from botanu.sdk._guard import report_internal_error
from botanu.sdk._otel_internals import write_attributes
from botanu.sdk.run_context import RunContext

__all__ = ["RunContextEnricher"]

_RUN_KEY = _runtime.RUN_KEY
_BAGGAGE_KEY = _runtime.BAGGAGE_KEY
_RUN_ID = semconv.RUN_ID
_get_current = _runtime.fast_current_context
_OPEN_LLM_CALL = _runtime.OPEN_LLM_CALL_KEY


class RunContextEnricher(SpanProcessor):
    """A span processor that copies the run context onto spans as they start.

    The run comes from botanu's own scope in the context, or else from W3C baggage (a
    service that received a run without botanu's middleware). `enabled` lets `disable()`
    switch it off without removing it from a provider it does not own.
    """

    def __init__(self) -> None:
        self.enabled = True
        # (baggage dict, lean flag, attributes) of the last run read from baggage: every
        # span of a request shares one baggage dict, so it is parsed once per request
        self._from_bag: tuple[object, bool, dict[str, Any] | None] | None = None

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if not self.enabled:
            return
        try:
            # a Context is a dict: one look-up for botanu's run, one for baggage
            ctx = parent_context if parent_context is not None else _get_current()
            call: Any = ctx.get(_OPEN_LLM_CALL)
            if call is not None and span.kind is SpanKind.CLIENT:
                call.saw_nested_span(span)
            scope: Any = ctx.get(_RUN_KEY)
            if scope is not None:
                attributes = scope.attributes
            else:
                bag: Any = ctx.get(_BAGGAGE_KEY)
                if not bag or _RUN_ID not in bag:
                    return
                attributes = self._attributes_from(bag)
                if attributes is None:
                    return
            write_attributes(span, attributes, overwrite=False)
        except Exception:
            report_internal_error("RunContextEnricher.on_start")

    def _attributes_from(self, bag: Mapping[str, object]) -> dict[str, Any] | None:
        cached = self._from_bag
        lean = _runtime.state.lean
        if cached is not None and cached[0] is bag and cached[1] is lean:
            return cached[2]
        run = RunContext.from_baggage(bag)
        attributes = _runtime.stamped_attributes(run) if run is not None else None
        self._from_bag = (bag, lean, attributes)
        return attributes

    def on_end(self, span: ReadableSpan) -> None:
        return None

    def shutdown(self) -> None:
        self.enabled = False

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
