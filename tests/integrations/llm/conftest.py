"""The bundled stub model server, real `openai` and `anthropic` clients pointed at it, and
the official instrumentors turned on the way `enable(auto_instrument=...)` does it.

The session's TracerProvider already has botanu enabled (tests/conftest.py), so
`enable()` itself is exercised in fresh interpreters; here `_auto_instrument.instrument` is
called with that provider, exactly as `enable()` calls it, and undone after each test.
"""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import openai
import pytest
from opentelemetry import trace

from botanu.demo.stub_server import StubModelServer
from botanu.sdk import _auto_instrument

ANTHROPIC_MODEL = "claude-haiku-4-5"

# a system prompt with two cache breakpoints: 1,000 tokens kept for an hour, then 500
# tokens kept for five minutes (the stub counts 4 characters a token), and a 25-token
# question after them
SYSTEM = [
    {"type": "text", "text": "A" * 4000, "cache_control": {"type": "ephemeral", "ttl": "1h"}},
    {"type": "text", "text": "B" * 2000, "cache_control": {"type": "ephemeral"}},
]
QUESTION = [{"role": "user", "content": "Q" * 100}]


@pytest.fixture
def server() -> Iterator[StubModelServer]:
    # one per test: its call count and prompt cache start from zero
    with StubModelServer() as stub:
        yield stub


@pytest.fixture
def openai_client(server: StubModelServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0) as client:
        yield client


@pytest.fixture
def anthropic_client(server: StubModelServer) -> Iterator[anthropic.Anthropic]:
    # the SDK's own tracing is off here: these tests record usage on botanu's tracker span,
    # and the SDK's span would be a second span for the same call
    with anthropic.Anthropic(
        base_url=server.anthropic_base_url, api_key="test", max_retries=0, open_telemetry=False
    ) as client:
        yield client


@pytest.fixture
def instrumented(spans) -> Iterator[_auto_instrument.AutoInstrumented]:
    """openai, anthropic and httpx instrumentation on the session's provider."""
    done = _auto_instrument.instrument(
        ("openai", "anthropic", "httpx"), trace.get_tracer_provider()
    )
    try:
        yield done
    finally:
        done.undo()
