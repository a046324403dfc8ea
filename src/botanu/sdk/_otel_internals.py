"""Every use botanu makes of OpenTelemetry SDK internals (names starting with `_`), each
behind a small function that falls back to the public API when the internals look
different: an OpenTelemetry release that moves one breaks this file and no other.

Why use them at all: the public calls re-validate and copy on every span, which would be
most of what botanu adds to a span.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from functools import cache
from typing import TYPE_CHECKING, Any

from opentelemetry import baggage as baggage_api
from opentelemetry import context as context_api
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, SynchronousMultiSpanProcessor
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.trace import Span, SpanContext, TraceFlags

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

__all__ = [
    "BAGGAGE_KEY",
    "EnrichingSpanProcessors",
    "SpanEndingProcessor",
    "fast_current_context",
    "mark",
    "marked",
    "readable_attributes",
    "recorded_span_batcher",
    "replace_attributes",
    "unmark",
    "write_attributes",
    "write_while_ending",
]

# --- context ------------------------------------------------------------------------------

# OpenTelemetry keeps baggage as one dict under this context key; reading it directly
# saves the enricher a copy per span. None if it ever moves: callers then use the public API.
BAGGAGE_KEY: Any = getattr(baggage_api, "_BAGGAGE_KEY", None)


def _fast_current_context_getter() -> Callable[[], Context]:
    """`context.get_current` without its two wrapper calls, when the runtime context is
    the stock contextvars one (the enricher runs this on every span)."""
    from opentelemetry.context.contextvars_context import ContextVarsRuntimeContext

    runtime = getattr(context_api, "_RUNTIME_CONTEXT", None)
    var = getattr(runtime, "_current_context", None)
    if type(runtime) is ContextVarsRuntimeContext and isinstance(var, ContextVar):
        return var.get
    return context_api.get_current


fast_current_context = _fast_current_context_getter()

# --- span attributes ----------------------------------------------------------------------
# For values botanu itself built (strings, numbers, string lists), written straight into
# the span's attribute map when the SDK internals look as expected and no limit could
# apply; otherwise through the public `set_attributes`.


def _attribute_map(span: Span, adding: int) -> tuple[dict[str, Any], Any] | None:
    """The span's own attribute dict and lock, when the SDK internals look as expected
    and no limit could apply to `adding` more attributes; else None."""
    bounded: Any = getattr(span, "_attributes", None)
    target = getattr(bounded, "_dict", None)
    lock: Any = getattr(span, "_lock", None)
    if (
        type(target) is dict
        and lock is not None
        and getattr(bounded, "max_value_len", 0) is None
        and (bounded.maxlen is None or len(target) + adding <= bounded.maxlen)
    ):
        return target, lock
    return None


def write_attributes(span: Span, attributes: Mapping[str, Any], *, overwrite: bool) -> None:
    """Put `attributes` on `span`; with `overwrite=False`, keys already set are kept.

    Values must already be valid attribute values, with sequences as tuples (what the
    SDK itself stores).
    """
    internals = _attribute_map(span, len(attributes))
    if internals is not None:
        target, lock = internals
        # the span's own lock, as its set_attributes and end() take it: no write can
        # slip in after the span ended and was handed to an exporter
        with lock:
            if getattr(span, "_end_time", 0) is None:
                if overwrite:
                    target.update(attributes)
                else:
                    for key, value in attributes.items():
                        target.setdefault(key, value)
                return
        # ended: the public call below logs the SDK's usual warning and writes nothing
    if not overwrite:
        existing = getattr(span, "attributes", None)
        if existing:
            attributes = {k: v for k, v in attributes.items() if k not in existing}
    span.set_attributes(attributes)


def replace_attributes(span: Span, attributes: Mapping[str, Any], *, dropping: str) -> None:
    """Put `attributes` on `span`, first taking off the keys starting with `dropping`
    that `attributes` does not set (when the SDK's attribute map is reachable)."""
    internals = _attribute_map(span, len(attributes))
    if internals is not None:
        target, lock = internals
        with lock:
            for key in [k for k in target if k.startswith(dropping)]:
                if key not in attributes:
                    del target[key]
    write_attributes(span, attributes, overwrite=True)


def write_while_ending(span: Span, attributes: Mapping[str, Any]) -> None:
    """Write onto a span inside its end(): the SDK has just frozen its attribute map,
    and exporters have not seen it yet. Left alone when the internals look different or
    a limit could apply."""
    internals = _attribute_map(span, len(attributes))
    if internals is not None:
        target, lock = internals
        with lock:
            target.update(attributes)


def readable_attributes(span: SdkSpan) -> Mapping[str, Any]:
    """The span's attributes for reading; the SDK's own dict when it has one (its public
    view is a proxy whose misses cost an exception each)."""
    bounded: Any = getattr(span, "_attributes", None)
    raw = getattr(bounded, "_dict", None)
    return raw if type(raw) is dict else (span.attributes or {})


# --- span processors ----------------------------------------------------------------------


class EnrichingSpanProcessors(SynchronousMultiSpanProcessor):
    """The processor list of a TracerProvider that botanu creates, with the enricher
    built in: it runs first on every span start and costs no extra calls at span end
    (the SDK's `active_span_processor` hook; providers of the host get the plain
    enricher added instead). It walks the list the SDK keeps in `_span_processors`."""

    def __init__(self, enricher: SpanProcessor) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.enricher = enricher

    def on_start(self, span: SdkSpan, parent_context: Context | None = None) -> None:
        self.enricher.on_start(span, parent_context)
        for processor in self._span_processors:
            processor.on_start(span, parent_context=parent_context)


class SpanEndingProcessor(SpanProcessor):
    """A span processor told as each span ends, while its attributes can still be
    written and before any exporter sees it: subclasses define `on_ending`. (The SDK's
    private `_on_ending` hook; an SDK without it never calls `on_ending`.)"""

    def on_ending(self, span: SdkSpan) -> None:
        return None

    def _on_ending(self, span: SdkSpan) -> None:
        self.on_ending(span)


# --- botanu's own marks on OpenTelemetry objects --------------------------------------------
# A provider remembers botanu's enricher and exporter slot, a span the figures botanu
# completes it with: kept on the object itself (SDK objects take attributes), so they go
# wherever it goes and die with it.
_MARK = "_botanu_"


def mark(target: object, name: str, value: object) -> None:
    setattr(target, _MARK + name, value)


def marked(target: object, name: str) -> Any:
    """What botanu marked `target` with under `name`, or None."""
    return getattr(target, _MARK + name, None)


def unmark(target: object, name: str) -> Any:
    """Take botanu's mark `name` off `target`; returns it, or None when there was none."""
    return vars(target).pop(_MARK + name, None)


# --- export of spans recorded but not sampled ---------------------------------------------


def recorded_span_batcher(exporter: SpanExporter, **options: Any) -> SpanProcessor:
    """The SDK's batch processor over `exporter`, except that it exports every span it is
    given: also a span recorded but not sampled (the SDK's skips those). botanu's exporter,
    so the spans of a run that the application's sampler dropped still reach cost."""
    processor: SpanProcessor = _recorded_span_batcher_class()(exporter, **options)
    return processor


@cache
def _recorded_span_batcher_class() -> Any:
    # built on first use: `import botanu` does not load the SDK's export module
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    class RecordedSpanBatcher(BatchSpanProcessor):
        def on_end(self, span: ReadableSpan) -> None:
            context = span.context
            if context is None or context.trace_flags.sampled:
                super().on_end(span)
                return
            emit = getattr(getattr(self, "_batch_processor", None), "emit", None)
            if emit is not None:  # the queue sampled spans go to, without the flag check
                emit(span)
            else:
                super().on_end(_as_sampled(span))

    return RecordedSpanBatcher


def _as_sampled(span: ReadableSpan) -> ReadableSpan:
    """A copy of `span` flagged sampled, through the public constructor."""
    context = span.context
    assert context is not None
    flagged = SpanContext(
        context.trace_id,
        context.span_id,
        context.is_remote,
        TraceFlags(context.trace_flags | TraceFlags.SAMPLED),
        context.trace_state,
    )
    return ReadableSpan(
        name=span.name,
        context=flagged,
        parent=span.parent,
        resource=span.resource,
        attributes=span.attributes,
        events=span.events,
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )
