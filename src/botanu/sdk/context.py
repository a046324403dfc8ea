"""Reading and activating the current run: `get_current_run_context` and the scope
behind `RunContext.as_current()` (queue consumers, worker threads, other services).
"""

from __future__ import annotations

from types import TracebackType

from opentelemetry import baggage as baggage_api
from opentelemetry import trace

from botanu.sdk import _runtime
from botanu.sdk._guard import report_internal_error
from botanu.sdk._sync_async import SyncAndAsync
from botanu.sdk.run_context import RUNTIME, RunContext

__all__ = ["get_current_run_context", "get_run_context_from_baggage"]


def get_current_run_context() -> RunContext | None:
    """The active run in this context, or None outside any run."""
    scope = _runtime.current_scope()
    return scope.run if scope is not None else None


def get_run_context_from_baggage() -> RunContext | None:
    """The run carried by the current W3C baggage (validated), or None."""
    return RunContext.from_baggage(baggage_api.get_all())


class _ActivatedRun(SyncAndAsync):
    """`RunContext.as_current()`: continue a run that was opened elsewhere.

    No run span is opened (the run's owner has it) and no automatic outcome is recorded;
    an explicit `emit_outcome` goes on the span that was current when the run was
    continued (a consumer's processing span), else on the span current at that moment.
    """

    __slots__ = ("_run",)

    def __init__(self, run: RunContext) -> None:
        self._run = run

    def __enter__(self) -> RunContext:
        try:
            scope = _runtime.RunScope(
                self._run,
                None,
                _runtime.stamped_attributes(self._run),
                auto_success=False,
                owner=self,
            )
            entry = trace.get_current_span()
            scope.outcome_span = entry if entry.is_recording() else None
            _runtime.activate(scope, None)
        except Exception:
            report_internal_error("RunContext.as_current")
        return self._run

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        scope = _runtime.current_scope()
        if scope is not None and scope.owner is self:
            _runtime.deactivate(scope)


RUNTIME.activate = _ActivatedRun
