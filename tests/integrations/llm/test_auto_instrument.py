"""Auto-instrumentation: the official instrumentors (and the Anthropic SDK's own tracing)
against the stub server, inside a botanu run. Their spans carry the run through the
enricher, and botanu completes their usage from the provider's response, streams too."""

from __future__ import annotations

import asyncio
import logging
import os

import anthropic
import httpx
import openai
import pytest
from opentelemetry import trace

from botanu import run_botanu, semconv
from botanu.sdk import _auto_instrument

from .conftest import ANTHROPIC_MODEL, QUESTION, SYSTEM

PROMPT = [{"role": "user", "content": "x" * 400}]  # the stub bills 900 + 400 / 4 tokens
OPENAI_SCOPES = ("opentelemetry.instrumentation.openai_v2", "opentelemetry.util.genai.handler")
ANTHROPIC_SDK_SCOPE = "com.anthropic.sdk.python"


def attrs(span):
    return dict(span.attributes or {})


def genai_spans(spans):
    """The spans of model calls, whatever made them."""
    return [s for s in spans.spans if semconv.GEN_AI_OPERATION_NAME in attrs(s)]


def usage(span):
    keys = (
        semconv.GEN_AI_PROVIDER_NAME,
        semconv.GEN_AI_USAGE_INPUT_TOKENS,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS,
        semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
        semconv.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
        semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
        semconv.CACHE_WRITE_1H_INPUT_TOKENS,
        semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
    )
    return {k: v for k, v in attrs(span).items() if k in keys}


def test_streamed_openai_call_and_anthropic_call_with_cache_writes_end_with_complete_usage(
    spans, instrumented, openai_client, server
):
    # the Anthropic client as an app creates it: its own tracing on
    client = anthropic.Anthropic(base_url=server.anthropic_base_url, api_key="t", max_retries=0)
    with run_botanu("support", event_id="t-1", customer_id="acme") as run:
        stream = openai_client.chat.completions.create(
            model="o4-mini",
            messages=PROMPT,
            stream=True,
            stream_options={"include_usage": True},
        )
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        client.messages.create(
            model=ANTHROPIC_MODEL, max_tokens=256, system=SYSTEM, messages=QUESTION
        )
    streamed, cached = genai_spans(spans)  # one span per call, in call order
    assert streamed.instrumentation_scope.name in OPENAI_SCOPES
    assert cached.instrumentation_scope.name == ANTHROPIC_SDK_SCOPE
    for span in (streamed, cached):
        assert attrs(span)[semconv.RUN_ID] == run.run_id
        assert attrs(span)[semconv.WORKFLOW] == "support"
    assert usage(streamed) == {
        semconv.GEN_AI_PROVIDER_NAME: "openai",
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 1000,  # includes the 768 read from the cache
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 280,  # includes the 120 reasoning tokens
        semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 768,
        semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 120,
    }
    assert attrs(streamed)[semconv.GEN_AI_REQUEST_STREAM] is True
    assert usage(cached) == {
        semconv.GEN_AI_PROVIDER_NAME: "anthropic",
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 1525,  # Anthropic's 25 + the 1,500 written
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 40,
        semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 0,
        semconv.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: 1500,
        semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: 1500,
        semconv.CACHE_WRITE_1H_INPUT_TOKENS: 1000,
    }
    assert attrs(cached)[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("end_turn",)


def test_openai_instrumentor_plain_call_gets_cache_and_reasoning(
    spans, instrumented, openai_client
):
    assert "openai" in instrumented.names
    with run_botanu("support", event_id="t-1", customer_id="acme") as run:
        openai_client.chat.completions.create(model="o4-mini", messages=PROMPT)
    (span,) = genai_spans(spans)
    assert attrs(span)[semconv.RUN_ID] == run.run_id
    assert usage(span) == {
        semconv.GEN_AI_PROVIDER_NAME: "openai",
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 1000,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 280,
        semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 768,
        semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 120,
    }
    assert attrs(span)[semconv.GEN_AI_RESPONSE_ID] == "chatcmpl-demo000001"


def test_anthropic_sdk_stream_with_thinking_and_a_cache_read(spans, instrumented, server):
    client = anthropic.Anthropic(base_url=server.anthropic_base_url, api_key="t", max_retries=0)
    with run_botanu("support", event_id="t-1", customer_id="acme") as run:
        for _ in range(2):  # the second call reads what the first wrote
            events = client.messages.create(
                model=ANTHROPIC_MODEL,
                max_tokens=2048,
                system=SYSTEM,
                messages=QUESTION,
                thinking={"type": "enabled", "budget_tokens": 1024},
                stream=True,
            )
            for _event in events:
                pass
    writes, reads = genai_spans(spans)
    assert attrs(reads)[semconv.RUN_ID] == run.run_id
    assert usage(writes)[semconv.CACHE_WRITE_1H_INPUT_TOKENS] == 1000
    assert usage(reads) == {
        semconv.GEN_AI_PROVIDER_NAME: "anthropic",
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 1525,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 104,
        semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 1500,
        semconv.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: 0,
        semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: 0,
        semconv.CACHE_WRITE_1H_INPUT_TOKENS: 0,
        semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 64,
    }


@pytest.fixture
def openllmetry(spans, monkeypatch):
    """Anthropic through OpenLLMetry's instrumentor, as with an SDK that does not trace
    itself: the environment turns the SDK's own tracing off."""
    monkeypatch.setenv("ANTHROPIC_OPEN_TELEMETRY", "false")
    done = _auto_instrument.instrument(("anthropic",), trace.get_tracer_provider())
    assert done.names == ("anthropic",)
    try:
        yield done
    finally:
        done.undo()


def test_openllmetry_anthropic_spans_are_completed_plain_and_streamed(spans, openllmetry, server):
    assert os.environ["ANTHROPIC_OPEN_TELEMETRY"] == "false"
    client = anthropic.Anthropic(base_url=server.anthropic_base_url, api_key="t", max_retries=0)
    with run_botanu("support", event_id="t-1", customer_id="acme") as run:
        client.messages.create(
            model=ANTHROPIC_MODEL, max_tokens=256, system=SYSTEM, messages=QUESTION
        )
        for _event in client.messages.create(
            model=ANTHROPIC_MODEL,
            max_tokens=2048,
            system=SYSTEM,
            messages=QUESTION,
            thinking={"type": "enabled", "budget_tokens": 1024},
            stream=True,
        ):
            pass
    plain, streamed = genai_spans(spans)
    for span in (plain, streamed):
        assert span.instrumentation_scope.name == "opentelemetry.instrumentation.anthropic"
        assert attrs(span)[semconv.RUN_ID] == run.run_id
    # the instrumentor alone records no new-name cache writes and no 1-hour part
    assert usage(plain) == {
        semconv.GEN_AI_PROVIDER_NAME: "anthropic",
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 1525,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 40,
        semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 0,
        semconv.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: 1500,
        semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: 1500,
        semconv.CACHE_WRITE_1H_INPUT_TOKENS: 1000,
    }
    # ...and adds message_start's 1 output token to message_delta's cumulative 104
    assert usage(streamed) == {
        semconv.GEN_AI_PROVIDER_NAME: "anthropic",
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 1525,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 104,
        semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 1500,
        semconv.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: 0,
        semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: 0,
        semconv.CACHE_WRITE_1H_INPUT_TOKENS: 0,
        semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 64,
    }


def test_httpx_instrumentor_spans_carry_the_run(spans, instrumented, server):
    assert "httpx" in instrumented.names
    with run_botanu("support", event_id="t-1", customer_id="acme") as run:
        with httpx.Client() as client:
            reply = client.post(
                server.base_url + "/chat/completions", json={"model": "m", "messages": []}
            )
    assert reply.status_code == 200
    (span,) = [s for s in spans.spans if s.instrumentation_scope.name.endswith(".httpx")]
    assert span.kind is trace.SpanKind.CLIENT
    assert attrs(span)[semconv.RUN_ID] == run.run_id
    assert attrs(span)[semconv.CUSTOMER_ID] == "acme"


def test_undo_turns_the_instrumentors_off(spans, openai_client):
    done = _auto_instrument.instrument(("openai",), trace.get_tracer_provider())
    done.undo()
    openai_client.chat.completions.create(model="o4-mini", messages=PROMPT)
    assert genai_spans(spans) == []


def test_missing_packages_are_skipped_with_a_debug_log(spans, caplog, monkeypatch):
    rows = {
        # the instrumented library is not installed
        "no-library": _auto_instrument.Instrumentation("botanu_no_such_library", "json", "X", "x"),
        # the library is, its instrumentor is not
        "no-instrumentor": _auto_instrument.Instrumentation(
            "json", "opentelemetry.instrumentation.botanu_none", "X", "botanu-none-instr"
        ),
    }
    for name, row in rows.items():
        monkeypatch.setitem(_auto_instrument.INSTRUMENTATIONS, name, row)
    with caplog.at_level(logging.DEBUG, logger="botanu"):
        done = _auto_instrument.instrument(tuple(rows), trace.get_tracer_provider())
    assert done.names == ()
    records = [r for r in caplog.records if r.name == "botanu"]
    messages = [r.getMessage() for r in records]
    assert any("botanu_no_such_library is not installed" in m for m in messages)
    assert any("pip install botanu-none-instr" in m for m in messages)
    assert {r.levelno for r in records} == {logging.DEBUG}


FAILING_INSTRUMENTOR = """\
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor


class FailingInstrumentor(BaseInstrumentor):
    def instrumentation_dependencies(self):
        return ()

    def _instrument(self, **kwargs):
        raise RuntimeError("instrumentor bug")

    def _uninstrument(self, **kwargs):
        pass
"""


def test_a_failing_instrumentor_is_logged_once_and_swallowed(spans, caplog, monkeypatch, tmp_path):
    (tmp_path / "botanu_test_failing_instrumentor.py").write_text(FAILING_INSTRUMENTOR)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(
        _auto_instrument.INSTRUMENTATIONS,
        "failing",
        _auto_instrument.Instrumentation(
            "json", "botanu_test_failing_instrumentor", "FailingInstrumentor", "x"
        ),
    )
    monkeypatch.setattr(_auto_instrument, "_failed", set())
    with caplog.at_level(logging.WARNING, logger="botanu"):
        for _ in range(2):
            done = _auto_instrument.instrument(("failing",), trace.get_tracer_provider())
            assert done.names == ()
    failures = [r for r in caplog.records if "could not turn on failing" in r.getMessage()]
    assert len(failures) == 1
    assert "instrumentor bug" in caplog.text


def test_async_clients_are_completed_too(spans, instrumented, server):
    async def calls() -> str:
        async with openai.AsyncOpenAI(
            base_url=server.base_url, api_key="t", max_retries=0
        ) as client:
            stream = await client.chat.completions.create(
                model="o4-mini",
                messages=PROMPT,
                stream=True,
                stream_options={"include_usage": True},
            )
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
            await client.chat.completions.create(model="gpt-4o", messages=PROMPT)
        async with anthropic.AsyncAnthropic(
            base_url=server.anthropic_base_url, api_key="t", max_retries=0
        ) as claude:
            await claude.messages.create(
                model=ANTHROPIC_MODEL, max_tokens=256, system=SYSTEM, messages=QUESTION
            )
        return text

    with run_botanu("support", event_id="t-1", customer_id="acme") as run:
        assert asyncio.run(calls()) == "Done. Anything else?"
    streamed, plain, cached = genai_spans(spans)
    assert {attrs(s)[semconv.RUN_ID] for s in (streamed, plain, cached)} == {run.run_id}
    assert usage(streamed)[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 120
    assert usage(streamed)[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 768
    assert usage(plain)[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 0  # gpt-4o
    assert usage(plain)[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 1000
    assert usage(cached)[semconv.CACHE_WRITE_1H_INPUT_TOKENS] == 1000


def test_a_stream_without_usage_stays_without_usage(spans, instrumented, openai_client):
    # without include_usage no chunk carries usage: the span must be unpriced, never $0
    for _chunk in openai_client.chat.completions.create(
        model="gpt-4o", messages=PROMPT, stream=True
    ):
        pass
    (span,) = genai_spans(spans)
    assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in attrs(span)
    assert semconv.GEN_AI_USAGE_OUTPUT_TOKENS not in attrs(span)
    assert attrs(span)[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
