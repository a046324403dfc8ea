"""The public surface is pinned, `import botanu` stays light, and botanu's own failures
never reach the host application."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

import botanu
from botanu.sdk import _guard, _runtime


def test_public_names_are_pinned():
    assert sorted(botanu.__all__) == [
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
    for name in botanu.__all__:
        assert getattr(botanu, name) is not None


def test_seed_module_paths_exist():
    from botanu.sdk.middleware import BotanuMiddleware
    from botanu.sdk.span_helpers import emit_outcome
    from botanu.tracking.llm import ModelOperation, track_llm_call

    assert callable(emit_outcome)
    assert callable(track_llm_call)
    assert ModelOperation.CHAT == "chat"
    assert botanu.BotanuMiddleware is BotanuMiddleware


def test_old_module_paths_hand_on_the_same_objects():
    # paths of earlier layouts that users and the published SDK's docs import
    from botanu.integrations import asgi, wsgi
    from botanu.models import RunContext as ModelsRunContext
    from botanu.models.run_context import RunContext, RunStatus, generate_run_id
    from botanu.processors import RunContextEnricher
    from botanu.sdk import enricher, run_context
    from botanu.sdk.middleware import BotanuMiddleware
    from botanu.sdk.wsgi import BotanuWSGIMiddleware

    assert BotanuMiddleware is asgi.BotanuMiddleware is botanu.BotanuMiddleware
    assert BotanuWSGIMiddleware is wsgi.BotanuWSGIMiddleware is botanu.BotanuWSGIMiddleware
    assert RunContextEnricher is enricher.RunContextEnricher is botanu.RunContextEnricher
    assert RunContext is ModelsRunContext is run_context.RunContext is botanu.RunContext
    assert RunStatus is run_context.RunStatus
    assert generate_run_id is run_context.generate_run_id


def test_import_botanu_pulls_no_engine_web_or_cli_library():
    code = (
        "import sys, botanu; "
        "heavy = [m for m in ('duckdb', 'clickhouse_connect', 'chdb', 'starlette', 'fastapi', "
        "'click', 'typer', 'rich', 'yaml', 'uvicorn', 'genai_prices', 'asyncio', "
        "'opentelemetry.exporter.otlp.proto.http', 'importlib.metadata') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


class ExplodingTracer:
    def start_span(self, *args, **kwargs):
        raise RuntimeError("botanu bug")


def test_internal_errors_are_logged_once_and_swallowed(monkeypatch, caplog):
    monkeypatch.setattr(_guard, "raise_internal_errors", False)
    monkeypatch.setattr(_guard, "_reported", set())
    monkeypatch.setattr(_runtime.state, "tracer", ExplodingTracer())

    @botanu.botanu_workflow("w", event_id="e", customer_id="c")
    def handler(x):
        return x + 1

    with caplog.at_level(logging.ERROR, logger="botanu"):
        assert [handler(i) for i in range(3)] == [1, 2, 3]
        with botanu.track_llm_call(provider="openai", model="m") as tracker:
            tracker.set_tokens(input_tokens=1)
    messages = [r.getMessage() for r in caplog.records if r.name == "botanu"]
    assert sum("run start" in m for m in messages) == 1
    assert sum("LLMTracker start" in m for m in messages) == 1


def test_user_exceptions_pass_through_even_when_botanu_fails(monkeypatch):
    monkeypatch.setattr(_guard, "raise_internal_errors", False)
    monkeypatch.setattr(_runtime.state, "tracer", ExplodingTracer())
    err = ValueError("user bug")

    @botanu.botanu_workflow("w", event_id="e", customer_id="c")
    def handler():
        raise err

    with pytest.raises(ValueError, match="user bug") as info:
        handler()
    assert info.value is err


def test_misuse_warnings_turned_into_errors_reach_the_app_not_the_internal_log(
    spans, monkeypatch, caplog
):
    # the suite runs with warnings as errors, as some apps do
    monkeypatch.setattr(_guard, "raise_internal_errors", False)
    with caplog.at_level(logging.ERROR, logger="botanu"):
        with botanu.run_botanu("strict", event_id="e"):
            with pytest.raises(botanu.BotanuWarning, match="unknown status"):
                botanu.emit_outcome("succes")
    assert [r for r in caplog.records if r.name == "botanu"] == []


def test_the_outcome_statuses_are_one_list():
    """`RunStatus` (the SDK's) and semconv's statuses (the engine's, the CLI's) agree."""
    from botanu import RunStatus, semconv

    assert tuple(status.value for status in RunStatus) == semconv.OUTCOME_STATUSES
