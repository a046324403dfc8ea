"""botanu: what did this business outcome cost?

The public SDK surface. Importing it loads OpenTelemetry and botanu's SDK modules only:
no engine, store, web or CLI libraries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botanu._version import __version__
from botanu.exceptions import BotanuConfigError, BotanuError, BotanuWarning
from botanu.sdk import span_helpers as _span_helpers
from botanu.sdk.bootstrap import disable, enable, is_enabled
from botanu.sdk.context import get_current_run_context
from botanu.sdk.decorators import botanu_use_case, botanu_workflow, run_botanu, workflow
from botanu.sdk.enricher import RunContextEnricher
from botanu.sdk.run_context import RunContext, RunStatus, generate_run_id
from botanu.sdk.span_helpers import resolve_outcome, set_business_context
from botanu.tracking.data import (
    track_db_operation,
    track_messaging_operation,
    track_storage_operation,
)
from botanu.tracking.llm import ModelOperation, track_llm_call, track_tool_call

if TYPE_CHECKING:
    from collections.abc import Mapping

    from botanu.integrations.asgi import BotanuMiddleware
    from botanu.integrations.wsgi import BotanuWSGIMiddleware
    from botanu.sdk.config import BotanuConfig

__all__ = [
    "BotanuConfig",
    "BotanuConfigError",
    "BotanuError",
    "BotanuMiddleware",
    "BotanuWSGIMiddleware",
    "BotanuWarning",
    "ModelOperation",
    "RunContext",
    "RunContextEnricher",
    "RunStatus",
    "__version__",
    "botanu_use_case",
    "botanu_workflow",
    "disable",
    "emit_outcome",
    "enable",
    "generate_run_id",
    "get_current_run_context",
    "is_enabled",
    "resolve_outcome",
    "run_botanu",
    "set_business_context",
    "track_db_operation",
    "track_llm_call",
    "track_messaging_operation",
    "track_storage_operation",
    "track_tool_call",
    "workflow",
]


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
    """Record what the active run achieved; see `botanu.sdk.span_helpers.emit_outcome`.

    Looks the implementation up at call time and passes on only the arguments given, so
    a test that patches `botanu.sdk.span_helpers.emit_outcome` sees the call exactly as
    the application made it through `botanu.emit_outcome`.
    """
    given: dict[str, Any] = {
        "value_type": value_type,
        "value_amount": value_amount,
        "confidence": confidence,
        "reason": reason,
        "error_type": error_type,
        "metadata": metadata,
    }
    _span_helpers.emit_outcome(status, **{k: v for k, v in given.items() if v is not None})


def __getattr__(name: str) -> Any:
    # loaded on first use, to keep `import botanu` cheap: the middleware pulls in
    # OpenTelemetry's propagator entry points, the config its file and URL parsing
    if name == "BotanuMiddleware":
        from botanu.integrations.asgi import BotanuMiddleware

        return BotanuMiddleware
    if name == "BotanuWSGIMiddleware":
        from botanu.integrations.wsgi import BotanuWSGIMiddleware

        return BotanuWSGIMiddleware
    if name == "BotanuConfig":
        from botanu.sdk.config import BotanuConfig

        return BotanuConfig
    raise AttributeError(f"module 'botanu' has no attribute {name!r}")
