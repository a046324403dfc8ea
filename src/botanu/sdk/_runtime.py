"""Process-wide runtime state shared by the SDK modules, and the active-run scope.

The active run lives in the OpenTelemetry `Context` under one private key, so it follows
the same rules as the current span: it is copied into tasks and threads started with
`contextvars`, and detached exactly where it was attached.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from opentelemetry import baggage as baggage_api
from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.context import Context

from botanu import semconv
from botanu.sdk import _otel_internals, run_context

if TYPE_CHECKING:
    from botanu.sdk.run_context import RunContext

RUN_KEY = context_api.create_key("botanu.run")
# the model-call tracker open in a context: it notes the client spans started inside it
OPEN_LLM_CALL_KEY = context_api.create_key("botanu.open_llm_call")
# baggage as one dict in the context (None: only the public API), and the current context
# read without wrapper calls: see _otel_internals
BAGGAGE_KEY: Any = _otel_internals.BAGGAGE_KEY
fast_current_context = _otel_internals.fast_current_context

INSTRUMENTATION_NAME = "botanu"


class RuntimeState:
    """What `enable()` decided; the defaults hold before (or without) `enable()`."""

    __slots__ = ("enabled", "environment", "lean", "tracer")

    def __init__(self) -> None:
        self.enabled = False
        self.lean = True
        self.environment: str | None = None
        self.tracer: trace.Tracer = trace.get_tracer(INSTRUMENTATION_NAME)


state = RuntimeState()
run_context.RUNTIME.lean = lambda: state.lean


class RunScope:
    """One activation of a run in this process.

    `span` is the run span when this process opened the run, None when the run was
    continued from elsewhere (baggage, a queue message); then outcomes go on the span
    that is current when they are emitted.
    """

    __slots__ = (
        "attributes",
        "auto_success",
        "ended",
        "outcome",
        "outcome_span",
        "owner",
        "run",
        "span",
        "token",
    )

    def __init__(
        self,
        run: RunContext,
        span: trace.Span | None,
        attributes: dict[str, Any],
        *,
        auto_success: bool = True,
        owner: object = None,
    ) -> None:
        self.run = run
        self.span = span
        # what the enricher stamps on every span started inside the run
        self.attributes = attributes
        self.auto_success = auto_success
        self.outcome: str | None = None  # status recorded so far (explicit or automatic)
        self.owner = owner
        self.token: object = None
        self.ended = False
        # where outcomes go in a continued run: the span current when it was continued
        self.outcome_span: trace.Span | None = None

    def add_attributes(self, extra: dict[str, Any]) -> None:
        # a new dict, so enrichers in other threads never see one half-updated
        self.attributes = {**self.attributes, **extra}


_warned_not_recording = False


def warn_if_not_recording() -> None:
    """Log once, at the first run started while botanu is not enabled and the global
    provider is not an OpenTelemetry SDK one (nor a NoOp one, which turns tracing off on
    purpose): botanu sees nothing of such a run."""
    global _warned_not_recording
    if _warned_not_recording or state.enabled:
        return
    from opentelemetry.sdk.trace import TracerProvider

    provider = trace.get_tracer_provider()
    if isinstance(provider, (TracerProvider, trace.NoOpTracerProvider)):
        return  # the application's provider records it, or tracing is off on purpose
    _warned_not_recording = True
    logging.getLogger("botanu").warning(
        "botanu: a run started while botanu is not enabled and no OpenTelemetry SDK "
        "tracer provider is set, so botanu records none of its cost: call "
        "botanu.enable() at start-up"
    )


def current_scope(ctx: Context | None = None) -> RunScope | None:
    scope = context_api.get_value(RUN_KEY, ctx)
    return scope if isinstance(scope, RunScope) else None


def stamped_attributes(run: RunContext) -> dict[str, Any]:
    """The attributes the enricher puts on spans inside `run`, per the propagation mode."""
    return run.to_span_attributes(lean_mode=state.lean)


def activate(scope: RunScope, span: trace.Span | None, bag: dict[str, str] | None = None) -> None:
    """Attach `scope` (and `span` as current span, and the run's baggage) to the context."""
    ctx = fast_current_context()
    if bag is None:
        bag = scope.run.to_baggage_dict(lean_mode=state.lean)
    if span is not None:
        ctx = trace.set_span_in_context(span, ctx)
    if BAGGAGE_KEY is not None:
        inherited: Any = ctx.get(BAGGAGE_KEY)
        if inherited:
            # drop an enclosing run's keys: a nested run must not inherit its lineage
            bag = {
                **{k: v for k, v in inherited.items() if not k.startswith("botanu.")},
                **bag,
            }
        values = dict(ctx)
        values[BAGGAGE_KEY] = bag
        values[RUN_KEY] = scope
        ctx = Context(values)
    else:  # pragma: no cover - an OpenTelemetry API without the private key
        for key, value in bag.items():
            ctx = baggage_api.set_baggage(key, value, ctx)
        ctx = context_api.set_value(RUN_KEY, scope, ctx)
    scope.token = context_api.attach(ctx)


def deactivate(scope: RunScope) -> None:
    token = scope.token
    scope.token = None
    if token is not None:
        context_api.detach(token)  # type: ignore[arg-type]


def outcome_target(scope: RunScope) -> trace.Span:
    """The span an outcome for `scope` is written on."""
    if scope.span is not None:
        return scope.span
    if scope.outcome_span is not None and scope.outcome_span.is_recording():
        return scope.outcome_span
    return trace.get_current_span()


def run_span_name(workflow: str) -> str:
    return semconv.RUN_SPAN_PREFIX + workflow


class OverlayScope(RunScope):
    """The same run with extra attributes for the spans started inside it (a retried
    call's attempt number), active for a part of the run only.

    Outcome and business-context bookkeeping goes to the run's own scope, so an outcome
    emitted inside the overlay is the run's outcome.
    """

    __slots__ = ("base",)

    def __init__(self, base: RunScope, extra: dict[str, Any]) -> None:
        # no RunScope.__init__: it would reset `outcome` and `ended`, which are the base's
        self.base = base
        self.run = base.run
        self.span = base.span
        self.attributes = {**base.attributes, **extra}
        self.auto_success = base.auto_success
        self.owner = None  # not the base's owner: exiting that run ends the base scope
        self.token = None

    @property
    def outcome(self) -> str | None:
        return self.base.outcome

    @outcome.setter
    def outcome(self, value: str | None) -> None:
        self.base.outcome = value

    @property
    def ended(self) -> bool:
        return self.base.ended

    @ended.setter
    def ended(self, value: bool) -> None:
        self.base.ended = value

    @property
    def outcome_span(self) -> trace.Span | None:
        return self.base.outcome_span

    @outcome_span.setter
    def outcome_span(self, value: trace.Span | None) -> None:
        self.base.outcome_span = value

    def add_attributes(self, extra: dict[str, Any]) -> None:
        self.base.add_attributes(extra)
        super().add_attributes(extra)


# The retry lineage of the runs opened inside one attempt of a retried call (see
# `botanu.integrations.tenacity`): the first run opened directly inside the attempt
# becomes the retry of the run the previous attempt opened.
RETRY_KEY = context_api.create_key("botanu.retry")


class RetryLineage:
    """One attempt of a retried call, as the run decorators see it."""

    __slots__ = ("attempt", "opened", "previous", "scope")

    def __init__(self, attempt: int, previous: RunContext | None, scope: RunScope | None) -> None:
        self.attempt = attempt
        self.previous = previous  # the run opened by the previous attempt
        self.scope = scope  # the scope current in the attempt: lineage applies at that level
        self.opened: RunContext | None = None  # the run this attempt opened


def retry_lineage(parent: RunScope | None) -> RetryLineage | None:
    """The attempt whose lineage a run opened now under `parent` takes, if any."""
    lineage = fast_current_context().get(RETRY_KEY)
    if isinstance(lineage, RetryLineage) and lineage.scope is parent and lineage.opened is None:
        return lineage
    return None
