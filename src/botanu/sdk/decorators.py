"""Entry points that open a run: `botanu_workflow` (alias `workflow`), `botanu_use_case`
and the `run_botanu` context manager.

A run opens one root span, puts its context in W3C baggage and ends with exactly one
outcome. Generators keep the run attached only while their body runs, so a caller that
pauses between items never sees it. User exceptions pass through unchanged.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import AsyncGenerator, Callable, Generator
from contextvars import ContextVar
from types import TracebackType
from typing import Any, TypeVar

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.context import Context

from botanu.sdk import _runtime
from botanu.sdk._guard import report_internal_error, warn_misuse
from botanu.sdk._runtime import RunScope
from botanu.sdk._sync_async import SyncAndAsync
from botanu.sdk.run_context import MAX_VALUE_BYTES, RunContext, clean_value, generate_run_id
from botanu.sdk.span_helpers import finish_run

__all__ = ["botanu_use_case", "botanu_workflow", "run_botanu", "workflow"]

logger = logging.getLogger("botanu")
# run_botanu entries whose run could not be opened, so their exits touch nothing
_failed_entries: ContextVar[tuple[object, ...]] = ContextVar("botanu_failed_entries", default=())

F = TypeVar("F", bound=Callable[..., Any])
IdSource = str | int | Callable[..., Any] | None


class _IdGetter:
    """Calls a user's id callable with the decorated function's arguments, by name."""

    __slots__ = ("func", "names", "takes_all")

    def __init__(self, func: Callable[..., Any], target: Callable[..., Any] | None) -> None:
        self.func = func
        params = inspect.signature(func).parameters.values()
        self.takes_all = any(p.kind is p.VAR_KEYWORD for p in params)
        self.names = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        if target is not None:
            self._check_against(target, params)

    def _check_against(self, target: Callable[..., Any], params: Any) -> None:
        target_params = inspect.signature(target).parameters
        if any(p.kind is p.VAR_KEYWORD for p in target_params.values()):
            return
        for p in params:
            required = p.default is p.empty and p.kind in (
                p.POSITIONAL_OR_KEYWORD,
                p.KEYWORD_ONLY,
            )
            if required and p.name not in target_params:
                raise TypeError(
                    f"botanu: the id callable asks for {p.name!r}, which "
                    f"{target.__qualname__}() has no parameter named so; name one of "
                    f"{list(target_params)}"
                )

    def __call__(self, arguments: dict[str, Any]) -> Any:
        if self.takes_all:
            return self.func(**arguments)
        return self.func(**{n: arguments[n] for n in self.names if n in arguments})


def _checked_id(field_name: str, value: object) -> str | None:
    """An id as text, or None with a warning when it could not travel in baggage."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    if clean_value(text) is None:
        warn_misuse(
            f"botanu: {field_name} {text[:40]!r} is not a printable string of at most "
            f"{MAX_VALUE_BYTES} bytes; it was left out so that every service agrees on the run."
        )
        return None
    return text


class _RunSpec:
    """What a decorator or `run_botanu` was given; opens runs from it."""

    __slots__ = (
        "auto_success",
        "customer_id",
        "environment",
        "event_id",
        "getters",
        "name",
        "signature",
        "span_name",
        "tenant_id",
        "workflow_label",
    )

    def __init__(
        self,
        name: str,
        *,
        event_id: IdSource,
        customer_id: IdSource,
        tenant_id: IdSource,
        environment: str | None,
        workflow_label: str | None,
        auto_success: bool,
        target: Callable[..., Any] | None = None,
    ) -> None:
        if not isinstance(name, str) or clean_value(name) is None:
            raise TypeError(
                "botanu: a workflow name must be a non-empty printable string of at most "
                f"{MAX_VALUE_BYTES} bytes (it travels in baggage), got {name!r}"
            )
        if workflow_label is not None and clean_value(workflow_label) is None:
            raise TypeError(f"botanu: bad workflow label {workflow_label!r}")
        self.name = name
        self.span_name = _runtime.run_span_name(name)
        # literal ids are checked once, here; callables on every call
        self.event_id = event_id if callable(event_id) else _checked_id("event_id", event_id)
        self.customer_id = (
            customer_id if callable(customer_id) else _checked_id("customer_id", customer_id)
        )
        self.tenant_id = tenant_id if callable(tenant_id) else _checked_id("tenant_id", tenant_id)
        self.environment = environment
        self.workflow_label = workflow_label
        self.auto_success = auto_success
        self.getters: dict[str, _IdGetter] = {}
        for field_name, source in (
            ("event_id", event_id),
            ("customer_id", customer_id),
            ("tenant_id", tenant_id),
        ):
            if callable(source):
                self.getters[field_name] = _IdGetter(source, target)
        self.signature = inspect.signature(target) if target is not None and self.getters else None

    def _resolve(self, field_name: str, source: IdSource, arguments: dict[str, Any]) -> Any:
        getter = self.getters.get(field_name)
        if getter is None:
            return source
        try:
            value = getter(arguments)
        except Exception as exc:
            warn_misuse(
                f"botanu: the {field_name} callable of workflow {self.name!r} raised "
                f"{type(exc).__name__}: {exc}; the run goes on without it."
            )
            return None
        return _checked_id(field_name, value)

    def _ids(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[str | None, str | None, str | None] | None:
        """(event, customer, tenant) for one call; None when the call cannot bind (the
        function itself then raises the TypeError, as it would without botanu)."""
        arguments: dict[str, Any] = {}
        if self.getters:
            try:
                arguments = self._bind(args, kwargs)
            except TypeError:
                return None
        return (
            self._resolve("event_id", self.event_id, arguments),
            self._resolve("customer_id", self.customer_id, arguments),
            self._resolve("tenant_id", self.tenant_id, arguments),
        )

    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.signature is None:
            return {}
        bound = self.signature.bind_partial(*args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        for p in self.signature.parameters.values():
            if p.kind is p.VAR_KEYWORD:  # flatten **kwargs so getters can name them
                arguments.update(arguments.pop(p.name, {}))
        return arguments

    def open(
        self, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None, owner: object = None
    ) -> RunScope | None:
        """Start the run span and attach the run; None (logged once) if botanu itself fails."""
        ids = self._ids(args, kwargs or {})  # user-facing: misuse warns, outside the guard
        if ids is None:
            return None
        event_id, customer_id, tenant_id = ids
        try:
            parent = _runtime.current_scope()
            parent_run = parent.run if parent is not None else None
            environment = self.environment or _runtime.state.environment
            if parent_run is not None:  # a nested run inherits what it was not told
                customer_id = customer_id or parent_run.customer_id
                tenant_id = tenant_id or parent_run.tenant_id
                environment = environment or parent_run.environment
            lineage = _runtime.retry_lineage(parent)
            previous = lineage.previous if lineage is not None else None
            if lineage is not None and previous is not None and previous.workflow == self.name:
                # a later attempt of a retried call: the same event, attempt + 1
                run = RunContext.create_retry(previous)
                lineage.opened = run
                return start_run(run, self.span_name, auto_success=self.auto_success, owner=owner)
            run_id = generate_run_id()
            run = RunContext(
                run_id=run_id,
                workflow=self.name,
                event_id=event_id or run_id,
                customer_id=customer_id,
                tenant_id=tenant_id,
                environment=environment,
                workflow_label=self.workflow_label,
                parent_run_id=parent_run.run_id if parent_run is not None else None,
                root_run_id=run_id,
            )
            if lineage is not None:  # the first attempt: later ones retry this run
                lineage.opened = run
            return start_run(run, self.span_name, auto_success=self.auto_success, owner=owner)
        except Exception:
            report_internal_error("run start")
            return None


def start_run(
    run: RunContext,
    span_name: str,
    *,
    auto_success: bool = True,
    owner: object = None,
    kind: trace.SpanKind = trace.SpanKind.INTERNAL,
) -> RunScope:
    """Open the run span for `run` and make the run current."""
    if not _runtime.state.enabled:
        _runtime.warn_if_not_recording()
    lean = _runtime.state.lean
    attributes = run.to_span_attributes()
    span = _runtime.state.tracer.start_span(
        span_name, kind=kind, attributes=attributes, record_exception=False
    )
    bag = run.to_baggage_dict(lean_mode=lean)
    stamped: dict[str, Any] = dict(bag) if lean else attributes
    scope = RunScope(run, span, stamped, auto_success=auto_success, owner=owner)
    _runtime.activate(scope, span, bag)
    return scope


def _finish(
    scope: RunScope | None,
    exc: BaseException | None,
    closed_early: bool = False,
    detach: bool = True,
) -> None:
    if scope is None:
        return
    try:
        finish_run(scope, exc, closed_early=closed_early, detach=detach)
    except Exception:
        report_internal_error("run finish")


def _pause(scope: RunScope | None) -> Context | None:
    """Detach a generator's run before it yields; returns the generator's own context
    (with any span it opened inside the run) for `_resume` to put back."""
    if scope is None:
        return None
    try:
        saved = _runtime.fast_current_context()
        _runtime.deactivate(scope)
        return saved
    except Exception:
        report_internal_error("run pause")
        return None


def _resume(scope: RunScope | None, saved: Context | None) -> None:
    if scope is None:
        return
    try:
        if saved is not None:
            scope.token = context_api.attach(saved)
        else:
            _runtime.activate(scope, scope.span)
    except Exception:
        report_internal_error("run resume")


def _decorate(spec_args: dict[str, Any]) -> Callable[[F], F]:
    def decorator(func: F) -> F:
        spec = _RunSpec(**spec_args, target=func)
        if inspect.isasyncgenfunction(func):
            return _wrap_async_generator(spec, func)  # type: ignore[return-value]
        if inspect.isgeneratorfunction(func):
            return _wrap_generator(spec, func)  # type: ignore[return-value]
        if inspect.iscoroutinefunction(func):
            return _wrap_coroutine(spec, func)  # type: ignore[return-value]
        return _wrap_function(spec, func)  # type: ignore[return-value]

    return decorator


def _wrap_function(spec: _RunSpec, func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def run_function(*args: Any, **kwargs: Any) -> Any:
        scope = spec.open(args, kwargs)
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            _finish(scope, exc)
            raise
        _finish(scope, None)
        return result

    return run_function


def _wrap_coroutine(spec: _RunSpec, func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    async def run_coroutine(*args: Any, **kwargs: Any) -> Any:
        scope = spec.open(args, kwargs)
        try:
            result = await func(*args, **kwargs)
        except BaseException as exc:
            _finish(scope, exc)
            raise
        _finish(scope, None)
        return result

    return run_coroutine


def _wrap_generator(spec: _RunSpec, func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def run_generator(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        inner = func(*args, **kwargs)
        scope = spec.open(args, kwargs)  # at the first next(): the body starts now
        sent: Any = None
        thrown: BaseException | None = None
        while True:
            try:
                item = inner.throw(thrown) if thrown is not None else inner.send(sent)
            except StopIteration as stop:
                _finish(scope, None)
                return stop.value
            except BaseException as exc:
                _finish(scope, exc)
                raise
            saved = _pause(scope)
            try:
                sent, thrown = (yield item), None
            except GeneratorExit:
                _resume(scope, saved)
                try:
                    inner.close()
                except BaseException as exc:
                    _finish(scope, exc)
                    raise
                _finish(scope, None, closed_early=True)
                raise
            except BaseException as exc:
                sent, thrown = None, exc
            _resume(scope, saved)

    return run_generator


def _wrap_async_generator(spec: _RunSpec, func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    async def run_async_generator(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        inner = func(*args, **kwargs)
        scope = spec.open(args, kwargs)
        sent: Any = None
        thrown: BaseException | None = None
        while True:
            try:
                if thrown is not None:
                    item = await inner.athrow(thrown)
                else:
                    item = await inner.asend(sent)
            except StopAsyncIteration:
                _finish(scope, None)
                return
            except BaseException as exc:
                _finish(scope, exc)
                raise
            saved = _pause(scope)
            try:
                sent, thrown = (yield item), None
            except GeneratorExit:
                _resume(scope, saved)
                try:
                    await inner.aclose()
                except BaseException as exc:
                    _finish(scope, exc)
                    raise
                _finish(scope, None, closed_early=True)
                raise
            except BaseException as exc:
                sent, thrown = None, exc
            _resume(scope, saved)

    return run_async_generator


def botanu_workflow(
    name: str,
    *,
    event_id: IdSource,
    customer_id: IdSource,
    tenant_id: IdSource = None,
    environment: str | None = None,
    auto_outcome_on_success: bool = True,
) -> Callable[[F], F]:
    """Make each call of the decorated function one run of workflow `name`.

    Works on functions, coroutines, generators and async generators. `event_id`,
    `customer_id` and `tenant_id` take a value or a callable that receives the decorated
    function's arguments by parameter name (`event_id=lambda order_id: order_id`).
    """
    return _decorate(
        {
            "name": name,
            "event_id": event_id,
            "customer_id": customer_id,
            "tenant_id": tenant_id,
            "environment": environment,
            "workflow_label": None,
            "auto_success": auto_outcome_on_success,
        }
    )


workflow = botanu_workflow


def botanu_use_case(
    name: str,
    workflow: str | None = None,
    *,
    event_id: IdSource = None,
    customer_id: IdSource = None,
    tenant_id: IdSource = None,
    environment: str | None = None,
    auto_outcome_on_success: bool = True,
) -> Callable[[F], F]:
    """The older spelling: the use case name is the workflow, `workflow=` a sub-label.

    Without an `event_id`, each run is its own event.
    """
    return _decorate(
        {
            "name": name,
            "event_id": event_id,
            "customer_id": customer_id,
            "tenant_id": tenant_id,
            "environment": environment,
            "workflow_label": workflow,
            "auto_success": auto_outcome_on_success,
        }
    )


class run_botanu(SyncAndAsync):
    """One run as a context manager, for `with` and `async with`; yields the RunContext.

    One object may be entered by several tasks or threads at once, and re-entered: each
    entry is its own run, found again on exit through the context it attached.
    """

    def __init__(
        self,
        name: str,
        *,
        event_id: str | int | None = None,
        customer_id: str | int | None = None,
        tenant_id: str | int | None = None,
        environment: str | None = None,
        workflow_label: str | None = None,
        auto_outcome_on_success: bool = True,
    ) -> None:
        self._open: list[RunScope] = []  # entered and not yet exited, across tasks
        self._spec = _RunSpec(
            name,
            event_id=event_id,
            customer_id=customer_id,
            tenant_id=tenant_id,
            environment=environment,
            workflow_label=workflow_label,
            auto_success=auto_outcome_on_success,
        )

    def __enter__(self) -> RunContext:
        scope = self._spec.open(owner=self)
        if scope is None:  # botanu failed inside (logged): hand back an unattached run
            _failed_entries.set((*_failed_entries.get(), self))
            return RunContext.create(self._spec.name)
        self._open.append(scope)
        return scope.run

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        failed = _failed_entries.get()
        if failed and failed[-1] is self:  # the matching entry opened nothing
            _failed_entries.set(failed[:-1])
            return
        scope = _runtime.current_scope()
        if scope is not None and scope.owner is self:
            self._forget(scope)
            _finish(scope, exc)
        elif self._open:
            # exited in another context than it was entered in (an exit stack, a fixture):
            # still end the run, but its context belongs to that other task
            logger.debug("botanu: run_botanu(%r) exited in another context", self._spec.name)
            _finish(self._open.pop(), exc, detach=False)

    def _forget(self, scope: RunScope) -> None:
        if scope in self._open:
            self._open.remove(scope)
