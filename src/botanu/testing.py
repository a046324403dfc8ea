"""Test helpers, shipped as product: capture the spans botanu and your code produce.

    from botanu.testing import capture_spans

    capture = capture_spans()          # once per test session
    capture.clear()                    # before each test
    ...                                # run your code
    run = capture.run_span("fulfill-order")
    assert run.attributes["botanu.outcome.status"] == "success"

The capture uses the real OpenTelemetry SDK with an in-memory exporter. OpenTelemetry
allows one global TracerProvider per process; `capture_spans` installs one if none is
set, or adds its exporter to the SDK provider already installed.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from botanu import semconv
from botanu.sdk import _guard
from botanu.sdk.bootstrap import enable, is_enabled

__all__ = ["CapturedSpans", "capture_spans", "raise_internal_errors"]


class CapturedSpans:
    """Finished spans, with look-ups by name and by run."""

    def __init__(self, exporter: InMemorySpanExporter) -> None:
        self.exporter = exporter

    def clear(self) -> None:
        self.exporter.clear()

    @property
    def spans(self) -> tuple[ReadableSpan, ...]:
        return self.exporter.get_finished_spans()

    def named(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.spans if s.name == name]

    def run_spans(self) -> list[ReadableSpan]:
        return [s for s in self.spans if s.name.startswith(semconv.RUN_SPAN_PREFIX)]

    def run_span(self, workflow: str) -> ReadableSpan:
        """The one run span of `workflow`; fails loudly when there are none or several."""
        found = self.named(semconv.RUN_SPAN_PREFIX + workflow)
        if len(found) != 1:
            names = [s.name for s in self.spans]
            raise AssertionError(f"expected one run span of {workflow!r}, got {names}")
        return found[0]

    def in_run(self, run_id: str) -> list[ReadableSpan]:
        """Every span stamped with `run_id`."""
        return [s for s in self.spans if (s.attributes or {}).get(semconv.RUN_ID) == run_id]


def capture_spans(*, propagation_mode: str | None = None) -> CapturedSpans:
    """Route every finished span into memory and enable botanu on that provider."""
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    if not is_enabled():  # an app that enabled botanu itself keeps its settings
        enable(exporter="none", propagation_mode=propagation_mode)
    return CapturedSpans(exporter)


def raise_internal_errors(on: bool = True) -> None:
    """Make botanu raise its own internal errors instead of logging them (for tests)."""
    _guard.raise_internal_errors = on
