"""Completes GenAI client spans (OpenAI and Anthropic instrumentors, the Anthropic SDK's own
tracing) with the usage in the provider's response, streams included: cache reads and
writes, 1-hour writes, reasoning, in the OTel convention. A hook on the client's `create`
runs inside the instrumentor's span; a span processor writes botanu's figures as it ends.
"""

from __future__ import annotations

import importlib
import logging
import threading
import weakref
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span
from opentelemetry.trace import SpanKind
from wrapt import ObjectProxy, wrap_function_wrapper

from botanu import semconv
from botanu.sdk import _runtime
from botanu.sdk._guard import report_internal_error
from botanu.sdk._otel_internals import (
    SpanEndingProcessor,
    mark,
    marked,
    readable_attributes,
    unmark,
    write_attributes,
    write_while_ending,
)
from botanu.tracking._providers import known_gen_ai_provider
from botanu.tracking._usage import response_attributes

logger = logging.getLogger("botanu")

__all__ = ["UsageCompleter", "activate", "deactivate"]

# client methods hooked per instrumentation name: (module, attribute path, is async)
_TARGETS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "openai": (
        ("openai.resources.chat.completions", "Completions.create", False),
        ("openai.resources.chat.completions", "AsyncCompletions.create", True),
        ("openai.resources.responses", "Responses.create", False),
        ("openai.resources.responses", "AsyncResponses.create", True),
    ),
    "anthropic": (
        ("anthropic.resources.messages", "Messages.create", False),
        ("anthropic.resources.messages", "AsyncMessages.create", True),
        ("anthropic.resources.beta.messages.messages", "Messages.create", False),
        ("anthropic.resources.beta.messages.messages", "AsyncMessages.create", True),
    ),
}
# gen_ai.provider.name values an instrumentor's span may carry for each client
_PROVIDERS: dict[str, frozenset[str]] = {
    "openai": frozenset({semconv.PROVIDER_OPENAI, semconv.PROVIDER_AZURE_OPENAI}),
    "anthropic": frozenset({semconv.PROVIDER_ANTHROPIC}),
}
_COMPLETER = "usage_completer"  # botanu's mark on a tracer provider
# the Anthropic SDK's own tracing names its 1-hour cache writes so
ANTHROPIC_CACHE_WRITE_1H = "anthropic.usage.cache_creation.ephemeral_1h_input_tokens"
ANTHROPIC_STOP_REASON = "anthropic.message.stop_reason"
# cache writes have two names (the newest and the v1.40-1.41 one): each fills the other
_WRITE = semconv.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS
_CREATION = semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS
_CACHE_WRITE_NAMES = ((_WRITE, _CREATION), (_CREATION, _WRITE))

# the GenAI client span most recently started in this context: the instrumentor's span of
# the call a hook is inside (a weak reference, so an abandoned span is not kept alive)
_in_flight: ContextVar[tuple[weakref.ref[Span], str] | None] = ContextVar(
    "botanu_genai_span", default=None
)
# botanu's figures for a GenAI client span in flight, kept on the span itself (a dict per
# span is far cheaper than a shared weak map) and written as the span ends: they win over
# the instrumentor's own, which miss cache writes and reasoning and count some stream
# outputs twice
_FIGURES = "genai_figures"  # botanu's mark on a span
_lock = threading.Lock()
_hooked: set[str] = set()  # hooks are installed once per process and switched by _active
_active: set[str] = set()
_completers: list[UsageCompleter] = []


class UsageCompleter(SpanEndingProcessor):
    """Notes GenAI client spans as they start; writes botanu's figures as they end."""

    def __init__(self) -> None:
        self.enabled = True

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        # runs on every span: a CLIENT span without a GenAI provider leaves in two look-ups
        if not self.enabled or span.kind is not SpanKind.CLIENT:
            return
        try:
            attributes = readable_attributes(span)
            provider = attributes.get(semconv.GEN_AI_PROVIDER_NAME) or attributes.get(
                semconv.GEN_AI_SYSTEM_DEPRECATED
            )
            if not isinstance(provider, str):
                return
            scope = span.instrumentation_scope
            if scope is not None and scope.name == _runtime.INSTRUMENTATION_NAME:
                return  # botanu's own tracker: the app records its usage itself
            _in_flight.set((weakref.ref(span), provider))
            mark(span, _FIGURES, {})
        except Exception:
            report_internal_error("UsageCompleter.on_start")

    def on_ending(self, span: Span) -> None:
        try:
            figures = unmark(span, _FIGURES)
            if figures is not None and self.enabled:
                figures = _with_aliases(readable_attributes(span), figures)
                if figures:
                    write_while_ending(span, figures)
        except Exception:
            report_internal_error("UsageCompleter.on_ending")

    def on_end(self, span: ReadableSpan) -> None:
        return None

    def shutdown(self) -> None:
        self.enabled = False

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def activate(name: str, tracer_provider: Any, *, hook: bool = True) -> None:
    """Complete GenAI spans on `tracer_provider`; with `hook`, also read the responses
    of client `name` (hooked once per process)."""
    with _lock:
        if hook and name not in _hooked:
            _hooked.add(name)
            for module, attribute, is_async in _TARGETS.get(name, ()):
                _hook(name, module, attribute, is_async)
        _active.add(name)
    completer = marked(tracer_provider, _COMPLETER)
    if isinstance(completer, UsageCompleter):
        completer.enabled = True
    elif hasattr(tracer_provider, "add_span_processor"):
        completer = UsageCompleter()
        tracer_provider.add_span_processor(completer)
        mark(tracer_provider, _COMPLETER, completer)
        _completers.append(completer)


def deactivate() -> None:
    """Stop completing spans; the hooks stay in place as plain pass-throughs."""
    with _lock:
        _active.clear()
    for completer in _completers:
        completer.enabled = False


def _hook(name: str, module: str, attribute: str, is_async: bool) -> None:
    try:
        importlib.import_module(module)
        wrap_function_wrapper(module, attribute, _async_hook(name) if is_async else _hook_for(name))
    except Exception:  # a client version without this method: nothing to complete there
        logger.debug("botanu: %s.%s not hooked", module, attribute, exc_info=True)


def _hook_for(name: str) -> Any:
    def hook(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        result = wrapped(*args, **kwargs)
        if name not in _active:
            return result
        return _observe(name, result, kwargs)

    return hook


def _async_hook(name: str) -> Any:
    async def hook(
        wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        result = await wrapped(*args, **kwargs)
        if name not in _active:
            return result
        return _observe(name, result, kwargs)

    return hook


def _observe(name: str, result: Any, kwargs: dict[str, Any]) -> Any:
    """Record `result`'s figures on the instrumentor's span, or watch the stream it is."""
    try:
        span = _claim(name, kwargs.get("model"))
        if span is None:
            return result
        if hasattr(result, "__next__"):
            return _UsageStream(result, span, name)
        if hasattr(result, "__anext__"):
            return _AsyncUsageStream(result, span, name)
        if not hasattr(result, "parse"):  # `with_raw_response` results are left alone
            _record(span, name, response_attributes(result))
    except Exception:
        report_internal_error("GenAI usage hook")
    return result


def _claim(name: str, model: object) -> Span | None:
    """The instrumentor's span of this call: the GenAI span started last in this
    context, still open, of the right provider and model. Each span is claimed once."""
    held = _in_flight.get()
    if held is None:
        return None
    _in_flight.set(None)
    span = held[0]()
    if span is None or not span.is_recording():
        return None
    if known_gen_ai_provider(held[1]) not in _PROVIDERS[name]:
        return None
    requested = readable_attributes(span).get(semconv.GEN_AI_REQUEST_MODEL)
    if isinstance(model, str) and isinstance(requested, str) and requested != model:
        return None
    return span


def _record(span: Span, name: str, figures: dict[str, Any]) -> None:
    if not figures or name not in _active:
        return
    kept: dict[str, Any] | None = marked(span, _FIGURES)
    if kept is not None:
        kept.update(figures)
    if span.is_recording():  # written now too, for SDKs without the span-ending hook
        write_attributes(span, figures, overwrite=True)


def _with_aliases(attributes: Mapping[str, Any], figures: dict[str, Any]) -> dict[str, Any]:
    """`figures` plus what the span says under other names that botanu reads under its
    own: the provider on the old `gen_ai.system`, cache writes under one of their two
    names, the Anthropic SDK's stop reason and 1-hour cache writes."""

    found = dict(figures)
    seen = attributes.keys() | figures.keys() if figures else attributes.keys()
    if semconv.GEN_AI_PROVIDER_NAME not in seen:
        old = attributes.get(semconv.GEN_AI_SYSTEM_DEPRECATED)
        if isinstance(old, str):
            found[semconv.GEN_AI_PROVIDER_NAME] = known_gen_ai_provider(old)
    for have, want in _CACHE_WRITE_NAMES:
        if have in seen and want not in seen:
            found[want] = figures[have] if have in figures else attributes[have]
    stop = attributes.get(ANTHROPIC_STOP_REASON)
    if isinstance(stop, str) and semconv.GEN_AI_RESPONSE_FINISH_REASONS not in seen:
        found[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = (stop,)
    one_hour = attributes.get(ANTHROPIC_CACHE_WRITE_1H)
    if one_hour is not None and semconv.CACHE_WRITE_1H_INPUT_TOKENS not in seen:
        found[semconv.CACHE_WRITE_1H_INPUT_TOKENS] = one_hour
    return found


class _UsageStream(ObjectProxy[Any]):
    """A provider's stream, unchanged for its reader (isinstance included), that records
    usage on the instrumentor's span as the chunks carrying it pass."""

    def __init__(self, stream: Any, span: Span, name: str) -> None:
        super().__init__(stream)
        self._self_span = span
        self._self_name = name
        self._self_seen: dict[str, Any] = {}

    def __iter__(self) -> Any:
        return self

    def __next__(self) -> Any:
        item = self.__wrapped__.__next__()
        _watch(self, item)
        return item

    def __enter__(self) -> Any:
        self.__wrapped__.__enter__()
        return self

    def __exit__(self, *exc: object) -> Any:
        return self.__wrapped__.__exit__(*exc)


class _AsyncUsageStream(ObjectProxy[Any]):
    def __init__(self, stream: Any, span: Span, name: str) -> None:
        super().__init__(stream)
        self._self_span = span
        self._self_name = name
        self._self_seen: dict[str, Any] = {}

    def __aiter__(self) -> Any:
        return self

    async def __anext__(self) -> Any:
        item = await self.__wrapped__.__anext__()
        _watch(self, item)
        return item

    async def __aenter__(self) -> Any:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> Any:
        return await self.__wrapped__.__aexit__(*exc)


def _watch(stream: Any, item: Any) -> None:
    try:
        figures = response_attributes(item)
        seen: dict[str, Any] = stream._self_seen
        new = {k: v for k, v in figures.items() if seen.get(k) != v}
        if new:
            seen.update(new)
            _record(stream._self_span, stream._self_name, new)
    except Exception:
        report_internal_error("GenAI usage stream")
