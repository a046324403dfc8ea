"""One model call, one price: when the client library traces its own call inside a
`track_llm_call` block (the Anthropic SDK does by default), both spans carry the usage,
so botanu marks its tracker span and the engine prices the inner span only."""

from __future__ import annotations

import anthropic

from botanu import semconv, track_llm_call

from .conftest import ANTHROPIC_MODEL, QUESTION


def test_a_self_tracing_client_inside_a_tracker_is_counted_once(spans, server):
    with (
        anthropic.Anthropic(
            base_url=server.anthropic_base_url, api_key="test", max_retries=0
        ) as client,
        track_llm_call(provider="anthropic", model=ANTHROPIC_MODEL) as tracker,
    ):
        message = client.messages.create(model=ANTHROPIC_MODEL, max_tokens=64, messages=QUESTION)
        tracker.set_response(message)

    (outer,) = [s for s in spans.spans if s.instrumentation_scope.name == "botanu"]
    inner = [s for s in spans.spans if s is not outer and s.parent is not None]
    assert [s.parent.span_id for s in inner] == [outer.context.span_id]
    assert inner[0].attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] > 0
    assert outer.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] > 0
    assert outer.attributes[semconv.LLM_USAGE_ON_CHILD] is True


def test_a_tracker_alone_keeps_its_usage(spans, anthropic_client):
    with track_llm_call(provider="anthropic", model=ANTHROPIC_MODEL) as tracker:
        message = anthropic_client.messages.create(
            model=ANTHROPIC_MODEL, max_tokens=64, messages=QUESTION
        )
        tracker.set_response(message)
    (outer,) = spans.spans
    assert semconv.LLM_USAGE_ON_CHILD not in outer.attributes


def test_a_nested_span_without_usage_does_not_move_the_price(spans):
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind

    tracer = trace.get_tracer("some.http.client")
    with track_llm_call(provider="openai", model="gpt-4o") as tracker:
        with tracer.start_as_current_span("POST", kind=SpanKind.CLIENT):
            pass
        tracker.set_tokens(input_tokens=10, output_tokens=2)
    outer = next(s for s in spans.spans if s.name == "chat gpt-4o")
    assert semconv.LLM_USAGE_ON_CHILD not in outer.attributes
