"""Cost sees every span of a run, tracing keeps its ratio.

The application's sampler still decides which spans are sampled; botanu only turns its
"drop" into "record, not sampled" for a span that belongs to a run (the run span itself,
a span inside it, or one continued from inbound baggage). A span recorded but not sampled
reaches the provider's processors; the SDK's batch and simple processors (the
application's exporters) skip it, botanu's exporter sends it. Children of such a span see
an unsampled parent, so a parent-based sampler keeps dropping them for tracing while
botanu records them: the sampled spans are exactly those the application's sampler
chooses without botanu.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from botanu import semconv
from botanu.sdk import _runtime

__all__ = ["RunRecordingSampler", "recording_runs"]

_RUN_KEY = _runtime.RUN_KEY
_BAGGAGE_KEY = _runtime.BAGGAGE_KEY
_RUN_ID = semconv.RUN_ID
_get_current = _runtime.fast_current_context


class RunRecordingSampler(Sampler):
    """`inner`, except that a span of a run it drops is recorded (not sampled)."""

    def __init__(self, inner: Sampler) -> None:
        self.inner = inner
        self.enabled = True  # off after `disable()`: tracers made meanwhile keep this object

    def should_sample(  # noqa: PLR0917 (the Sampler interface)
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        result = self.inner.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )
        if result.decision is not Decision.DROP or not self.enabled:
            return result
        if not _in_run(parent_context, attributes):
            return result
        # a dropping sampler gives no attributes: the span's own start attributes stay
        return SamplingResult(Decision.RECORD_ONLY, attributes, result.trace_state)

    def get_description(self) -> str:
        return f"BotanuRunRecording{{{self.inner.get_description()}}}"


def _in_run(parent_context: Context | None, attributes: Attributes) -> bool:
    if attributes and _RUN_ID in attributes:  # the run span: its id is a start attribute
        return True
    ctx: Any = parent_context if parent_context is not None else _get_current()
    if ctx.get(_RUN_KEY) is not None:
        return True
    bag: Any = ctx.get(_BAGGAGE_KEY)
    return bool(bag) and _RUN_ID in bag


def recording_runs(provider: Any) -> RunRecordingSampler | None:
    """Wrap the SDK provider's sampler (once) so the spans of runs are always recorded;
    tracers the provider hands out from now on use it. Returns the wrapper (None when the
    provider has no sampler botanu can wrap)."""
    sampler = getattr(provider, "sampler", None)
    if isinstance(sampler, RunRecordingSampler):
        sampler.enabled = True
        return sampler
    if not isinstance(sampler, Sampler):
        return None
    wrapped = RunRecordingSampler(sampler)
    provider.sampler = wrapped
    return wrapped
