"""`enable()` and `disable()`: wire botanu into OpenTelemetry, once, thread-safely.

If the application already has an SDK `TracerProvider`, botanu adds its processors to it
and never shuts it down. botanu never touches the host's logging configuration. Stopping
the exporter waits at most `shutdown_timeout` seconds, whatever the endpoint does.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider

from botanu import semconv
from botanu._version import __version__
from botanu.exceptions import BotanuConfigError
from botanu.sdk import _runtime
from botanu.sdk._guard import warn_misuse
from botanu.sdk._otel_internals import (
    EnrichingSpanProcessors,
    mark,
    marked,
    recorded_span_batcher,
)
from botanu.sdk.enricher import RunContextEnricher
from botanu.sdk.sampling import RunRecordingSampler, recording_runs

if TYPE_CHECKING:
    from botanu.sdk._auto_instrument import AutoInstrumented
    from botanu.sdk.config import BotanuConfig

__all__ = ["disable", "enable", "is_enabled"]

logger = logging.getLogger("botanu")


class _Installed:
    """What one enable() put in place, for disable() to take down."""

    __slots__ = ("auto", "config", "exporter", "owns_provider", "provider")

    def __init__(
        self,
        config: BotanuConfig,
        provider: trace.TracerProvider,
        owns_provider: bool,
        exporter: SpanProcessor | None,
    ) -> None:
        self.config = config
        self.provider = provider
        self.owns_provider = owns_provider
        self.exporter = exporter
        self.auto: AutoInstrumented | None = None  # instrumentors botanu turned on


_lock = threading.RLock()
_installed: _Installed | None = None
# botanu's marks on a provider (see _otel_internals.mark)
_ENRICHER = "enricher"
_SLOT = "export_slot"
_OWNED = "owned"  # on a provider botanu created (found again after disable)


def _reset_lock_after_fork() -> None:
    global _lock
    _lock = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_lock_after_fork)


def enable(
    service_name: str | None = None,
    *,
    environment: str | None = None,
    exporter: str | None = None,
    otlp_endpoint: str | None = None,
    otlp_headers: Mapping[str, str] | None = None,
    propagation_mode: str | None = None,
    auto_instrument: Sequence[str] | str | None = None,
    config_file: str | os.PathLike[str] | None = None,
    config: BotanuConfig | None = None,
    tracer_provider: TracerProvider | None = None,
) -> BotanuConfig:
    """Turn botanu on; calling it again while enabled returns the active config.

    Settings come from the arguments (or `config`), then the environment, then the YAML
    file (`config_file`, else `BOTANU_CONFIG_FILE`, else ./botanu.yaml if present), then
    defaults. A bad setting raises `BotanuConfigError` before anything is changed.

    `auto_instrument` names OpenTelemetry instrumentors to turn on with botanu's tracer
    provider (`["openai", "anthropic", "httpx", "fastapi", ...]`); those not installed
    are skipped, and `disable()` turns them off again.
    """
    global _installed
    from botanu.sdk.config import BotanuConfig, auto_instrument_names

    with _lock:
        if _installed is not None:
            given = (service_name, environment, exporter, otlp_endpoint, otlp_headers)
            more = (propagation_mode, auto_instrument, config_file, config, tracer_provider)
            if any(v is not None for v in given + more):
                warn_misuse(
                    "botanu is already enabled; these settings were ignored. "
                    "Call botanu.disable() first to change them."
                )
            return _installed.config
        code = BotanuConfig(
            service_name=service_name,
            environment=environment,
            exporter=exporter,
            otlp_endpoint=otlp_endpoint,
            otlp_headers=dict(otlp_headers) if otlp_headers is not None else None,
            propagation_mode=propagation_mode,
            auto_instrument=(
                auto_instrument_names(auto_instrument, "code")
                if auto_instrument is not None
                else None
            ),
        )
        if config is not None:
            code = code.merged_over(config)
        resolved = code.merged_over(BotanuConfig.from_env()).merged_over(_file_layer(config_file))
        resolved = resolved.resolved()
        if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
            logger.info("botanu: OTEL_SDK_DISABLED=true, tracing stays off")
            _runtime.state.enabled = True  # off as asked: runs need not say so
            return resolved
        _installed = _install(resolved, tracer_provider)
        if resolved.auto_instrument:
            from botanu.sdk._auto_instrument import instrument

            _installed.auto = instrument(resolved.auto_instrument, _installed.provider)
        return resolved


def disable() -> None:
    """Turn botanu off: flush and stop its exporter, stop enriching spans.

    A provider botanu did not create is left running. Safe to call when not enabled.
    """
    global _installed
    with _lock:
        installed, _installed = _installed, None
        if installed is None:
            return
        if installed.auto is not None:
            installed.auto.undo()
        enricher = marked(installed.provider, _ENRICHER)
        if isinstance(enricher, RunContextEnricher):
            enricher.enabled = False
        sampler = getattr(installed.provider, "sampler", None)
        if isinstance(sampler, RunRecordingSampler):
            sampler.enabled = False
        if installed.exporter is not None:
            slot = marked(installed.provider, _SLOT)
            if isinstance(slot, _ExportSlot) and slot.inner is installed.exporter:
                slot.inner = None
            _stop_exporter(installed.exporter, _shutdown_timeout(installed.config), flush=True)
        _runtime.state.enabled = False
        _runtime.state.lean = True
        _runtime.state.environment = None
        _runtime.state.tracer = trace.get_tracer(_runtime.INSTRUMENTATION_NAME, __version__)


def _shutdown_timeout(config: BotanuConfig) -> float:
    from botanu.sdk.config import DEFAULT_SHUTDOWN_TIMEOUT

    timeout = config.shutdown_timeout
    return timeout if timeout is not None else DEFAULT_SHUTDOWN_TIMEOUT


def _stop_exporter(processor: SpanProcessor, timeout: float, *, flush: bool) -> None:
    """Flush (optionally) and shut down `processor`, waiting at most `timeout` seconds.

    The work runs in a helper thread: an endpoint that accepts and never answers holds
    that thread until the exporter's own timeout, never the caller.
    """

    def stop() -> None:
        try:
            if flush:
                processor.force_flush(int(timeout * 1000))
            processor.shutdown()
        except Exception:
            logger.warning("botanu: exporter shutdown failed", exc_info=True)

    worker = threading.Thread(target=stop, name="botanu-exporter-shutdown", daemon=True)
    try:
        worker.start()
    except RuntimeError:  # no new threads this late in interpreter shutdown
        stop()
        return
    worker.join(timeout)
    if worker.is_alive():
        logger.warning(
            "botanu: the exporter did not finish within %gs (shutdown_timeout); "
            "spans not yet sent may be lost",
            timeout,
        )


def is_enabled() -> bool:
    return _installed is not None


def _file_layer(config_file: str | os.PathLike[str] | None) -> BotanuConfig:
    from botanu.sdk.config import DEFAULT_CONFIG_FILE, BotanuConfig

    if config_file is not None:
        return BotanuConfig.from_yaml(config_file)
    from_env = os.environ.get("BOTANU_CONFIG_FILE", "").strip()
    if from_env:
        return BotanuConfig.from_yaml(from_env)
    if os.path.isfile(DEFAULT_CONFIG_FILE):
        return BotanuConfig.from_yaml(DEFAULT_CONFIG_FILE)
    return BotanuConfig()


def _install(config: BotanuConfig, given: TracerProvider | None) -> _Installed:
    provider: Any = given if given is not None else trace.get_tracer_provider()
    owns = False
    exporter_wanted = config.exporter != "none"
    if not isinstance(provider, TracerProvider):
        if _is_unset(provider):
            provider = _own_provider(config)
            trace.set_tracer_provider(provider)
            owns = True
        elif isinstance(provider, trace.NoOpTracerProvider):  # the host turned tracing off
            logger.info("botanu: the global TracerProvider is a NoOp one; botanu records nothing")
            _apply_runtime(config, trace.get_tracer(_runtime.INSTRUMENTATION_NAME, __version__))
            return _Installed(config, provider, False, None)
        else:
            # another vendor's provider (ddtrace's): botanu records its runs on a provider
            # of its own beside it, not made global, and exports them as configured
            logger.info(
                "botanu: the global TracerProvider is %s, not an SDK provider; "
                "botanu records its runs on its own provider",
                type(provider).__name__,
            )
            provider = _own_provider(config)  # this enable()'s resource and exporter
            owns = True
    elif marked(provider, _OWNED):
        owns = True  # botanu's own provider from an earlier enable(): export as configured
    else:
        # the host set up its own export: add one only when botanu was told to
        exporter_wanted = exporter_wanted and config.exporter_chosen
    enricher = marked(provider, _ENRICHER)
    if isinstance(enricher, RunContextEnricher):
        enricher.enabled = True
    else:
        enricher = RunContextEnricher()
        provider.add_span_processor(enricher)
        mark(provider, _ENRICHER, enricher)
    exporter = _exporter_processor(config) if exporter_wanted else None
    if exporter is not None:
        # the spans of runs the sampler drops are recorded for botanu's exporter alone
        recording_runs(provider)
        slot = _export_slot(provider)
        slot.inner = exporter
        slot.timeout = _shutdown_timeout(config)
    _apply_runtime(config, provider.get_tracer(_runtime.INSTRUMENTATION_NAME, __version__))
    return _Installed(config, provider, owns, exporter)


def _own_provider(config: BotanuConfig) -> TracerProvider:
    """An SDK provider botanu creates, its enricher built into its processor list."""
    built_in = RunContextEnricher()
    provider = TracerProvider(
        resource=_resource(config), active_span_processor=EnrichingSpanProcessors(built_in)
    )
    mark(provider, _ENRICHER, built_in)
    mark(provider, _OWNED, True)
    return provider


def _apply_runtime(config: BotanuConfig, tracer: trace.Tracer) -> None:
    _runtime.state.enabled = True
    _runtime.state.lean = config.lean
    _runtime.state.environment = config.environment
    _runtime.state.tracer = tracer


def _is_unset(provider: object) -> bool:
    return isinstance(provider, trace.ProxyTracerProvider)


def _resource(config: BotanuConfig) -> Any:
    from opentelemetry.sdk.resources import Resource

    attributes: dict[str, str] = {}
    if config.service_name:
        attributes[semconv.RESOURCE_SERVICE_NAME] = config.service_name
    if config.service_version:
        attributes[semconv.RESOURCE_SERVICE_VERSION] = config.service_version
    if config.environment:
        attributes[semconv.RESOURCE_DEPLOYMENT_ENVIRONMENT] = config.environment
    return Resource.create(attributes)


class _ExportSlot(SpanProcessor):
    """Holds botanu's exporter on a provider: added once, refilled by each enable(), so
    enable/disable cycles do not pile dead processors onto the provider."""

    def __init__(self) -> None:
        self.inner: SpanProcessor | None = None
        self.timeout = 5.0  # replaced by each enable() from its config

    def on_end(self, span: ReadableSpan) -> None:
        inner = self.inner
        if inner is not None:
            inner.on_end(span)

    def shutdown(self) -> None:
        inner, self.inner = self.inner, None
        if inner is not None:  # the provider's shutdown, at exit too: bounded like disable()
            _stop_exporter(inner, self.timeout, flush=False)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        inner = self.inner
        return inner.force_flush(timeout_millis) if inner is not None else True


def _export_slot(provider: TracerProvider) -> _ExportSlot:
    slot = marked(provider, _SLOT)
    if not isinstance(slot, _ExportSlot):
        slot = _ExportSlot()
        provider.add_span_processor(slot)
        mark(provider, _SLOT, slot)
    return slot


def _exporter_processor(config: BotanuConfig) -> SpanProcessor:
    from opentelemetry.sdk.trace.export import SpanExporter

    span_exporter: SpanExporter
    if config.exporter == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        span_exporter = ConsoleSpanExporter()
    elif config.exporter == "local":
        try:
            from botanu.engine.local_exporter import LocalStoreExporter
        except ImportError as exc:
            raise BotanuConfigError(
                "exporter 'local' writes the embedded store and needs the engine: "
                f"pip install 'botanu[engine]' ({exc})"
            ) from None
        span_exporter = LocalStoreExporter()
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        kwargs: dict[str, Any] = {}
        if config.traces_endpoint is not None:
            kwargs["endpoint"] = config.traces_endpoint
        if config.otlp_headers:
            kwargs["headers"] = dict(config.otlp_headers)
        span_exporter = OTLPSpanExporter(**kwargs)
    return recorded_span_batcher(span_exporter)
