"""`enable(auto_instrument=[...])`: botanu's short names for the official OpenTelemetry
instrumentors, turned on against the tracer provider botanu uses. No instrumentor is
imported until asked for; a missing package is skipped, a failing one logged once.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger("botanu")

__all__ = ["INSTRUMENTATIONS", "AutoInstrumented", "instrument", "known_names"]


@dataclass(frozen=True)
class Instrumentation:
    """Where one instrumentor lives, and what it instruments."""

    library: str  # top-level import name of the instrumented library
    module: str  # the instrumentor's module
    cls: str  # the instrumentor's class
    package: str  # what to pip install for it


def _otel(library: str, name: str, cls: str, package: str | None = None) -> Instrumentation:
    return Instrumentation(
        library,
        f"opentelemetry.instrumentation.{name}",
        cls,
        package or f"opentelemetry-instrumentation-{name.replace('_', '-')}",
    )


# botanu's name -> instrumentor; the name is what users write in code, env and YAML
INSTRUMENTATIONS: dict[str, Instrumentation] = {
    # GenAI clients: botanu also completes their spans' usage (see botanu.integrations._llm_usage)
    "openai": _otel("openai", "openai_v2", "OpenAIInstrumentor"),
    # the Anthropic SDK (2.x) traces its own calls; for older ones, OpenLLMetry's
    # instrumentor (the contrib repository has none for Anthropic's client)
    "anthropic": _otel("anthropic", "anthropic", "AnthropicInstrumentor"),
    "google_genai": _otel("google.genai", "google_genai", "GoogleGenAiSdkInstrumentor"),
    "vertexai": _otel("vertexai", "vertexai", "VertexAIInstrumentor"),
    # HTTP clients
    "httpx": _otel("httpx", "httpx", "HTTPXClientInstrumentor"),
    "requests": _otel("requests", "requests", "RequestsInstrumentor"),
    "urllib3": _otel("urllib3", "urllib3", "URLLib3Instrumentor"),
    "aiohttp": _otel("aiohttp", "aiohttp_client", "AioHttpClientInstrumentor"),
    "botocore": _otel("botocore", "botocore", "BotocoreInstrumentor"),
    # web frameworks: turn them on before the app object is created
    "fastapi": _otel("fastapi", "fastapi", "FastAPIInstrumentor"),
    "starlette": _otel("starlette", "starlette", "StarletteInstrumentor"),
    "flask": _otel("flask", "flask", "FlaskInstrumentor"),
    "django": _otel("django", "django", "DjangoInstrumentor"),
    # databases
    "sqlalchemy": _otel("sqlalchemy", "sqlalchemy", "SQLAlchemyInstrumentor"),
    "psycopg": _otel("psycopg", "psycopg", "PsycopgInstrumentor"),
    "psycopg2": _otel("psycopg2", "psycopg2", "Psycopg2Instrumentor"),
    "asyncpg": _otel("asyncpg", "asyncpg", "AsyncPGInstrumentor"),
    "pymongo": _otel("pymongo", "pymongo", "PymongoInstrumentor"),
    "redis": _otel("redis", "redis", "RedisInstrumentor"),
    # queues and workers
    "celery": _otel("celery", "celery", "CeleryInstrumentor"),
    "kafka": _otel(
        "kafka", "kafka", "KafkaInstrumentor", "opentelemetry-instrumentation-kafka-python"
    ),
    "confluent_kafka": _otel("confluent_kafka", "confluent_kafka", "ConfluentKafkaInstrumentor"),
    "pika": _otel("pika", "pika", "PikaInstrumentor"),
    "aio_pika": _otel("aio_pika", "aio_pika", "AioPikaInstrumentor"),
}

# instrumentors whose spans botanu completes with the usage of the provider's response
GENAI_CLIENTS = frozenset({"openai", "anthropic"})

_failed: set[str] = set()
_failed_lock = threading.Lock()


def known_names() -> tuple[str, ...]:
    return tuple(sorted(INSTRUMENTATIONS))


def normalise_names(raw: object) -> tuple[str, ...]:
    """`raw` (a comma-separated string or a list of names) as a tuple of lower-cased,
    de-duplicated names in the given order; validation is `unknown_names`."""
    items: Iterable[object]
    if isinstance(raw, str):
        items = raw.split(",")
    elif isinstance(raw, (list, tuple, set, frozenset)):
        items = raw
    else:
        raise TypeError(f"expected a list of names or a comma-separated string, got {raw!r}")
    names: list[str] = []
    for item in items:
        name = str(item).strip().lower().replace("-", "_")
        if name and name not in names:
            names.append(name)
    return tuple(names)


def unknown_names(names: Iterable[str]) -> list[str]:
    return [name for name in names if name not in INSTRUMENTATIONS]


class AutoInstrumented:
    """What one `enable()` turned on, for `disable()` to turn off again."""

    def __init__(self) -> None:
        self.instrumentors: list[tuple[str, Any]] = []

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.instrumentors)

    def undo(self) -> None:
        """Uninstrument what botanu instrumented, newest first; failures are logged."""
        while self.instrumentors:
            name, instrumentor = self.instrumentors.pop()
            try:
                instrumentor.uninstrument()
            except Exception:
                logger.warning("botanu: turning off %s instrumentation failed", name, exc_info=True)
        usage = sys.modules.get("botanu.integrations._llm_usage")  # loaded only if used
        if usage is not None:
            usage.deactivate()


def instrument(names: Iterable[str], tracer_provider: Any) -> AutoInstrumented:
    """Turn on the instrumentors `names` (already validated) with `tracer_provider`.

    Never raises: a library or instrumentor that is not installed is skipped with a
    DEBUG log; an instrumentor that fails is logged once and left off.
    """
    done = AutoInstrumented()
    for name in names:
        spec = INSTRUMENTATIONS[name]
        try:
            if name == "anthropic" and _anthropic_traces_itself():
                from botanu.integrations import _llm_usage

                # a second instrumentor would put every call, and its cost, on two spans
                _llm_usage.activate(name, tracer_provider, hook=False)
                logger.debug("botanu: the anthropic SDK traces its own calls; no instrumentor")
                continue
            instrumentor = _load(name, spec)
            if instrumentor is None:
                continue
            if instrumentor.is_instrumented_by_opentelemetry:
                # turned on by the app or `opentelemetry-instrument`: theirs to keep
                logger.debug("botanu: %s instrumentation is already on; left as it is", name)
                continue
            if name in GENAI_CLIENTS:
                from botanu.integrations import _llm_usage

                # before the instrumentor, so that botanu's hook sits inside its span
                _llm_usage.activate(name, tracer_provider)
            instrumentor.instrument(tracer_provider=tracer_provider, skip_dep_check=True)
            if not instrumentor.is_instrumented_by_opentelemetry:
                raise RuntimeError(f"{spec.module}.{spec.cls}.instrument() did not turn it on")
            done.instrumentors.append((name, instrumentor))
            logger.debug("botanu: %s instrumentation on", name)
        except Exception:
            _log_failure_once(name, spec)
    return done


def _load(name: str, spec: Instrumentation) -> Any:
    """An instance of the instrumentor, or None (logged at DEBUG) when something is
    not installed or the installed library's version is outside what it supports."""
    if not _installed(spec.library):
        logger.debug("botanu: %s instrumentation skipped: %s is not installed", name, spec.library)
        return None
    if not _installed(spec.module):
        logger.debug(
            "botanu: %s instrumentation skipped: pip install %s to turn it on", name, spec.package
        )
        return None
    module = importlib.import_module(spec.module)
    instrumentor = getattr(module, spec.cls)()
    from opentelemetry.instrumentation.dependencies import get_dependency_conflicts

    conflict = get_dependency_conflicts(instrumentor.instrumentation_dependencies())
    if conflict is not None:
        logger.debug("botanu: %s instrumentation skipped: %s", name, conflict)
        return None
    return instrumentor


def _anthropic_traces_itself() -> bool:
    """Whether the installed Anthropic SDK makes its own OpenTelemetry spans (and the
    environment has not turned them off)."""
    if os.environ.get("ANTHROPIC_OPEN_TELEMETRY", "").strip().lower() == "false":
        return False
    return _installed("anthropic") and _installed("anthropic._tracing")


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a broken one
        return False


def _log_failure_once(name: str, spec: Instrumentation) -> None:
    with _failed_lock:
        first = name not in _failed
        _failed.add(name)
    if first:
        logger.warning(
            "botanu: could not turn on %s instrumentation (%s.%s); the app continues "
            "without it (logged once)",
            name,
            spec.module,
            spec.cls,
            exc_info=True,
        )
