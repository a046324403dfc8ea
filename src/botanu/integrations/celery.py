"""Celery: a task continues the run that published it.

`instrument(app)` writes the run into every task message's headers (`before_task_publish`)
and wraps the execution of the app's tasks in `continue_run`, so spans, outcomes and
further messages inside a task belong to the publisher's run.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, current_task, signals  # type: ignore[import-untyped]
from celery.exceptions import Ignore, Reject, Retry  # type: ignore[import-untyped]

from botanu.integrations.messaging import continue_run, inject_run_headers
from botanu.sdk import _runtime
from botanu.sdk._guard import report_internal_error

__all__ = ["instrument", "uninstrument"]

# the message headers that carry the run (traceparent and W3C baggage)
_RUN_HEADERS = ("traceparent", "tracestate", "baggage")
_PUBLISH_UID = "botanu.integrations.celery.publish"
# not failures: a retry that is scheduled, a task that chose to be ignored or rejected
_CONTROL_FLOW = (Retry, Ignore, Reject)


def instrument(app: Celery) -> None:
    """Carry runs through `app`'s tasks. Call it where the app is defined, before a worker
    starts (a worker fixes how it calls each task when it loads it). Idempotent.

    Tasks whose `base=` class does not derive from `app.Task` are not wrapped: derive
    it from `app.Task`, or continue the run yourself with `continue_run`. Works beside
    OpenTelemetry's `CeleryInstrumentor`: its task span is then the run's consumer span.
    """
    signals.before_task_publish.connect(_on_publish, weak=False, dispatch_uid=_PUBLISH_UID)
    task_cls = app.Task
    if getattr(task_cls.__dict__.get("__call__"), "_botanu_wrapped", False):
        return
    task_cls.__call__ = _wrapped_call(task_cls, task_cls.__dict__.get("__call__"))


def uninstrument(app: Celery) -> None:
    """Undo `instrument(app)` (for tests); workers already running keep the wrapped call."""
    signals.before_task_publish.disconnect(dispatch_uid=_PUBLISH_UID)
    task_cls = app.Task
    wrapped = task_cls.__dict__.get("__call__")
    if getattr(wrapped, "_botanu_wrapped", False):
        own = wrapped._botanu_own
        if own is None:
            del task_cls.__call__
        else:
            task_cls.__call__ = own


def _on_publish(sender: Any = None, headers: Any = None, **_: Any) -> None:
    """Put the active run in the message; inside a task that continued a run (a chain's
    next step is sent after the task body returned), pass that task's run on."""
    if not isinstance(headers, dict):
        return
    try:
        if _runtime.current_scope() is not None:
            inject_run_headers(headers)
            return
        carried = _request_headers(getattr(current_task, "request", None))
        if carried.get("baggage"):
            for key, value in carried.items():
                headers.setdefault(key, value)
    except Exception:
        report_internal_error("celery before_task_publish")


def _wrapped_call(task_cls: type[Any], own: Any) -> Any:
    """`task_cls.__call__`, continuing the message's run when a worker runs the task."""

    def __call__(self: Any, *args: Any, **kwargs: Any) -> Any:
        request = _worker_request(self)
        if request is None:  # called as a plain function: the caller's run is current
            if own is not None:
                return own(self, *args, **kwargs)
            return super(task_cls, self).__call__(*args, **kwargs)
        with _TaskRun(_request_headers(request), destination=self.name, message_id=request.id):
            if own is not None:
                return own(self, *args, **kwargs)
            # what the worker itself calls for a task without a custom __call__
            return self.run(*args, **kwargs)

    __call__._botanu_wrapped = True  # type: ignore[attr-defined]
    __call__._botanu_own = own  # type: ignore[attr-defined]
    return __call__


def _worker_request(task: Any) -> Any:
    """The request of the message a worker is executing now, else None."""
    try:
        request = task.request_stack.top
        if request is None or request.called_directly or getattr(request, "_botanu", False):
            return None
        request._botanu = True  # a task calling itself inside its body is a plain call
        return request
    except Exception:
        report_internal_error("celery task request")
        return None


class _TaskRun(continue_run):
    """A task's message handling; a scheduled retry or an ignored task is no failure."""

    def _is_failure(self, exc: BaseException) -> bool:
        return not isinstance(exc, _CONTROL_FLOW)


def _request_headers(request: Any) -> dict[str, str]:
    """The run headers of a task request (message headers become request attributes)."""
    if request is None:
        return {}
    found: dict[str, str] = {}
    for key in _RUN_HEADERS:
        value = getattr(request, key, None)
        if isinstance(value, str):
            found[key] = value
    return found
