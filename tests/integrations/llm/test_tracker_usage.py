"""`track_llm_call(...).set_response(...)`: usage straight from the real `openai` and
`anthropic` clients' responses, streams and stream events, against the bundled stub
server, in the OTel convention (input includes cache reads and writes, output includes
reasoning) and stamped with the run."""

from __future__ import annotations

import pytest
from opentelemetry.trace import SpanKind

from botanu import BotanuWarning, run_botanu, semconv, track_llm_call

from .conftest import ANTHROPIC_MODEL, QUESTION, SYSTEM

PROMPT = [{"role": "user", "content": "x" * 400}]  # the stub bills 900 + 400 / 4 tokens


def attrs(span):
    return dict(span.attributes or {})


def usage(span):
    """The span's usage and response attributes."""
    keys = (
        semconv.GEN_AI_USAGE_INPUT_TOKENS,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS,
        semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
        semconv.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
        semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
        semconv.CACHE_WRITE_1H_INPUT_TOKENS,
        semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
        semconv.GEN_AI_RESPONSE_MODEL,
        semconv.GEN_AI_RESPONSE_ID,
        semconv.GEN_AI_RESPONSE_FINISH_REASONS,
        semconv.GEN_AI_REQUEST_STREAM,
    )
    return {k: v for k, v in attrs(span).items() if k in keys}


def test_openai_chat_completion(spans, openai_client):
    with run_botanu("support", event_id="t-1", customer_id="acme") as run:
        with track_llm_call(provider="openai", model="o4-mini") as tracker:
            response = openai_client.chat.completions.create(model="o4-mini", messages=PROMPT)
            tracker.set_response(response)
    (span,) = spans.named("chat o4-mini")
    assert span.kind is SpanKind.CLIENT
    assert attrs(span)[semconv.RUN_ID] == run.run_id
    assert usage(span) == {
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 1000,  # includes the 768 cached
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 280,  # includes the 120 reasoning
        semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 768,
        semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 120,
        semconv.GEN_AI_RESPONSE_MODEL: "o4-mini",
        semconv.GEN_AI_RESPONSE_ID: "chatcmpl-demo000001",
        semconv.GEN_AI_RESPONSE_FINISH_REASONS: ("stop",),
    }


def test_openai_stream_with_include_usage_every_chunk(spans, openai_client):
    with run_botanu("support", event_id="t-1", customer_id="acme") as run:
        with track_llm_call(provider="openai", model="gpt-4o") as tracker:
            stream = openai_client.chat.completions.create(
                model="gpt-4o",
                messages=PROMPT,
                stream=True,
                stream_options={"include_usage": True},
            )
            text = ""
            for chunk in stream:
                tracker.set_response(chunk)
                if chunk.choices:
                    text += chunk.choices[0].delta.content or ""
    assert text == "Done. Anything else?"
    (span,) = spans.named("chat gpt-4o")
    assert attrs(span)[semconv.RUN_ID] == run.run_id
    assert usage(span) == {
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 1000,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 160,
        semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 768,
        semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 0,
        semconv.GEN_AI_RESPONSE_MODEL: "gpt-4o",
        semconv.GEN_AI_RESPONSE_ID: "chatcmpl-demo000001",
        semconv.GEN_AI_RESPONSE_FINISH_REASONS: ("stop",),
        semconv.GEN_AI_REQUEST_STREAM: True,
    }


def test_openai_stream_without_include_usage_records_no_usage(spans, openai_client):
    with track_llm_call(provider="openai", model="gpt-4o") as tracker:
        for chunk in openai_client.chat.completions.create(
            model="gpt-4o", messages=PROMPT, stream=True
        ):
            tracker.set_response(chunk)
    (span,) = spans.named("chat gpt-4o")
    # no usage in any chunk: left unset (unpriced), never recorded as zero
    assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in attrs(span)
    assert attrs(span)[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)


def test_openai_responses_api(spans, openai_client):
    with track_llm_call(provider="openai", model="o4-mini") as tracker:
        response = openai_client.responses.create(model="o4-mini", input="x" * 400)
        tracker.set_response(response)
    (span,) = spans.named("chat o4-mini")
    assert usage(span) == {
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 1000,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 280,
        semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 768,
        semconv.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: 0,
        semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: 0,
        semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 120,
        semconv.GEN_AI_RESPONSE_MODEL: "o4-mini",
        semconv.GEN_AI_RESPONSE_ID: "resp_demo000001",
    }


def test_anthropic_message_with_5_minute_and_1_hour_cache_writes_then_a_read(
    spans, anthropic_client
):
    with run_botanu("support", event_id="t-1", customer_id="acme") as run:
        for _ in range(2):
            with track_llm_call(provider="claude", model=ANTHROPIC_MODEL) as tracker:
                message = anthropic_client.messages.create(
                    model=ANTHROPIC_MODEL, max_tokens=256, system=SYSTEM, messages=QUESTION
                )
                tracker.set_response(message)
    first, second = spans.named(f"chat {ANTHROPIC_MODEL}")
    assert attrs(first)[semconv.GEN_AI_PROVIDER_NAME] == "anthropic"
    assert attrs(first)[semconv.RUN_ID] == run.run_id
    # Anthropic reports input_tokens=25 exclusive of the 1,500 written to the cache
    assert usage(first) == {
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 1525,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 40,
        semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 0,
        semconv.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: 1500,
        semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: 1500,
        semconv.CACHE_WRITE_1H_INPUT_TOKENS: 1000,
        semconv.GEN_AI_RESPONSE_MODEL: ANTHROPIC_MODEL,
        semconv.GEN_AI_RESPONSE_ID: "msg_demo000001",
        semconv.GEN_AI_RESPONSE_FINISH_REASONS: ("end_turn",),
    }
    assert usage(second)[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 1525
    assert usage(second)[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 1500
    assert usage(second)[semconv.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS] == 0
    assert usage(second)[semconv.CACHE_WRITE_1H_INPUT_TOKENS] == 0


def test_anthropic_stream_events_with_thinking(spans, anthropic_client):
    with track_llm_call(provider="anthropic", model=ANTHROPIC_MODEL) as tracker:
        events = anthropic_client.messages.create(
            model=ANTHROPIC_MODEL,
            max_tokens=2048,
            system=SYSTEM,
            messages=QUESTION,
            thinking={"type": "enabled", "budget_tokens": 1024},
            stream=True,
        )
        for event in events:
            tracker.set_response(event)
    (span,) = spans.named(f"chat {ANTHROPIC_MODEL}")
    assert usage(span) == {
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 1525,
        # message_start says 1 output token so far; message_delta's cumulative 104 wins
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 104,
        semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 64,
        semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 0,
        semconv.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: 1500,
        semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: 1500,
        semconv.CACHE_WRITE_1H_INPUT_TOKENS: 1000,
        semconv.GEN_AI_RESPONSE_MODEL: ANTHROPIC_MODEL,
        semconv.GEN_AI_RESPONSE_ID: "msg_demo000001",
        semconv.GEN_AI_RESPONSE_FINISH_REASONS: ("end_turn",),
        semconv.GEN_AI_REQUEST_STREAM: True,
    }


def test_anthropic_stream_helper_final_message(spans, anthropic_client):
    with track_llm_call(provider="anthropic", model=ANTHROPIC_MODEL) as tracker:
        with anthropic_client.messages.stream(
            model=ANTHROPIC_MODEL, max_tokens=256, system=SYSTEM, messages=QUESTION
        ) as stream:
            text = "".join(stream.text_stream)
            tracker.set_response(stream.get_final_message())
    assert text == "Done. Anything else?"
    (span,) = spans.named(f"chat {ANTHROPIC_MODEL}")
    assert usage(span)[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 1525
    assert usage(span)[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 40
    assert usage(span)[semconv.CACHE_WRITE_1H_INPUT_TOKENS] == 1000


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        pytest.param(
            {"usage": {"prompt_tokens": 10, "completion_tokens": 5}},
            {semconv.GEN_AI_USAGE_INPUT_TOKENS: 10, semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 5},
            id="openai-json",
        ),
        pytest.param(
            {
                "type": "message",
                "usage": {
                    "input_tokens": 3,
                    "output_tokens": 7,
                    "cache_read_input_tokens": 100,
                    "cache_creation": {
                        "ephemeral_5m_input_tokens": 20,
                        "ephemeral_1h_input_tokens": 30,
                    },
                },
            },
            {
                semconv.GEN_AI_USAGE_INPUT_TOKENS: 153,
                semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 7,
                semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 100,
                # only the TTL breakdown given: the writes are its sum
                semconv.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: 50,
                semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: 50,
                semconv.CACHE_WRITE_1H_INPUT_TOKENS: 30,
            },
            id="anthropic-json",
        ),
        pytest.param(
            {"prompt_tokens": 8, "completion_tokens": 2, "prompt_cache_hit_tokens": 6},
            {
                semconv.GEN_AI_USAGE_INPUT_TOKENS: 8,
                semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 2,
                semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 6,
            },
            id="deepseek-bare-usage",
        ),
        pytest.param({"type": "content_block_delta"}, {}, id="event-without-usage"),
    ],
)
def test_plain_json_is_read_too(spans, response, expected):
    with track_llm_call(provider="openai", model="m") as tracker:
        tracker.set_response(response)
    (span,) = spans.named("chat m")
    assert usage(span) == expected


def test_a_non_response_is_a_warning(spans):
    with track_llm_call(provider="openai", model="m") as tracker:
        with pytest.warns(BotanuWarning, match="set_tokens"):
            tracker.set_response("1200 tokens")
    (span,) = spans.named("chat m")
    assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in attrs(span)


def test_one_hour_writes_are_a_part_of_the_writes(spans):
    with track_llm_call(provider="anthropic", model="m") as tracker:
        tracker.set_tokens(input_tokens=100, cache_write_tokens=60, cache_write_1h_tokens=40)
    with track_llm_call(provider="anthropic", model="n") as tracker:
        with pytest.warns(BotanuWarning, match="part of the cache writes"):
            tracker.set_tokens(input_tokens=100, cache_write_tokens=10, cache_write_1h_tokens=40)
    (good,) = spans.named("chat m")
    (bad,) = spans.named("chat n")
    assert attrs(good)[semconv.CACHE_WRITE_1H_INPUT_TOKENS] == 40
    assert semconv.CACHE_WRITE_1H_INPUT_TOKENS not in attrs(bad)
