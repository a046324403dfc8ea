"""`botanu_retry`: tenacity's `retry`, with every attempt visible to botanu.

Above a run-opening function, each attempt is a run of the same event (new run id,
`attempt` + 1, `retry_of_run_id`); inside a run, each attempt stamps its number on the
spans started during it, and on nothing after it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, overload

import tenacity
from opentelemetry import context as context_api

from botanu import semconv
from botanu.sdk import _runtime
from botanu.sdk._guard import report_internal_error
from botanu.sdk.run_context import RunContext

__all__ = ["botanu_retry", "current_attempt"]

F = TypeVar("F", bound=Callable[..., Any])


@overload
def botanu_retry(func: F, /) -> F: ...


@overload
def botanu_retry(**retry_options: Any) -> Callable[[F], F]: ...


def botanu_retry(func: Any = None, /, **retry_options: Any) -> Any:
    """Retry the decorated function (sync or async) as `tenacity.retry(**retry_options)`
    would — same options, same stop, wait, callbacks and `RetryError` — and tell botanu
    about each attempt:

    - `@botanu_retry(...)` above `@botanu_workflow(...)` (or around code that opens one
      run): attempt n opens run n as `RunContext.create_retry` of run n-1, so the
      engine sees one event with all its attempts and what each cost;
    - `@botanu_retry(...)` on a call made inside a run (a model call, an API request):
      spans started during attempt n carry `botanu.llm.attempt = n` (an explicit
      `tracker.set_attempt` wins); spans after the call carry none.
    """
    if func is not None:
        return botanu_retry(**retry_options)(func)

    def decorate(fn: F) -> F:
        if inspect.iscoroutinefunction(fn):
            async_retrying = tenacity.AsyncRetrying(**retry_options)

            @functools.wraps(fn)
            async def retried_coroutine(*args: Any, **kwargs: Any) -> Any:
                attempts = _Attempts()

                @functools.wraps(fn)
                async def attempt(*a: Any, **kw: Any) -> Any:
                    with attempts.next():
                        return await fn(*a, **kw)

                return await async_retrying.copy()(attempt, *args, **kwargs)

            return retried_coroutine  # type: ignore[return-value]

        retrying = tenacity.Retrying(**retry_options)

        @functools.wraps(fn)
        def retried(*args: Any, **kwargs: Any) -> Any:
            attempts = _Attempts()

            @functools.wraps(fn)
            def attempt(*a: Any, **kw: Any) -> Any:
                with attempts.next():
                    return fn(*a, **kw)

            return retrying.copy()(attempt, *args, **kwargs)

        return retried  # type: ignore[return-value]

    return decorate


def current_attempt() -> int | None:
    """The attempt number (1 = first) of the innermost `botanu_retry` call running in this
    context, or None outside any."""
    lineage = context_api.get_value(_runtime.RETRY_KEY)
    return lineage.attempt if isinstance(lineage, _runtime.RetryLineage) else None


class _Attempts:
    """The attempts of one call of a retried function."""

    __slots__ = ("number", "previous")

    def __init__(self) -> None:
        self.number = 0
        self.previous: RunContext | None = None  # the run the last attempt opened

    @contextmanager
    def next(self) -> Iterator[None]:
        self.number += 1
        lineage: _runtime.RetryLineage | None = None
        token: object = None
        try:
            parent = _runtime.current_scope()
            scope = (
                _runtime.OverlayScope(parent, {semconv.LLM_ATTEMPT: self.number})
                if parent is not None
                else None
            )
            lineage = _runtime.RetryLineage(self.number, self.previous, scope)
            ctx = context_api.set_value(_runtime.RETRY_KEY, lineage)
            if scope is not None:
                ctx = context_api.set_value(_runtime.RUN_KEY, scope, ctx)
            token = context_api.attach(ctx)
        except Exception:
            report_internal_error("botanu_retry attempt")
        try:
            yield
        finally:
            if lineage is not None and lineage.opened is not None:
                self.previous = lineage.opened
            if token is not None:
                context_api.detach(token)  # type: ignore[arg-type]
