"""Outcomes and business context, recorded on the active run.

`emit_outcome` writes on the run span, not on whatever span is current, so it may be
called from inside a tracker block. The first outcome of a run stands: an explicit one
is never replaced by the automatic one, and a second explicit one is a warning.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider

from botanu import semconv
from botanu.sdk import _runtime
from botanu.sdk._guard import swallow_internal_errors, warn_misuse
from botanu.sdk._otel_internals import write_attributes
from botanu.sdk._runtime import RunScope
from botanu.sdk.run_context import RunStatus

__all__ = ["emit_outcome", "resolve_outcome", "set_business_context"]

_STATUSES = frozenset(s.value for s in RunStatus)
_STATUS_LIST = ", ".join(s.value for s in RunStatus)
_AttributeValue = str | bool | int | float
_outcome_lock = threading.Lock()


@swallow_internal_errors(fallback=None)
def emit_outcome(
    status: str | RunStatus,
    *,
    value_type: str | None = None,
    value_amount: float | None = None,
    confidence: float | None = None,
    reason: str | None = None,
    error_type: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> None:
    """Record what the active run achieved (one outcome per run)."""
    status_text = status.value if isinstance(status, RunStatus) else status
    if status_text not in _STATUSES:
        warn_misuse(
            f"emit_outcome: unknown status {status!r}; use one of {_STATUS_LIST}. "
            "The outcome was not recorded."
        )
        return
    scope = _runtime.current_scope()
    if scope is None:
        warn_misuse(
            f"emit_outcome({status_text!r}) was called outside a run; wrap the work in "
            "@botanu_workflow or `with run_botanu(...)`. The outcome was not recorded."
        )
        return
    if scope.ended:
        warn_misuse(
            f"emit_outcome({status_text!r}): run {scope.run.run_id} has already ended "
            f"(with the outcome {scope.outcome!r}); call emit_outcome before the run "
            "returns. The outcome was not recorded."
        )
        return
    values: dict[str, Any] = {
        "value_type": _text_or_none("value_type", value_type),
        "value_amount": _amount_or_none(value_amount),
        "confidence": _confidence_or_none(confidence),
        "reason": _text_or_none("reason", reason),
        "error_type": _text_or_none("error_type", error_type),
        "metadata": metadata,
    }
    with _outcome_lock:  # one outcome per run, also when two threads race
        if scope.outcome is not None:
            warn_misuse(
                f"emit_outcome({status_text!r}): run {scope.run.run_id} already has the "
                f"outcome {scope.outcome!r}; record one outcome per run. The later one "
                "was ignored."
            )
            return
        record_outcome(scope, status_text, **values, source=semconv.OUTCOME_SOURCE_SDK)


# a late outcome's text fields: an event id is a business key, a source a short name
_MAX_EVENT_ID = 256
_MAX_SOURCE = 64
RESOLVE_SOURCE = "api"  # the source of a late outcome whose caller names none
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@swallow_internal_errors(fallback=None)
def resolve_outcome(
    event_id: str,
    status: str | RunStatus,
    *,
    value_type: str | None = None,
    value_amount: float | None = None,
    confidence: float | None = None,
    reason: str | None = None,
    source: str = RESOLVE_SOURCE,
    metadata: Mapping[str, Any] | None = None,
    at: datetime | None = None,
    tracer_provider: TracerProvider | None = None,
) -> None:
    """Record an event's outcome after its runs ended: a ticket reopened, an order
    refunded, a reviewer's or evaluator's verdict. `source` names who decided
    ("zendesk", "review"); `at` when (default: now; a naive datetime is local time);
    `tracer_provider` where the span goes (default: botanu's, as every run's).

    The event's latest late outcome wins over its runs' own in `events` and reports; each
    run keeps its own in `runs`. Value fields replace the runs' only when given. It is
    sent as a span of its own (no parent, never part of a run), so it goes wherever spans
    go: `botanu serve`, a Collector into ClickHouse, OTLP files."""
    status_text = status.value if isinstance(status, RunStatus) else status
    if status_text not in _STATUSES:
        warn_misuse(
            f"resolve_outcome: unknown status {status!r}; use one of {_STATUS_LIST}. "
            "The outcome was not recorded."
        )
        return
    problem = _key_problem("event_id", event_id, _MAX_EVENT_ID) or _key_problem(
        "source", source, _MAX_SOURCE
    )
    if problem:
        warn_misuse(f"resolve_outcome({status_text!r}): {problem}. The outcome was not recorded.")
        return
    attributes: dict[str, _AttributeValue] = {
        semconv.EVENT_ID: event_id,
        semconv.OUTCOME_STATUS: status_text,
        semconv.OUTCOME_SOURCE: source,
    }
    optional = {
        semconv.OUTCOME_VALUE_TYPE: _text_or_none("value_type", value_type),
        semconv.OUTCOME_VALUE_AMOUNT: _amount_or_none(value_amount),
        semconv.OUTCOME_CONFIDENCE: _confidence_or_none(confidence),
        semconv.OUTCOME_REASON: _text_or_none("reason", reason),
    }
    attributes.update({key: value for key, value in optional.items() if value is not None})
    if metadata:
        attributes.update(_metadata_attributes(metadata))
    when = _epoch_ns(at)
    tracer = (
        _runtime.state.tracer
        if tracer_provider is None
        else tracer_provider.get_tracer(_runtime.INSTRUMENTATION_NAME)
    )
    # an empty parent context: a root span with no run's baggage, in no run
    span = tracer.start_span(
        semconv.OUTCOME_RESOLUTION_SPAN,
        context=Context(),
        kind=SpanKind.INTERNAL,
        attributes=attributes,
        start_time=when,
    )
    span.end(end_time=when)


def _key_problem(name: str, value: object, limit: int) -> str | None:
    """What is wrong with a late outcome's key field, if anything."""
    if not isinstance(value, str) or not value.strip():
        return f"{name} must be a non-empty string, got {value!r}"
    if len(value) > limit:
        return f"{name} is {len(value)} characters long; at most {limit} are kept"
    return None


def _epoch_ns(at: datetime | None) -> int | None:
    """`at` as epoch nanoseconds (None: the span's own clock)."""
    if at is None:
        return None
    if not isinstance(at, datetime):
        warn_misuse(f"at must be a datetime, got {type(at).__name__}; the time now was used.")
        return None
    aware = at if at.tzinfo is not None else at.astimezone()
    since = aware - _EPOCH  # exact: no float seconds
    return (since.days * 86_400 + since.seconds) * 10**9 + since.microseconds * 1000


def record_outcome(
    scope: RunScope,
    status: str,
    *,
    value_type: str | None = None,
    value_amount: float | None = None,
    confidence: float | None = None,
    reason: str | None = None,
    error_type: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    source: str,
) -> None:
    """Write an outcome on the run's span: attributes plus one `botanu.outcome_emitted` event.

    The run counts as having an outcome only once both are written, so a failure here
    leaves the automatic outcome to do its job.
    """
    attributes: dict[str, _AttributeValue] = {
        semconv.OUTCOME_STATUS: status,
        semconv.OUTCOME_SOURCE: source,
    }
    event: dict[str, _AttributeValue] = {semconv.EVENT_STATUS: status}
    if value_type is not None:
        attributes[semconv.OUTCOME_VALUE_TYPE] = value_type
        event[semconv.EVENT_VALUE_TYPE] = value_type
    if value_amount is not None:
        attributes[semconv.OUTCOME_VALUE_AMOUNT] = value_amount
        event[semconv.EVENT_VALUE_AMOUNT] = value_amount
    if confidence is not None:
        attributes[semconv.OUTCOME_CONFIDENCE] = confidence
    if reason is not None:
        attributes[semconv.OUTCOME_REASON] = reason
    if error_type is not None:
        attributes[semconv.OUTCOME_ERROR_TYPE] = error_type
    if metadata:
        attributes.update(_metadata_attributes(metadata))
    span = _runtime.outcome_target(scope)
    write_attributes(span, attributes, overwrite=True)
    span.add_event(semconv.OUTCOME_EVENT, event)
    scope.outcome = status


def finish_run(
    scope: RunScope,
    exc: BaseException | None,
    *,
    closed_early: bool = False,
    failure: tuple[str, str] | None = None,
    detach: bool = True,
) -> None:
    """End a run this process opened: the automatic outcome, then the run span.

    `failure` is a (reason, error_type) for a failure that raised nothing (an HTTP 5xx
    answer); `detach=False` when the run is ended from a context it was not attached in.
    """
    try:
        span = scope.span
        if exc is not None:
            if span is not None:
                _record_exception(span, exc)
            if scope.outcome is None:
                name = type(exc).__name__
                record_outcome(
                    scope,
                    _status_for(exc),
                    reason=name,
                    error_type=name,
                    source=semconv.OUTCOME_SOURCE_AUTO,
                )
        elif closed_early:
            if scope.outcome is None:
                record_outcome(
                    scope,
                    RunStatus.CANCELED.value,
                    reason="closed_before_exhausted",
                    error_type="GeneratorExit",
                    source=semconv.OUTCOME_SOURCE_AUTO,
                )
        elif failure is not None:
            if span is not None:
                span.set_status(Status(StatusCode.ERROR, failure[0]))
            if scope.outcome is None:
                reason, error_type = failure
                record_outcome(
                    scope,
                    RunStatus.FAILED.value,
                    reason=reason,
                    error_type=error_type,
                    source=semconv.OUTCOME_SOURCE_AUTO,
                )
        elif scope.outcome is None and scope.auto_success:
            record_outcome(scope, RunStatus.SUCCESS.value, source=semconv.OUTCOME_SOURCE_AUTO)
    finally:
        scope.ended = True
        if detach:
            _runtime.deactivate(scope)
        if scope.span is not None:
            scope.span.end()


def _record_exception(span: Span, exc: BaseException) -> None:
    """Record the user's exception on the span; an unprintable one still ends the run."""
    try:
        span.record_exception(exc)
    except Exception:
        span.add_event("exception", {"exception.type": type(exc).__qualname__})
    span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {_safe_str(exc)}"))


def _safe_str(value: object) -> str:
    try:
        return str(value)
    except Exception:
        return f"<unprintable {type(value).__name__}>"


def _status_for(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return RunStatus.TIMEOUT.value
    asyncio = sys.modules.get("asyncio")  # not imported here: `import botanu` stays light
    if asyncio is not None and isinstance(exc, asyncio.TimeoutError):  # a distinct class on 3.10
        return RunStatus.TIMEOUT.value
    if isinstance(exc, Exception):
        return RunStatus.FAILED.value
    # KeyboardInterrupt, SystemExit, asyncio.CancelledError, GeneratorExit
    return RunStatus.CANCELED.value


@swallow_internal_errors(fallback=None)
def set_business_context(
    *,
    customer_id: str | None = None,
    team: str | None = None,
    cost_center: str | None = None,
    region: str | None = None,
) -> None:
    """Attach attribution dimensions to the active run and to the spans started after it.

    They are stamped in this process; only `customer_id` also travels in baggage, and
    only for calls made in contexts opened after this one (see the README).
    """
    scope = _runtime.current_scope()
    if scope is None:
        warn_misuse(
            "set_business_context() was called outside a run; call it inside "
            "@botanu_workflow or `with run_botanu(...)`. Nothing was recorded."
        )
        return
    given = {
        semconv.CUSTOMER_ID: customer_id,
        semconv.TEAM: team,
        semconv.COST_CENTER: cost_center,
        semconv.REGION: region,
    }
    extra = {k: _text_or_none(k, v) for k, v in given.items() if v is not None}
    extra = {k: v for k, v in extra.items() if v is not None}
    if not extra:
        return
    scope.add_attributes(extra)
    if scope.span is not None:
        write_attributes(scope.span, extra, overwrite=True)


# --- validation: misuse is a warning and the bad value is left out ---------------------------


def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    decimal = sys.modules.get("decimal")  # a Decimal value means the module is loaded
    return decimal is not None and isinstance(value, decimal.Decimal)


def _text_or_none(name: str, value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if _is_number(value):
        return str(value)
    warn_misuse(f"{name} must be a string, got {type(value).__name__}; it was left out.")
    return None


def _amount_or_none(value: object) -> float | None:
    if value is None:
        return None
    if _is_number(value) and math.isfinite(value):  # type: ignore[arg-type]
        return float(value)  # type: ignore[arg-type]
    warn_misuse(f"value_amount must be a number, got {value!r}; it was left out.")
    return None


def _confidence_or_none(value: object) -> float | None:
    if value is None:
        return None
    if _is_number(value) and 0 <= value <= 1:  # type: ignore[operator]
        return float(value)  # type: ignore[arg-type]
    warn_misuse(f"confidence must be a number from 0.0 to 1.0, got {value!r}; it was left out.")
    return None


def _metadata_attributes(metadata: Mapping[str, Any]) -> dict[str, _AttributeValue]:
    out: dict[str, _AttributeValue] = {}
    if not isinstance(metadata, Mapping):
        warn_misuse(f"metadata must be a dict, got {type(metadata).__name__}; it was left out.")
        return out
    for key, value in metadata.items():
        if not isinstance(key, str) or not key:
            warn_misuse(f"metadata key {key!r} is not a non-empty string; it was left out.")
            continue
        if isinstance(value, (str, bool, int, float)):
            out[semconv.OUTCOME_METADATA_PREFIX + key] = value
        elif value is not None:
            out[semconv.OUTCOME_METADATA_PREFIX + key] = _safe_str(value)
    return out
